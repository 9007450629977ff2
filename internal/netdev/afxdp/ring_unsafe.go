package afxdp

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ring is what the four AF_XDP rings share: a mapping with a producer and a
// consumer index the kernel and we advance, a flags word (need_wakeup), and
// a power-of-two array of entries. We cache the other side's index and
// publish our own once per batch, so a batch costs two atomic operations
// rather than two per packet.
type ring struct {
	mem      []byte
	producer *uint32
	consumer *uint32
	flags    *uint32
	entries  unsafe.Pointer
	mask     uint32
	size     uint32

	// Only we update these; they are the kernel's view once published.
	cachedProd uint32
	cachedCons uint32
}

// mapRing maps one ring of fd. entrySize is 8 (addresses) or 16
// (descriptors).
func mapRing(fd int, pgoff int64, off unix.XDPRingOffset, size uint32, entrySize uintptr) (ring, error) {
	n := int(off.Desc) + int(size)*int(entrySize)
	mem, err := unix.Mmap(fd, pgoff, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return ring{}, fmt.Errorf("mmap ring: %w", err)
	}
	base := unsafe.Pointer(&mem[0])
	return ring{
		mem:      mem,
		producer: (*uint32)(unsafe.Add(base, off.Producer)),
		consumer: (*uint32)(unsafe.Add(base, off.Consumer)),
		flags:    (*uint32)(unsafe.Add(base, off.Flags)),
		entries:  unsafe.Add(base, off.Desc),
		mask:     size - 1,
		size:     size,
	}, nil
}

func (r *ring) unmap() error {
	if r.mem == nil {
		return nil
	}
	err := unix.Munmap(r.mem)
	*r = ring{}
	return err
}

// needWakeup reports whether the kernel asked to be kicked (XDP_USE_NEED_WAKEUP).
func (r *ring) needWakeup() bool {
	return atomic.LoadUint32(r.flags)&unix.XDP_RING_NEED_WAKEUP != 0
}

// free returns how many entries a producer ring can take, refreshing the
// cached consumer index only when the cache says there is not enough room.
func (r *ring) free(want uint32) uint32 {
	n := r.size - (r.cachedProd - r.cachedCons)
	if n >= want {
		return n
	}
	r.cachedCons = atomic.LoadUint32(r.consumer)
	return r.size - (r.cachedProd - r.cachedCons)
}

// publish makes the produced entries visible to the kernel.
func (r *ring) publish() { atomic.StoreUint32(r.producer, r.cachedProd) }

// available returns how many entries a consumer ring holds for us.
func (r *ring) available() uint32 {
	n := r.cachedProd - r.cachedCons
	if n == 0 {
		r.cachedProd = atomic.LoadUint32(r.producer)
		n = r.cachedProd - r.cachedCons
	}
	return n
}

// release gives n consumed entries back to the kernel.
func (r *ring) release(n uint32) {
	r.cachedCons += n
	atomic.StoreUint32(r.consumer, r.cachedCons)
}

func (r *ring) addr(i uint32) *uint64 {
	return (*uint64)(unsafe.Add(r.entries, uintptr(i&r.mask)*8))
}

func (r *ring) desc(i uint32) *unix.XDPDesc {
	return (*unix.XDPDesc)(unsafe.Add(r.entries, uintptr(i&r.mask)*unsafe.Sizeof(unix.XDPDesc{})))
}
