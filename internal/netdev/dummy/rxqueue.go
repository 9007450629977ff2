package dummy

import (
	"sync"

	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/packet"
)

// rxQueue is one receive queue: a FIFO of frames of its own pool. Inject
// copies into a free frame; Recv hands frames out and takes back, on the
// next Recv, those it handed out the time before (the netdev contract).
type rxQueue struct {
	id int

	mu      sync.Mutex
	pool    *packet.Pool // +checklocks:mu
	fifo    []packet.Buffer
	head    int
	n       int
	lent    [packet.BatchSize]packet.Buffer // frames handed out by the last Recv
	nlent   int
	pcap    *pcapIn // refills the FIFO when it runs dry
	packets uint64
	bytes   uint64
	dropped uint64
}

type rxStats struct{ packets, bytes, dropped uint64 }

var _ netdev.RxQueue = (*rxQueue)(nil)

func newRxQueue(id int) (*rxQueue, error) {
	pool, err := packet.NewPool(rxFramesPerQ + packet.BatchSize)
	if err != nil {
		return nil, err
	}
	return &rxQueue{id: id, pool: pool, fifo: make([]packet.Buffer, rxFramesPerQ)}, nil
}

// ID implements netdev.RxQueue.
func (q *rxQueue) ID() int { return q.id }

// inject copies pkt to the tail of the FIFO.
func (q *rxQueue) inject(pkt []byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.injectLocked(pkt)
}

func (q *rxQueue) injectLocked(pkt []byte) error {
	if q.pool == nil {
		return errClosedDev
	}
	if len(pkt) > maxInjectLength {
		q.dropped++
		return ErrTooLong
	}
	if q.n == len(q.fifo) {
		q.dropped++
		return ErrRxFull
	}
	b := &q.fifo[(q.head+q.n)%len(q.fifo)]
	if err := q.pool.Get(b); err != nil {
		q.dropped++
		return ErrRxFull
	}
	b.SetLen(len(pkt))
	copy(b.Data(), pkt)
	q.n++
	return nil
}

// Recv implements netdev.RxQueue.
func (q *rxQueue) Recv(b *packet.Batch) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	b.Clear()
	if q.pool == nil {
		return 0, errClosedDev
	}
	for i := range q.nlent {
		q.pool.Put(&q.lent[i])
	}
	q.nlent = 0
	if q.n == 0 && q.pcap != nil {
		q.refillFromPcap()
	}
	n := min(q.n, packet.BatchSize)
	for i := range n {
		f := &q.fifo[q.head]
		q.lent[i] = *f
		s := b.Slot(i)
		*s = *f
		q.packets++
		q.bytes += uint64(f.Len)
		q.head = (q.head + 1) % len(q.fifo)
	}
	q.n -= n
	q.nlent = n
	b.SetCount(n)
	return n, nil
}

// refillFromPcap moves up to a batch of packets from the pcap file to the
// FIFO; at end of file the file is closed and the queue stays empty.
func (q *rxQueue) refillFromPcap() {
	for range packet.BatchSize {
		data, ok := q.pcap.next()
		if !ok {
			q.pcap.close()
			q.pcap = nil
			return
		}
		if q.injectLocked(data) != nil {
			return
		}
	}
}

func (q *rxQueue) pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

func (q *rxQueue) stats() rxStats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return rxStats{q.packets, q.bytes, q.dropped}
}

func (q *rxQueue) close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	var err error
	if q.pcap != nil {
		err = q.pcap.close()
		q.pcap = nil
	}
	if q.pool != nil {
		if cerr := q.pool.Close(); err == nil {
			err = cerr
		}
		q.pool = nil
	}
	return err
}
