package vhost

import (
	"sync/atomic"
	"unsafe"
)

// word returns the 32-bit word at b[off:] for atomic access. The caller
// has checked that off+4 <= len(b) and that the address is 4-aligned.
//
// Virtio's indices are 16 bits wide and Go has no 16-bit atomics, so the
// rings are accessed a word at a time: avail {flags, idx}, used {flags,
// idx}, and the word starting with used_event. We are the only writer of
// the used ring's first word, so storing flags along with idx is safe.
func word(b []byte, off int) *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Pointer(&b[off]))
}

func aligned4(b []byte) bool { return uintptr(unsafe.Pointer(unsafe.SliceData(b)))&3 == 0 }
