package vhost

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/govs/govs/internal/packet"
	"golang.org/x/sys/unix"
)

// MaxQueuePairs is the most queue pairs a Device serves.
const MaxQueuePairs = 64

// Config is what a Device offers the front-end.
type Config struct {
	QueuePairs int // offered queue pairs (GET_QUEUE_NUM), 1..MaxQueuePairs
	MTU        int // offered with VIRTIO_NET_F_MTU when > 0
}

// Info is a Device's state for Interface.status.
type Info struct {
	Connected        bool
	Features         uint64 // negotiated
	ProtocolFeatures uint64 // negotiated
	QueuePairs       int    // pairs with both rings running
	MTU              int    // set by the front-end (NET_SET_MTU), 0 = none
	LastError        error
}

// ringConfig is what the front-end told us about one virtqueue; only the
// control goroutine touches it (under Device.mu).
type ringConfig struct {
	num     uint32
	addr    VringAddr
	addrSet bool
	kickFD  int
	callFD  int
	errFD   int
	started bool // kicked since set up, not stopped by GET_VRING_BASE
	enabled bool // SET_VRING_ENABLE
}

// Device is one vhost-user back-end: its queues outlive connections, so a
// front-end may disconnect and reconnect while the switch keeps polling.
type Device struct {
	cfg Config
	rxq []*RxQueue // guest TX rings
	txq []*txRing  // guest RX rings

	// txActive lists the pairs whose guest RX ring runs; Send maps its
	// qid onto them. Published by the control goroutine.
	txActive atomic.Pointer[[]uint16]
	link     atomic.Bool

	faultIdx atomic.Int32 // index in faultErrors of the first datapath fault
	faultCh  chan struct{}
	// memBroken: the guest memory faulted (fault.go); until the next
	// front-end, nothing touches it.
	memBroken          atomic.Bool
	faultGPA, faultUVA atomic.Uint64 // where, for the error

	// OnChange, if set before the first Serve, is called (from the
	// control goroutine, without locks held) when the link goes up or down.
	OnChange func()

	mu       sync.Mutex // everything below
	conn     *net.UnixConn
	closed   bool
	features uint64
	proto    uint64
	mtu      int
	mem      *memTable
	retired  []retiredMem
	rings    []ringConfig // 2 per pair: even = guest RX (txq), odd = guest TX (rxq)
	lastErr  error
}

// retiredMem is a memory table waiting for the receive queues' PMDs to
// drop the Buffers that may point into it.
type retiredMem struct {
	mem    *memTable
	passes []uint32 // per rxq gate passes at retirement; ^0: held nothing
}

// NewDevice returns a Device with cfg.QueuePairs queue pairs, waiting for
// a front-end (Serve).
func NewDevice(cfg Config) (*Device, error) {
	if cfg.QueuePairs < 1 || cfg.QueuePairs > MaxQueuePairs {
		return nil, fmt.Errorf("vhost: %d queue pairs, want 1..%d", cfg.QueuePairs, MaxQueuePairs)
	}
	d := &Device{cfg: cfg, faultCh: make(chan struct{}, 1), rings: make([]ringConfig, 2*cfg.QueuePairs)}
	for i := range d.rings {
		d.rings[i] = ringConfig{kickFD: -1, callFD: -1, errFD: -1}
	}
	for i := range cfg.QueuePairs {
		q := &RxQueue{dev: d, id: i, hdrLen: 12}
		q.ring.callFD = -1
		var err error
		if q.pool, err = packet.NewPool(packet.BatchSize); err != nil {
			d.Close()
			return nil, err
		}
		for s := range q.frames {
			var b packet.Buffer
			q.pool.Get(&b)
			q.frames[s] = b.Frame()
		}
		d.rxq = append(d.rxq, q)
		t := &txRing{dev: d, hdrLen: 12}
		t.ring.callFD = -1
		d.txq = append(d.txq, t)
	}
	return d, nil
}

// RxQueues returns one receive queue per queue pair.
func (d *Device) RxQueues() []*RxQueue { return d.rxq }

// QueuePairs returns the number of queue pairs offered.
func (d *Device) QueuePairs() int { return d.cfg.QueuePairs }

// LinkUp reports whether the front-end runs at least one queue pair.
func (d *Device) LinkUp() bool { return d.link.Load() }

// Send copies b's packets into the guest's receive ring of queue pair
// qid (mapped onto a running pair when that one is not) and returns how
// many it accepted. Callers sharing a qid serialise, as netdev states;
// two qids mapped onto one ring are serialised by its gate.
func (d *Device) Send(qid int, b *packet.Batch) int {
	act := d.txActive.Load()
	if act == nil || len(*act) == 0 {
		d.txq[qid%len(d.txq)].dropped.Add(uint64(b.Len()))
		return 0
	}
	a := *act
	return d.txq[a[qid%len(a)]].send(b)
}

// Stats sums the queues' counters: rx* for what the guest sent us, tx*
// for what we put in its receive rings.
func (d *Device) Stats() (rxPackets, rxBytes, rxDropped, rxErrors, txPackets, txBytes, txDropped, txErrors uint64) {
	for _, q := range d.rxq {
		rxPackets += q.packets.Load()
		rxBytes += q.bytes.Load()
		rxDropped += q.dropped.Load()
		rxErrors += q.errors.Load()
	}
	for _, t := range d.txq {
		txPackets += t.packets.Load()
		txBytes += t.bytes.Load()
		txDropped += t.dropped.Load()
		txErrors += t.errors.Load()
	}
	return
}

// Info returns the negotiated state.
func (d *Device) Info() Info {
	d.mu.Lock()
	defer d.mu.Unlock()
	inf := Info{Connected: d.conn != nil, Features: d.features, ProtocolFeatures: d.proto,
		MTU: d.mtu, LastError: d.lastErr}
	for i := range d.rxq {
		if d.rxq[i].gate.running() && d.txq[i].gate.running() {
			inf.QueuePairs++
		}
	}
	return inf
}

// ErrBusy is returned by Serve when another front-end is connected.
var ErrBusy = errors.New("vhost-user: a front-end is already connected")

// errClosed is returned by Serve on a closed Device.
var errClosed = errors.New("vhost-user: device closed")

// Serve speaks the protocol on c until the front-end disconnects, sends
// something wrong, or the datapath finds its rings broken; then it resets
// the device and closes c. It returns nil for a clean disconnect.
func (d *Device) Serve(c *net.UnixConn) error {
	d.mu.Lock()
	if d.closed || d.conn != nil {
		d.mu.Unlock()
		c.Close()
		if d.closed {
			return errClosed
		}
		return ErrBusy
	}
	d.conn = c
	d.faultIdx.Store(0)
	d.memBroken.Store(false)
	select {
	case <-d.faultCh:
	default:
	}
	d.mu.Unlock()

	done := make(chan struct{})
	go func() {
		select {
		case <-d.faultCh:
			c.Close() // unblocks the read below
		case <-done:
		}
	}()
	err := d.serve(c)
	close(done)
	if i := d.faultIdx.Load(); i > 0 {
		err = d.faultError(i)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) && d.isClosed() {
		err = nil
	}
	d.mu.Lock()
	d.resetLocked()
	d.conn = nil
	if err != nil {
		d.lastErr = err
	}
	d.mu.Unlock()
	c.Close()
	d.changed()
	go d.reclaimLater()
	return err
}

func (d *Device) serve(c *net.UnixConn) error {
	r := newReader(c)
	for {
		m, err := r.read()
		if err != nil {
			return err
		}
		d.mu.Lock()
		wasUp := d.link.Load()
		reply, herr := d.handle(m)
		var refused *refusedError
		if errors.As(herr, &refused) {
			d.lastErr = herr // before the reply: the front-end may look next
		}
		ack := reply == nil && m.NeedReply() && d.proto&ProtoReplyAck != 0
		d.reclaimLocked()
		d.mu.Unlock()
		m.closeFDs()
		if wasUp != d.link.Load() {
			d.changed()
		}
		switch {
		case reply != nil:
			err = writeReply(c, m.Request, reply)
		case ack:
			var status uint64
			if herr != nil {
				status = 1
			}
			err = writeReply(c, m.Request, u64Bytes(status))
		}
		if herr != nil && refused == nil {
			return fmt.Errorf("%v: %w", m.Request, herr)
		}
		if err != nil {
			return err
		}
	}
}

func (d *Device) changed() {
	if d.OnChange != nil {
		d.OnChange()
	}
}

func (d *Device) isClosed() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closed
}

// faultErrors are the errors the datapath may report; fault stores an
// index so that reporting allocates nothing.
var faultErrors = []error{nil, ErrBadHead, ErrBadNext, ErrChainTooLong, ErrBadDescAddr,
	ErrBadIndirect, ErrNestedIndirect, ErrAvailRunaway, ErrDirection, errIndirectRefused,
	ErrGuestMemoryFault}

// fault is called by a PMD that found the guest's rings broken: the first
// fault ends the connection (Serve resets the device).
func (d *Device) fault(err error) {
	for i, e := range faultErrors {
		if e == err && i > 0 {
			if d.faultIdx.CompareAndSwap(0, int32(i)) {
				select {
				case d.faultCh <- struct{}{}:
				default:
				}
			}
			return
		}
	}
}

// Close stops the device: it ends the connection, if any, and unmaps the
// guest memory. The caller guarantees that no PMD polls the queues any
// more and that Serve has returned.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	if d.conn != nil {
		d.conn.Close()
	}
	d.resetLocked()
	for _, r := range d.retired {
		r.mem.unmap()
	}
	d.retired = nil
	for _, q := range d.rxq {
		if q.pool != nil {
			q.pool.Close()
			q.pool = nil
		}
	}
	return nil
}

// reclaimLater unmaps retired memory once the PMDs let go of it.
func (d *Device) reclaimLater() {
	for range 2000 {
		d.mu.Lock()
		d.reclaimLocked()
		n := len(d.retired)
		d.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (d *Device) reclaimLocked() {
	keep := d.retired[:0]
	for _, r := range d.retired {
		free := true
		for i, q := range d.rxq {
			if r.passes[i] != ^uint32(0) && q.gate.passes() == r.passes[i] {
				free = false
			}
		}
		if free {
			r.mem.unmap()
		} else {
			keep = append(keep, r)
		}
	}
	d.retired = keep
}

// retireMemLocked takes the memory table out of use; all rings are stopped.
func (d *Device) retireMemLocked() {
	if d.mem == nil {
		return
	}
	r := retiredMem{mem: d.mem, passes: make([]uint32, len(d.rxq))}
	for i, q := range d.rxq {
		r.passes[i] = ^uint32(0)
		if q.ring.mem == d.mem && q.lent {
			r.passes[i] = q.gate.passes()
		}
		q.lent = false
		q.ring.mem = nil
	}
	for _, t := range d.txq {
		t.ring.mem = nil
	}
	d.mem = nil
	d.retired = append(d.retired, r)
}

// resetLocked returns the device to its state before any message: rings
// stopped, fds closed, memory retired, nothing negotiated.
func (d *Device) resetLocked() {
	for i := range d.rings {
		d.stopRingLocked(i)
		rc := &d.rings[i]
		for _, fd := range []int{rc.kickFD, rc.callFD, rc.errFD} {
			if fd >= 0 {
				unix.Close(fd)
			}
		}
		*rc = ringConfig{kickFD: -1, callFD: -1, errFD: -1}
		d.vring(i).callFD = -1
		d.vring(i).lastAvail, d.vring(i).usedIdx = 0, 0
	}
	d.retireMemLocked()
	d.features, d.proto, d.mtu = 0, 0, 0
	d.publishLocked()
}
