package vhost

import (
	"encoding/binary"
	"runtime/debug"
	"sync/atomic"

	"github.com/govs/govs/internal/packet"
)

// RxQueue receives what the guest transmits: the guest's transmit ring of
// one queue pair (virtqueue 2*ID+1).
//
// Receive flow, per Recv:
//
//  1. Return the chains handed out by the previous Recv to the guest (one
//     used->idx store, at most one interrupt).
//  2. Read avail->idx once and take up to packet.BatchSize chains.
//  3. Per chain: skip the virtio_net_hdr; a packet in one descriptor is
//     handed out in place (ReadOnly), a scattered one is gathered into this
//     queue's frame for that batch slot. A chain that is too big for a
//     frame or empty is dropped and counted; a malformed one breaks the
//     device (Device.fault) and ends the batch.
type RxQueue struct {
	dev  *Device
	id   int
	gate gate
	ring vring // virtqueue 2*id+1

	hdrLen int // virtio_net_hdr size: 12 with VERSION_1 or MRG_RXBUF, else 10

	held   [packet.BatchSize]uint16 // heads handed out by the last Recv
	nheld  uint16
	frames [packet.BatchSize][]byte // gather frames, one per batch slot
	pool   *packet.Pool
	lent   bool // Buffers into guest memory were handed out (see Device.retireMemLocked)

	packets, bytes, dropped, errors atomic.Uint64
}

// ID implements netdev.RxQueue: the queue pair index.
func (q *RxQueue) ID() int { return q.id }

// Recv implements netdev.RxQueue. It never blocks; on a queue the
// front-end has not set up (or has stopped) it returns 0.
func (q *RxQueue) Recv(b *packet.Batch) (int, error) {
	b.Clear()
	if !q.gate.enter() {
		return 0, nil
	}
	cnt, drops, nbytes, err := q.takeBatch(b)
	q.gate.leave()
	if err != nil {
		q.dev.fault(err)
	}
	b.SetCount(cnt)
	if cnt > 0 {
		q.packets.Add(uint64(cnt))
		q.bytes.Add(uint64(nbytes))
	}
	if drops > 0 {
		q.dropped.Add(uint64(drops))
	}
	return cnt, nil
}

// takeBatch is Recv inside the gate: it returns the chains of the last
// Recv and takes the next batch into b's slots. A guest memory fault
// (fault.go) ends it with no packets: they may point into broken memory.
func (q *RxQueue) takeBatch(b *packet.Batch) (cnt, drops, nbytes int, err error) {
	defer func(pof bool) {
		debug.SetPanicOnFault(pof)
		if p := recover(); p != nil {
			err = q.dev.recovered(p)
			cnt, drops, nbytes = 0, 0, 0
		}
	}(debug.SetPanicOnFault(true))
	r := &q.ring
	if q.nheld > 0 {
		for k := range q.nheld {
			r.putUsed(k, q.held[k], 0)
		}
		r.publishUsed(q.nheld)
		q.nheld = 0
	}
	pending := r.availIdx() - r.lastAvail
	if pending > r.num {
		return 0, 0, 0, ErrAvailRunaway
	}
	n := min(pending, packet.BatchSize)
	r.prefetchHeads(n)
	for i := range n {
		head := r.availEntry(r.lastAvail + i)
		buf := b.Slot(cnt)
		var ok bool
		if ok, err = q.take(head, buf, cnt); err != nil {
			break
		}
		q.held[q.nheld] = head
		q.nheld++
		if ok {
			nbytes += buf.Len
			cnt++
		} else {
			drops++
		}
	}
	r.lastAvail += q.nheld
	return cnt, drops, nbytes, err
}

// take turns the chain at head into buf. It reports false for a packet
// dropped (empty, or scattered and too big for a frame).
func (q *RxQueue) take(head uint16, buf *packet.Buffer, slot int) (bool, error) {
	if data := q.single(head); data != nil {
		q.lend(buf, data, head)
		return true, nil
	}
	var c chain
	if err := c.start(&q.ring, head); err != nil {
		return false, err
	}
	skip := q.hdrLen
	var data []byte
	for {
		seg, write, ok, err := c.next()
		if err != nil {
			return false, err
		}
		if !ok {
			break
		}
		if write {
			return false, ErrDirection
		}
		if skip > 0 {
			if len(seg) <= skip {
				skip -= len(seg)
				continue
			}
			seg, skip = seg[skip:], 0
		}
		if len(seg) == 0 {
			continue
		}
		if data != nil {
			return q.gather(&c, data, seg, buf, slot)
		}
		data = seg
	}
	if len(data) == 0 {
		return false, nil
	}
	q.lend(buf, data, head)
	return true, nil
}

// single returns the packet of the chain at head when the chain is what
// a guest sends most: one device-readable descriptor holding the header
// and a non-empty packet. Anything else, valid or not, gives nil and is
// left to the chain walk, which checks and reports it. The descriptor is
// read once.
func (q *RxQueue) single(head uint16) []byte {
	r := &q.ring
	if head >= r.num {
		return nil
	}
	d := r.desc[int(head)*descSize : int(head)*descSize+descSize]
	n := binary.LittleEndian.Uint32(d[8:])
	if binary.LittleEndian.Uint16(d[12:])&(descFNext|descFWrite|descFIndirect) != 0 || n <= uint32(q.hdrLen) {
		return nil
	}
	b, ok := r.mem.gpa(binary.LittleEndian.Uint64(d), n)
	if !ok {
		return nil
	}
	return b[q.hdrLen:]
}

// lend hands out data, in guest memory, as buf until the next Recv.
func (q *RxQueue) lend(buf *packet.Buffer, data []byte, head uint16) {
	buf.Reset(data, 0, len(data))
	q.lent = true
	buf.Flags = packet.ReadOnly
	buf.Handle = uint64(head)
}

// gather copies a packet spread over several descriptors into the frame of
// batch slot slot: first and second are its first two pieces, c walks the
// rest.
func (q *RxQueue) gather(c *chain, first, second []byte, buf *packet.Buffer, slot int) (bool, error) {
	frame := q.frames[slot]
	room := frame[packet.Headroom:]
	n := copy(room, first)
	fits := n == len(first)
	seg := second
	for {
		if fits {
			m := copy(room[n:], seg)
			fits = m == len(seg)
			n += m
		}
		var write, ok bool
		var err error
		seg, write, ok, err = c.next()
		if err != nil {
			return false, err
		}
		if !ok {
			break
		}
		if write {
			return false, ErrDirection
		}
	}
	if !fits {
		return false, nil
	}
	buf.Reset(frame, packet.Headroom, n)
	return true, nil
}

// returnHeld gives the chains of the last Recv back to the guest. The
// control goroutine calls it with the gate stopped, when the ring stops.
func (q *RxQueue) returnHeld() {
	r := &q.ring
	if q.nheld == 0 || r.used == nil {
		q.nheld = 0
		return
	}
	for k := range q.nheld {
		r.putUsed(k, q.held[k], 0)
	}
	r.publishUsed(q.nheld)
	q.nheld = 0
}
