package vhost

import (
	"encoding/binary"
	"errors"
	"unsafe"

	"github.com/govs/govs/internal/packet"
	"github.com/govs/govs/internal/prefetch"
	"golang.org/x/sys/unix"
)

// Split virtqueue layout (VIRTIO 1.1 §2.6), all little-endian:
//
//	descriptor table: num × {addr u64, len u32, flags u16, next u16}
//	avail ring:       flags u16, idx u16, ring[num] u16, used_event u16
//	used ring:        flags u16, idx u16, ring[num] {id u32, len u32}, avail_event u16
const (
	descSize = 16

	descFNext     = 1
	descFWrite    = 2
	descFIndirect = 4

	availFNoInterrupt = 1
	usedFNoNotify     = 1

	maxQueueSize = 32768
)

// Errors met while walking a ring. Each marks the device broken: the
// front-end gave us something a correct driver never does.
var (
	ErrBadHead         = errors.New("virtqueue: descriptor head out of range")
	ErrBadNext         = errors.New("virtqueue: descriptor next out of range")
	ErrChainTooLong    = errors.New("virtqueue: descriptor chain longer than the queue (loop?)")
	ErrBadDescAddr     = errors.New("virtqueue: descriptor outside guest memory")
	ErrBadIndirect     = errors.New("virtqueue: bad indirect descriptor table")
	ErrNestedIndirect  = errors.New("virtqueue: nested indirect descriptor")
	ErrAvailRunaway    = errors.New("virtqueue: avail idx ahead by more than the queue size")
	ErrDirection       = errors.New("virtqueue: descriptor of the wrong direction")
	ErrBadRingAddr     = errors.New("virtqueue: ring outside guest memory or misaligned")
	ErrBadQueueSize    = errors.New("virtqueue: queue size not a power of two in 1..32768")
	errIndirectRefused = errors.New("virtqueue: indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC")
)

// vring is one split virtqueue as the PMD sees it. The fields are set by
// the control goroutine while the ring's gate is stopped and only read by
// the PMD, except lastAvail and usedIdx, which the PMD owns while running.
type vring struct {
	num   uint16
	desc  []byte // num*16 bytes
	avail []byte // 8+2*num bytes (used_event padded to a word)
	used  []byte // 8+8*num bytes
	mem   *memTable

	eventIdx bool
	indirect bool
	callFD   int // -1: none

	lastAvail uint16 // next avail entry to take
	usedIdx   uint16 // our used->idx

	// prefetch addresses: scratch space the PMD owns (zeroing a local
	// array of them cost more than the prefetches of a small batch)
	pf [packet.BatchSize]uintptr
}

// setup translates the ring addresses (front-end user addresses) and
// checks what the PMD will rely on: sizes, bounds and word alignment.
func (r *vring) setup(mem *memTable, num uint32, a VringAddr) error {
	if num == 0 || num > maxQueueSize || num&(num-1) != 0 {
		return ErrBadQueueSize
	}
	var ok1, ok2, ok3 bool
	r.desc, ok1 = mem.uva(a.Desc, uint64(num)*descSize)
	r.avail, ok2 = mem.uva(a.Avail, 8+2*uint64(num))
	r.used, ok3 = mem.uva(a.Used, 8+8*uint64(num))
	if !ok1 || !ok2 || !ok3 || !aligned4(r.avail) || !aligned4(r.used) || a.Desc%descSize != 0 {
		r.desc, r.avail, r.used = nil, nil, nil
		return ErrBadRingAddr
	}
	r.num = uint16(num)
	r.mem = mem
	return nil
}

func (r *vring) availIdx() uint16   { return uint16(word(r.avail, 0).Load() >> 16) }
func (r *vring) availFlags() uint16 { return uint16(word(r.avail, 0).Load()) }
func (r *vring) usedEvent() uint16  { return uint16(word(r.avail, 4+2*int(r.num)).Load()) }

// availEntry returns the head index the driver put at avail slot i.
func (r *vring) availEntry(i uint16) uint16 {
	return binary.LittleEndian.Uint16(r.avail[4+2*int(i&(r.num-1)):])
}

// prefetchHeads starts loading the head descriptors of the next n avail
// entries (n <= packet.BatchSize), all at once. The guest has just written
// them on another CPU, so each is a cache miss; walking the chains one by
// one would take those misses in turn (avail entry, then descriptor), now
// they overlap. The entries are read again, and checked, by whoever takes
// them: a prefetch is only a hint, so a head out of range is masked here
// and refused there.
func (r *vring) prefetchHeads(n uint16) {
	n = min(n, packet.BatchSize)
	if n < 2 { // one miss has nothing to overlap with
		return
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(r.desc)))
	for i := range n {
		r.pf[i] = base + uintptr(r.availEntry(r.lastAvail+i)&(r.num-1))*descSize
	}
	prefetch.Lines(r.pf[:n])
}

// prefetchBuffers starts loading the first buffer of the next n avail
// chains, whose head descriptors prefetchHeads asked for: reading those
// descriptors here waits about one miss for all of them. The transmit side
// calls it: it writes every buffer, and a write to a line the guest holds
// is a miss too, one per packet when taken in turn.
func (r *vring) prefetchBuffers(n uint16) {
	n = min(n, packet.BatchSize)
	m := 0
	for i := range n {
		h := r.availEntry(r.lastAvail + i)
		if h >= r.num {
			continue
		}
		addr := binary.LittleEndian.Uint64(r.desc[int(h)*descSize:])
		if b, ok := r.mem.gpa(addr, 1); ok {
			r.pf[m] = uintptr(unsafe.Pointer(&b[0]))
			m++
		}
	}
	prefetch.Lines(r.pf[:m])
}

// readUsedIdx reads used->idx as the guest last saw it (ring start).
func (r *vring) readUsedIdx() uint16 { return uint16(word(r.used, 0).Load() >> 16) }

// putUsed writes used slot usedIdx+k; the guest sees it only after
// publishUsed.
func (r *vring) putUsed(k uint16, id uint16, n uint32) {
	e := r.used[4+8*int((r.usedIdx+k)&(r.num-1)):]
	binary.LittleEndian.PutUint32(e, uint32(id))
	binary.LittleEndian.PutUint32(e[4:], n)
}

// publishUsed makes n more used entries visible with one store of
// used->idx and interrupts the guest at most once, if it wants to be.
func (r *vring) publishUsed(n uint16) {
	old := r.usedIdx
	r.usedIdx += n
	var flags uint32
	if !r.eventIdx {
		flags = usedFNoNotify
	}
	// The store is sequentially consistent: the entries written before it
	// are visible first, and the loads of the guest's suppression fields
	// below cannot move above it (the store-load barrier virtio needs).
	word(r.used, 0).Store(uint32(r.usedIdx)<<16 | flags)
	if r.wantsInterrupt(old, r.usedIdx) {
		r.notify()
	}
}

func (r *vring) wantsInterrupt(old, new uint16) bool {
	if r.callFD < 0 {
		return false
	}
	if r.eventIdx {
		// vring_need_event: notify if used_event is in [old, new).
		return new-r.usedEvent()-1 < new-old
	}
	return r.availFlags()&availFNoInterrupt == 0
}

var eventfdOne = [8]byte{1}

func (r *vring) notify() { unix.Write(r.callFD, eventfdOne[:]) }

// chain walks one descriptor chain, following NEXT and at most one
// indirect table, bounded so that a looping chain ends with an error.
// Descriptors are copied out of guest memory once, then checked, so a
// guest rewriting them meanwhile cannot pass a check with one value and
// use another.
type chain struct {
	r        *vring
	table    []byte // the ring's descriptor table or an indirect one
	n        uint32 // entries in table
	i        uint32 // next entry
	more     bool
	hops     uint32
	indirect bool
}

func (c *chain) start(r *vring, head uint16) error {
	if head >= r.num {
		return ErrBadHead
	}
	*c = chain{r: r, table: r.desc, n: uint32(r.num), i: uint32(head), more: true}
	return nil
}

// next returns the next buffer of the chain and whether the device may
// write it; ok is false at the end of the chain.
func (c *chain) next() (buf []byte, write, ok bool, err error) {
	for c.more {
		if c.hops >= c.n {
			return nil, false, false, ErrChainTooLong
		}
		c.hops++
		d := c.table[c.i*descSize : c.i*descSize+descSize]
		addr := binary.LittleEndian.Uint64(d)
		n := binary.LittleEndian.Uint32(d[8:])
		flags := binary.LittleEndian.Uint16(d[12:])
		nx := binary.LittleEndian.Uint16(d[14:])
		if flags&descFIndirect != 0 {
			if err := c.enterIndirect(addr, n, flags); err != nil {
				return nil, false, false, err
			}
			continue
		}
		b, inMem := c.r.mem.gpa(addr, n)
		if !inMem {
			return nil, false, false, ErrBadDescAddr
		}
		if flags&descFNext != 0 {
			if uint32(nx) >= c.n {
				return nil, false, false, ErrBadNext
			}
			c.i = uint32(nx)
		} else {
			c.more = false
		}
		return b, flags&descFWrite != 0, true, nil
	}
	return nil, false, false, nil
}

// enterIndirect switches the walk to an indirect table (VIRTIO 1.1
// §2.6.5.3): a whole number of descriptors, at most the queue size, in
// guest memory, not itself chained or nested.
func (c *chain) enterIndirect(addr uint64, n uint32, flags uint16) error {
	switch {
	case !c.r.indirect:
		return errIndirectRefused
	case c.indirect:
		return ErrNestedIndirect
	case flags&descFNext != 0 || n == 0 || n%descSize != 0 || n/descSize > uint32(c.r.num):
		return ErrBadIndirect
	}
	t, ok := c.r.mem.gpa(addr, n)
	if !ok {
		return ErrBadIndirect
	}
	c.table, c.n, c.i, c.hops, c.indirect = t, n/descSize, 0, 0, true
	return nil
}
