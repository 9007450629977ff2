package afpacket

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

// TypeName is the OVSDB Interface.type this package serves.
const TypeName = "system"

func init() {
	netdev.Register(TypeName, func(s netdev.Spec) (netdev.Netdev, error) { return Open(s) })
}

// Ring geometry. 64 blocks of 64 KiB give 4 MiB of receive buffering and
// more blocks than one receive can use up (rxRing.fill relies on it).
const (
	rxBlockSize = 1 << 16
	rxBlocks    = 64
	// RetireTimeout is how long, in milliseconds, the kernel waits before
	// handing us a block that is not full: the latency floor at low rates.
	RetireTimeout = 1
	txBlockSize   = 1 << 16
	txBlocks      = 8
	// rxReserve makes the kernel leave at least packet.Headroom bytes
	// before each received frame (its own header sits in 82 of them).
	rxReserve = 48
)

// Port is a kernel interface opened as a "system" port. It has one receive
// and one transmit queue.
type Port struct {
	linux.Device
	fd  int
	mem []byte // the RX ring then the TX ring, one mapping
	rxq rxQueue
	tx  txRing
	txc linux.Counters

	statsMu  sync.Mutex
	kdropped uint64 // tp_drops summed: PACKET_STATISTICS resets on read
}

var _ netdev.Netdev = (*Port)(nil)

// Open opens the kernel interface s.Name: a missing one gives
// "could not open network device NAME (No such device)".
func Open(s netdev.Spec) (*Port, error) {
	dev, err := linux.Lookup(s.Name)
	if err != nil {
		return nil, err
	}
	if err := dev.Configure(s.MTU, s.MAC); err != nil {
		return nil, err
	}
	p := &Port{Device: dev, fd: -1}
	if err := p.open(dev.MTU()); err != nil {
		p.Close()
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	return p, nil
}

func (p *Port) open(mtu int) error {
	// Protocol 0 until the rings exist: nothing is queued before them.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("af_packet socket: %w", err)
	}
	p.fd = fd
	for _, o := range []struct {
		name string
		opt  int
		val  int
	}{
		{"PACKET_VERSION", unix.PACKET_VERSION, unix.TPACKET_V3},
		{"PACKET_RESERVE", unix.PACKET_RESERVE, rxReserve},
		{"PACKET_QDISC_BYPASS", unix.PACKET_QDISC_BYPASS, 1},
		{"PACKET_IGNORE_OUTGOING", unix.PACKET_IGNORE_OUTGOING, 1},
	} {
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, o.opt, o.val); err != nil {
			return fmt.Errorf("set %s: %w", o.name, err)
		}
	}
	frame := txFrameSize(mtu)
	rxReq := unix.TpacketReq3{
		Block_size:       rxBlockSize,
		Block_nr:         rxBlocks,
		Frame_size:       packet.FrameSize,
		Frame_nr:         rxBlockSize / packet.FrameSize * rxBlocks,
		Retire_blk_tov:   RetireTimeout,
		Feature_req_word: 0,
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &rxReq); err != nil {
		return fmt.Errorf("set PACKET_RX_RING: %w", err)
	}
	txReq := unix.TpacketReq3{
		Block_size: txBlockSize,
		Block_nr:   txBlocks,
		Frame_size: uint32(frame),
		Frame_nr:   uint32(txBlockSize / frame * txBlocks),
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_TX_RING, &txReq); err != nil {
		return fmt.Errorf("set PACKET_TX_RING: %w", err)
	}
	rxLen, txLen := rxBlockSize*rxBlocks, txBlockSize*txBlocks
	p.mem, err = unix.Mmap(fd, 0, rxLen+txLen, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return fmt.Errorf("mmap rings: %w", err)
	}
	p.rxq = rxQueue{port: p, ring: rxRing{mem: p.mem[:rxLen:rxLen], blockSize: rxBlockSize, blocks: rxBlocks}}
	p.tx = txRing{mem: p.mem[rxLen:], frameSize: frame, frames: int(txReq.Frame_nr)}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: p.Index()}
	if err := unix.Bind(fd, sa); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	mreq := unix.PacketMreq{Ifindex: int32(p.Index()), Type: unix.PACKET_MR_PROMISC}
	if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
		return fmt.Errorf("set promiscuous: %w", err)
	}
	return nil
}

// txFrameSize fits an MTU-sized frame with two VLAN tags after the
// tpacket header, as a power of two no smaller than a Pool frame.
func txFrameSize(mtu int) int {
	need := txDataOffset + 14 + 8 + mtu
	f := packet.FrameSize
	for f < need && f < txBlockSize {
		f *= 2
	}
	return f
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Type implements netdev.Netdev.
func (p *Port) Type() string { return TypeName }

// RxQueues implements netdev.Netdev.
func (p *Port) RxQueues() []netdev.RxQueue { return []netdev.RxQueue{&p.rxq} }

// TxQueues implements netdev.Netdev: one socket, one TX ring.
func (p *Port) TxQueues() int { return 1 }

// errors of sendto that only mean "try again later": the frames stay
// queued in the ring and go with the next batch.
func transient(err error) bool {
	return errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.EINTR)
}

// Send implements netdev.Netdev: copy into the TX ring, one sendto.
func (p *Port) Send(qid int, b *packet.Batch) int {
	res := p.tx.fill(b)
	errs := 0
	if res.queued != 0 {
		if err := linux.Kick(p.fd, true); err != 0 && !transient(err) {
			errs = 1
		}
	}
	p.txc.Tx(res.queued, res.bytes, res.dropped, errs)
	return res.queued
}

// Stats implements netdev.Netdev. Kernel-side drops (the ring was full)
// come from PACKET_STATISTICS.
func (p *Port) Stats() netdev.Stats {
	var s netdev.Stats
	p.rxq.c.AddTo(&s)
	p.txc.AddTo(&s)
	p.statsMu.Lock()
	defer p.statsMu.Unlock()
	if p.fd >= 0 {
		if ks, err := unix.GetsockoptTpacketStatsV3(p.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
			p.kdropped += uint64(ks.Drops)
		}
	}
	s.RxDropped += p.kdropped
	return s
}

// Status implements netdev.Netdev.
func (p *Port) Status() map[string]string { return p.Device.Status() }

// MAC implements netdev.Netdev.
func (p *Port) MAC() net.HardwareAddr { return p.Device.MAC() }

// Close implements netdev.Netdev. The kernel interface stays; it was not ours.
func (p *Port) Close() error {
	var err error
	if p.mem != nil {
		err = unix.Munmap(p.mem)
		p.mem = nil
	}
	if p.fd >= 0 {
		p.statsMu.Lock()
		err = errors.Join(err, unix.Close(p.fd))
		p.fd = -1
		p.statsMu.Unlock()
	}
	return err
}

// rxQueue is the port's only receive queue.
type rxQueue struct {
	port *Port
	ring rxRing
	c    linux.Counters
}

// ID implements netdev.RxQueue.
func (q *rxQueue) ID() int { return 0 }

// Recv implements netdev.RxQueue. It never blocks.
func (q *rxQueue) Recv(b *packet.Batch) (int, error) {
	q.ring.release()
	res := q.ring.fill(b)
	q.c.Rx(res.n, res.bytes)
	if res.dropped != 0 {
		q.c.RxError(res.dropped)
	}
	return res.n, nil
}
