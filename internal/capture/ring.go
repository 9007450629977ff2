package capture

import (
	"sync/atomic"
)

// Ring is a bounded multi-producer, single-consumer queue of packet
// records (Dmitry Vyukov's bounded queue: each slot carries a sequence
// number that says whose turn it is). Producers are PMDs and the non-PMD
// executor: Put never blocks and never allocates; when the ring is full
// the record is dropped and counted. The one consumer is the goroutine
// that streams records to the client.
//
// The records' bytes are one Go heap slice made with the ring: a capture
// is rare and short-lived, and heap memory cannot be unmapped under a
// producer that is late to see the capture stop.
type Ring struct {
	slots   []slot
	data    []byte
	slotCap int // bytes of packet data a slot holds
	mask    uint64

	_    [64]byte // producers' cache line apart from the consumer's
	head atomic.Uint64
	_    [56]byte
	tail uint64 // consumer only

	dropped atomic.Uint64
}

type slot struct {
	seq     atomic.Uint64
	ts      int64
	origLen uint32
	capLen  uint32
	dir     Direction
}

// Record is one captured packet as the consumer reads it.
type Record struct {
	TimeNs  int64 // unix ns
	OrigLen int   // the packet's length on the wire
	Dir     Direction
	Data    []byte // the first min(OrigLen, snap length) bytes
}

// NewRing returns a ring of n slots (rounded up to a power of two, at
// least 2) of slotCap bytes each.
func NewRing(n, slotCap int) *Ring {
	size := 2
	for size < n {
		size <<= 1
	}
	r := &Ring{
		slots:   make([]slot, size),
		data:    make([]byte, size*slotCap),
		slotCap: slotCap,
		mask:    uint64(size - 1),
	}
	for i := range r.slots {
		r.slots[i].seq.Store(uint64(i))
	}
	return r
}

// SlotCap returns the most packet bytes a record keeps.
func (r *Ring) SlotCap() int { return r.slotCap }

// Put copies up to snap bytes of pkt into a free slot. It reports false,
// and counts a drop, when the ring is full.
func (r *Ring) Put(pkt []byte, snap int, ts int64, dir Direction) bool {
	pos := r.head.Load()
	var s *slot
	for {
		s = &r.slots[pos&r.mask]
		d := int64(s.seq.Load() - pos)
		if d == 0 && r.head.CompareAndSwap(pos, pos+1) {
			break
		}
		if d < 0 { // the consumer has not freed this slot: full
			r.dropped.Add(1)
			return false
		}
		pos = r.head.Load() // another producer took pos
	}
	n := min(len(pkt), snap, r.slotCap)
	off := int(pos&r.mask) * r.slotCap
	copy(r.data[off:off+n], pkt)
	s.ts, s.origLen, s.capLen, s.dir = ts, uint32(len(pkt)), uint32(n), dir
	s.seq.Store(pos + 1)
	return true
}

// Get returns the oldest record, or false when there is none ready. The
// record's Data is valid until Release.
func (r *Ring) Get() (Record, bool) {
	s := &r.slots[r.tail&r.mask]
	if s.seq.Load() != r.tail+1 {
		return Record{}, false
	}
	off := int(r.tail&r.mask) * r.slotCap
	return Record{TimeNs: s.ts, OrigLen: int(s.origLen), Dir: s.dir, Data: r.data[off : off+int(s.capLen)]}, true
}

// Release frees the record Get returned last.
func (r *Ring) Release() {
	s := &r.slots[r.tail&r.mask]
	s.seq.Store(r.tail + r.mask + 1)
	r.tail++
}

// Dropped returns how many records did not fit.
func (r *Ring) Dropped() uint64 { return r.dropped.Load() }
