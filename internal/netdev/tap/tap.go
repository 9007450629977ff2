// Package tap is the "tap" and "internal" port types: a Linux TAP device
// whose file descriptor we hold, so frames the kernel sends out of the
// interface are ours to read and frames we write appear as received by
// it. "internal" is the bridge's own port (named after the bridge, or any
// name OVS gives it): the same TAP, created and brought up, so the host
// can address the bridge.
//
// A TAP we create is not persistent: the kernel removes it when Close
// closes the descriptor. A TAP that already exists (ip tuntap add ...)
// is attached to and left in place.
//
// Receive reads into a fixed set of packet.BatchSize frames of a
// packet.Pool, with one non-blocking read per packet until the kernel has
// no more; the frames are reused by the next Recv, as the netdev contract
// allows. Transmit writes each packet. Packets longer than a Pool frame's
// room (packet.FrameSize - packet.Headroom) are dropped and counted.
package tap

import (
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/netdev/linux"
	"github.com/govs/govs/internal/packet"
	"golang.org/x/sys/unix"
)

// OVSDB Interface.type names this package serves.
const (
	TypeTap      = "tap"
	TypeInternal = "internal"
)

func init() {
	netdev.Register(TypeTap, func(s netdev.Spec) (netdev.Netdev, error) { return Open(s) })
	netdev.Register(TypeInternal, func(s netdev.Spec) (netdev.Netdev, error) { return Open(s) })
}

// Port is a TAP device with one receive and one transmit queue.
type Port struct {
	linux.Device
	typ     string
	created bool // we made the device; closing fd removes it

	mu sync.Mutex // Close against itself
	fd int

	rxq rxQueue
	txc linux.Counters
}

var _ netdev.Netdev = (*Port)(nil)

// Open creates the TAP s.Name, or attaches to an existing one, and brings
// it up. s.Type is "tap" or "internal".
func Open(s netdev.Spec) (*Port, error) {
	typ := s.Type
	if typ == "" {
		typ = TypeTap
	}
	_, err := linux.Lookup(s.Name)
	existed := err == nil
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &linux.DeviceError{Name: s.Name, Err: err}
	}
	ifr, err := unix.NewIfreq(s.Name)
	if err != nil {
		unix.Close(fd)
		return nil, &linux.DeviceError{Name: s.Name, Err: err}
	}
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		// EINVAL: the name belongs to a device that is not a TAP;
		// EBUSY: a TAP someone else holds.
		return nil, &linux.DeviceError{Name: s.Name, Err: err}
	}
	p := &Port{typ: typ, created: !existed, fd: fd}
	if err := p.setup(s); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func (p *Port) setup(s netdev.Spec) error {
	var err error
	if p.Device, err = linux.Lookup(s.Name); err != nil {
		return err
	}
	if err := p.Configure(s.MTU, s.MAC); err != nil {
		return err
	}
	if err := p.SetUp(); err != nil {
		return err
	}
	p.rxq.fd = p.fd
	p.rxq.pool, err = packet.NewPool(packet.BatchSize)
	if err != nil {
		return err
	}
	for i := range p.rxq.frames {
		var b packet.Buffer
		if err := p.rxq.pool.Get(&b); err != nil {
			return err
		}
		p.rxq.frames[i] = b.Frame()
	}
	return nil
}

// Type implements netdev.Netdev: "tap" or "internal".
func (p *Port) Type() string { return p.typ }

// RxQueues implements netdev.Netdev.
func (p *Port) RxQueues() []netdev.RxQueue { return []netdev.RxQueue{&p.rxq} }

// TxQueues implements netdev.Netdev.
func (p *Port) TxQueues() int { return 1 }

// Send implements netdev.Netdev: one write per packet. A full device
// queue (EAGAIN) drops the packet.
func (p *Port) Send(qid int, b *packet.Batch) int {
	sent, bytes, dropped, errs := 0, 0, 0, 0
	for _, pk := range b.Pkts {
		_, err := linux.WriteNonblock(p.fd, pk.Data())
		switch {
		case err == 0:
			sent++
			bytes += pk.Len
		case err == unix.EAGAIN || err == unix.ENOBUFS:
			dropped++
		default:
			errs++
		}
	}
	p.txc.Tx(sent, bytes, dropped+errs, errs)
	return sent
}

// Stats implements netdev.Netdev.
func (p *Port) Stats() netdev.Stats {
	var s netdev.Stats
	p.rxq.c.AddTo(&s)
	p.txc.AddTo(&s)
	return s
}

// Status implements netdev.Netdev.
func (p *Port) Status() map[string]string { return p.Device.Status() }

// MAC implements netdev.Netdev.
func (p *Port) MAC() net.HardwareAddr { return p.Device.MAC() }

// Close implements netdev.Netdev. Closing the descriptor removes a TAP we
// created; one that existed before stays.
func (p *Port) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var err error
	if p.fd >= 0 {
		err = unix.Close(p.fd)
		p.fd = -1
	}
	if p.rxq.pool != nil {
		err = errors.Join(err, p.rxq.pool.Close())
		p.rxq.pool = nil
	}
	if err != nil {
		return fmt.Errorf("%s: close: %w", p.Name(), err)
	}
	return nil
}

// rxQueue reads the TAP into its own frames.
type rxQueue struct {
	fd     int
	pool   *packet.Pool
	frames [packet.BatchSize][]byte
	c      linux.Counters
}

// ID implements netdev.RxQueue.
func (q *rxQueue) ID() int { return 0 }

// PollIsSyscall implements netdev.SyscallPoller: every Recv is a read().
func (q *rxQueue) PollIsSyscall() bool { return true }

// Recv implements netdev.RxQueue: reads until the device has nothing more
// or the batch is full. It never blocks.
func (q *rxQueue) Recv(b *packet.Batch) (int, error) {
	n, bytes, dropped := 0, 0, 0
	var err error
	for n < packet.BatchSize {
		f := q.frames[n]
		room := f[packet.Headroom:]
		k, rerr := linux.ReadNonblock(q.fd, room)
		if rerr != 0 {
			if rerr != unix.EAGAIN && rerr != unix.EINTR {
				err = fmt.Errorf("read tap: %w", rerr)
				q.c.RxError(1)
			}
			break
		}
		if k == len(room) {
			dropped++ // may have been cut short: longer than a frame
			continue
		}
		b.Slot(n).Reset(f, packet.Headroom, k)
		bytes += k
		n++
	}
	b.SetCount(n)
	q.c.Rx(n, bytes)
	if dropped != 0 {
		q.c.RxDrop(dropped)
	}
	return n, err
}
