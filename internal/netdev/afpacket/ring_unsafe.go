package afpacket

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The kernel and we hand ring slots to each other through status words
// in the mmap'd memory: those are read and written atomically (they are
// the synchronisation), the rest of a header is plain memory.

func status(mem []byte, off int) *uint32 { return (*uint32)(unsafe.Pointer(&mem[off])) }

func loadStatus(mem []byte, off int) uint32 { return atomic.LoadUint32(status(mem, off)) }

func storeStatus(mem []byte, off int, v uint32) { atomic.StoreUint32(status(mem, off), v) }

func blockHeader(mem []byte, off int) *unix.TpacketHdrV1 {
	// tpacket_block_desc: version, offset_to_priv, then the v1 header.
	return (*unix.TpacketHdrV1)(unsafe.Pointer(&mem[off+8]))
}

func frameHeader(mem []byte, off int) *unix.Tpacket3Hdr {
	return (*unix.Tpacket3Hdr)(unsafe.Pointer(&mem[off]))
}

// statusOffset is where tp_status sits in a tpacket3_hdr.
const statusOffset = int(unsafe.Offsetof(unix.Tpacket3Hdr{}.Status))

// blockStatusOffset is where block_status sits in a tpacket_block_desc.
const blockStatusOffset = 8
