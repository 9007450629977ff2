// Package dummy is the "dummy" port type: a port with in-memory receive and
// transmit queues, as OVS's netdev-dummy. Tests inject packets into its
// receive queues and read what the datapath transmitted; options:pcap=FILE
// feeds receive queue 0 from a pcap file and options:tx_pcap=FILE records
// every transmitted packet, so OVS-style tests can run without a kernel.
//
// Packets live in frames of the port's own packet.Pool (off the Go heap), so
// the datapath sees a dummy port exactly as it sees a real one: Recv hands
// out Buffers into port memory, valid until the next Recv on that queue.
//
// Options (Interface.options):
//
//	n_rxq=N          receive queues (default 1)
//	n_txq=N          transmit queues (default 1)
//	pcap=FILE        receive queue 0 reads packets from FILE
//	tx_pcap=FILE     transmitted packets are appended to FILE
//	tx_capture=false transmitted packets are only counted, not kept
//	                 (benchmarks); default true
//	tx_limit=N       at most N transmitted packets are kept (default 65536);
//	                 more are counted in TxDropped
package dummy

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/packet"
)

// Type is the OVSDB Interface.type of dummy ports.
const Type = "dummy"

func init() {
	netdev.Register(Type, func(s netdev.Spec) (netdev.Netdev, error) { return New(s) })
}

// Limits of one port.
const (
	maxQueues       = 64
	rxFramesPerQ    = 1024
	defaultTxLimit  = 65536
	defaultMTU      = 1500
	maxInjectLength = packet.FrameSize - packet.Headroom
)

// Errors returned by Inject.
var (
	ErrRxFull    = errors.New("dummy: receive queue full")
	ErrTooLong   = errors.New("dummy: packet longer than a frame")
	ErrBadQueue  = errors.New("dummy: no such receive queue")
	errClosedDev = errors.New("dummy: port closed")
)

// Port is a dummy port. Its methods are safe for concurrent use: the
// datapath polls and sends while a test injects and reads.
type Port struct {
	name string
	mac  net.HardwareAddr
	mtu  int
	rxqs []*rxQueue
	ntxq int

	txMu      sync.Mutex
	txCapture bool
	txLimit   int
	txPkts    [][]byte // +checklocks:txMu
	txPcap    *pcapOut // +checklocks:txMu
	txStats   struct{ packets, bytes, dropped uint64 }

	linkMu sync.Mutex
	linkUp bool
}

var _ netdev.Netdev = (*Port)(nil)

// New builds a dummy port from s.
func New(s netdev.Spec) (*Port, error) {
	p := &Port{
		name:      s.Name,
		mac:       s.MAC,
		mtu:       s.MTU,
		ntxq:      1,
		txCapture: true,
		txLimit:   defaultTxLimit,
		linkUp:    true,
	}
	if p.mtu == 0 {
		p.mtu = defaultMTU
	}
	if p.mac == nil {
		p.mac = net.HardwareAddr{0xaa, 0x55, 0xaa, 0x55, 0x00, byte(len(s.Name))}
	}
	nrxq := 1
	var err error
	for k, v := range s.Options {
		switch k {
		case "n_rxq":
			nrxq, err = queueCount(k, v)
		case "n_txq":
			p.ntxq, err = queueCount(k, v)
		case "tx_capture":
			p.txCapture, err = strconv.ParseBool(v)
		case "tx_limit":
			p.txLimit, err = strconv.Atoi(v)
		case "pcap", "tx_pcap":
		default:
			err = fmt.Errorf("unknown option %q", k)
		}
		if err != nil {
			return nil, fmt.Errorf("dummy %s: %w", s.Name, err)
		}
	}
	for i := range nrxq {
		q, err := newRxQueue(i)
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("dummy %s: %w", s.Name, err)
		}
		p.rxqs = append(p.rxqs, q)
	}
	if f := s.Options["pcap"]; f != "" {
		in, err := openPcapIn(f)
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("dummy %s: %w", s.Name, err)
		}
		p.rxqs[0].pcap = in
	}
	if f := s.Options["tx_pcap"]; f != "" {
		out, err := openPcapOut(f)
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("dummy %s: %w", s.Name, err)
		}
		p.txPcap = out
	}
	return p, nil
}

func queueCount(k, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxQueues {
		return 0, fmt.Errorf("option %s=%q: want 1..%d", k, v, maxQueues)
	}
	return n, nil
}

// Name implements netdev.Netdev.
func (p *Port) Name() string { return p.name }

// Type implements netdev.Netdev.
func (p *Port) Type() string { return Type }

// RxQueues implements netdev.Netdev.
func (p *Port) RxQueues() []netdev.RxQueue {
	qs := make([]netdev.RxQueue, len(p.rxqs))
	for i, q := range p.rxqs {
		qs[i] = q
	}
	return qs
}

// TxQueues implements netdev.Netdev.
func (p *Port) TxQueues() int { return p.ntxq }

// Send implements netdev.Netdev. Every queue shares one transmit log, so
// a test reads one ordered stream per port.
func (p *Port) Send(qid int, b *packet.Batch) int {
	p.txMu.Lock()
	defer p.txMu.Unlock()
	sent := 0
	for _, pkt := range b.Pkts {
		data := pkt.Data()
		if p.txPcap != nil {
			p.txPcap.write(data)
		}
		if p.txCapture {
			if len(p.txPkts) >= p.txLimit {
				p.txStats.dropped++
				continue
			}
			p.txPkts = append(p.txPkts, append([]byte(nil), data...))
		}
		p.txStats.packets++
		p.txStats.bytes += uint64(len(data))
		sent++
	}
	return sent
}

// Inject queues a copy of pkt on receive queue qid.
func (p *Port) Inject(qid int, pkt []byte) error {
	if qid < 0 || qid >= len(p.rxqs) {
		return ErrBadQueue
	}
	return p.rxqs[qid].inject(pkt)
}

// Transmitted returns the packets sent so far and forgets them.
func (p *Port) Transmitted() [][]byte {
	p.txMu.Lock()
	defer p.txMu.Unlock()
	t := p.txPkts
	p.txPkts = nil
	return t
}

// Pending returns how many injected packets wait in the receive queues.
func (p *Port) Pending() int {
	n := 0
	for _, q := range p.rxqs {
		n += q.pending()
	}
	return n
}

// SetLinkUp sets the carrier state (OVS's netdev-dummy/set-admin-state).
func (p *Port) SetLinkUp(up bool) {
	p.linkMu.Lock()
	p.linkUp = up
	p.linkMu.Unlock()
}

// Stats implements netdev.Netdev.
func (p *Port) Stats() netdev.Stats {
	var s netdev.Stats
	for _, q := range p.rxqs {
		rs := q.stats()
		s.RxPackets += rs.packets
		s.RxBytes += rs.bytes
		s.RxDropped += rs.dropped
	}
	p.txMu.Lock()
	s.TxPackets, s.TxBytes, s.TxDropped = p.txStats.packets, p.txStats.bytes, p.txStats.dropped
	p.txMu.Unlock()
	return s
}

// Status implements netdev.Netdev.
func (p *Port) Status() map[string]string {
	return map[string]string{
		"n_rxq": strconv.Itoa(len(p.rxqs)),
		"n_txq": strconv.Itoa(p.ntxq),
	}
}

// MAC implements netdev.Netdev.
func (p *Port) MAC() net.HardwareAddr { return p.mac }

// MTU implements netdev.Netdev.
func (p *Port) MTU() int { return p.mtu }

// LinkUp implements netdev.Netdev.
func (p *Port) LinkUp() bool {
	p.linkMu.Lock()
	defer p.linkMu.Unlock()
	return p.linkUp
}

// Close implements netdev.Netdev: it unmaps the frames and closes pcap files.
func (p *Port) Close() error {
	var errs []error
	for _, q := range p.rxqs {
		errs = append(errs, q.close())
	}
	p.txMu.Lock()
	if p.txPcap != nil {
		errs = append(errs, p.txPcap.close())
		p.txPcap = nil
	}
	p.txMu.Unlock()
	return errors.Join(errs...)
}
