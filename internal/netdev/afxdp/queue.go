package afxdp

import (
	"github.com/govs/govs/internal/netdev/linux"
	"github.com/govs/govs/internal/packet"
	"golang.org/x/sys/unix"
)

// queue is one rx queue of the device and the socket bound to it; the
// socket's TX ring is the port's tx queue of the same index.
//
// Receive: frames handed out by the previous Recv go back on the fill
// ring (one publish), then up to a batch of RX descriptors become
// Buffers pointing into the UMEM. Nothing is copied.
//
// Transmit: completed frames are reaped onto the free list, each packet is
// copied into a free frame and described on the TX ring, the ring is
// published once, and the kernel is kicked with sendto only if it set
// need_wakeup (always, in copy mode).
type queue struct {
	id int
	s  *xsk

	held []uint64 // rx frames handed out by the last Recv; only the rx PMD
	free []uint64 // tx frames not on the TX or completion ring; only the tx user

	rxc, txc linux.Counters
}

func newQueue(id int, s *xsk) *queue {
	q := &queue{id: id, s: s, held: make([]uint64, 0, packet.BatchSize)}
	q.free = txFrameAddrs()
	return q
}

// ID implements netdev.RxQueue.
func (q *queue) ID() int { return q.id }

// Recv implements netdev.RxQueue. It never blocks.
func (q *queue) Recv(b *packet.Batch) (int, error) {
	s := q.s
	if len(q.held) != 0 {
		// There are exactly as many rx frames as fill ring entries, so
		// the ring always has room for the ones we give back.
		s.fill.put(q.held)
		q.held = q.held[:0]
	}
	start, n := s.rx.peek(packet.BatchSize)
	if n == 0 {
		b.Clear()
		if s.fill.needWakeup() {
			kickRx(s.fd)
		}
		return 0, nil
	}
	bytes := 0
	for i := range n {
		d := s.rx.get(start + i)
		frame, off := s.frame(d.Addr)
		p := b.Slot(int(i))
		p.Reset(frame, off, int(d.Len))
		p.Handle = d.Addr - uint64(off)
		q.held = append(q.held, p.Handle)
		bytes += int(d.Len)
	}
	s.rx.release(n)
	b.SetCount(int(n))
	q.rxc.Rx(int(n), bytes)
	return int(n), nil
}

// send implements Port.Send for this queue's socket.
func (q *queue) send(b *packet.Batch) int {
	s := q.s
	q.free = s.comp.reap(q.free)
	room := s.tx.free(uint32(len(b.Pkts)))
	var n uint32
	bytes, dropped := 0, 0
	for _, p := range b.Pkts {
		if p.Len > maxTxLen || n == room || len(q.free) == 0 {
			dropped++
			continue
		}
		addr := q.free[len(q.free)-1]
		q.free = q.free[:len(q.free)-1]
		copy(s.umem[addr:addr+FrameSize], p.Data())
		s.tx.set(n, unix.XDPDesc{Addr: addr, Len: uint32(p.Len)})
		n++
		bytes += p.Len
	}
	if n != 0 {
		s.tx.commit(n)
	}
	errs := 0
	if len(q.free) < txFrames && s.tx.needWakeup() {
		switch e := kickTx(s.fd); e {
		case 0, unix.EAGAIN, unix.EBUSY, unix.ENOBUFS, unix.EINTR:
			// Sent, or the kernel will take the rest on the next kick.
		default:
			errs = 1
		}
	}
	q.txc.Tx(int(n), bytes, dropped, errs)
	return int(n)
}
