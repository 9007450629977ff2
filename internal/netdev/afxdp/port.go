package afxdp

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/netdev/linux"
	"github.com/govs/govs/internal/packet"
)

// TypeName is the OVSDB Interface.type this package serves.
const TypeName = "afxdp"

func init() {
	netdev.Register(TypeName, func(s netdev.Spec) (netdev.Netdev, error) { return Open(s) })
}

// Mode is options:xdp-mode, with OVS's values.
type Mode string

const (
	// BestEffort tries NativeZeroCopy, then Native, then Generic.
	BestEffort     Mode = "best-effort"
	NativeZeroCopy Mode = "native-with-zerocopy"
	Native         Mode = "native"
	Generic        Mode = "generic"
)

// Options are the Interface.options an afxdp port understands.
type Options struct {
	NRxq int  // options:n_rxq, default 1: one socket per rx queue
	Mode Mode // options:xdp-mode, default best-effort
}

// ParseOptions reads OVS's option names; unknown ones are an error so a
// typo shows in the Interface's error column.
func ParseOptions(o map[string]string) (Options, error) {
	opt := Options{NRxq: 1, Mode: BestEffort}
	for k, v := range o {
		switch k {
		case "n_rxq":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return opt, fmt.Errorf("invalid n_rxq %q", v)
			}
			opt.NRxq = n
		case "xdp-mode":
			switch m := Mode(v); m {
			case BestEffort, NativeZeroCopy, Native, Generic:
				opt.Mode = m
			default:
				return opt, fmt.Errorf("invalid xdp-mode %q (best-effort, native-with-zerocopy, native, generic)", v)
			}
		case "use-need-wakeup":
			// Always on: the kernels that lack it (< 5.4) are not supported.
		default:
			return opt, fmt.Errorf("unknown option %q", k)
		}
	}
	return opt, nil
}

// Port is an afxdp port: an XDP program redirecting every rx queue of a
// kernel device to an AF_XDP socket of ours.
type Port struct {
	linux.Device
	mode   Mode // the mode in use, never BestEffort
	red    *redirect
	queues []*queue
	rxqs   []netdev.RxQueue
	fwd    *forwarder // kernel forwarding, see forward.go

	closeMu sync.Mutex // Stats against Close
	closed  bool
}

var _ netdev.Netdev = (*Port)(nil)

// Open attaches to the kernel device s.Name.
func Open(s netdev.Spec) (*Port, error) {
	opt, err := ParseOptions(s.Options)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	dev, err := linux.Lookup(s.Name)
	if err != nil {
		return nil, err
	}
	if n := rxQueueCount(s.Name); n > 0 && opt.NRxq > n {
		return nil, fmt.Errorf("%s: n_rxq %d exceeds the device's %d rx queues", s.Name, opt.NRxq, n)
	}
	if err := dev.Configure(s.MTU, s.MAC); err != nil {
		return nil, err
	}
	// Before any program is attached: a veth's GRO setting is read next.
	if err := restoreSaved(s.RunDir, s.Name, dev.Index()); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	tries := []Mode{opt.Mode}
	if opt.Mode == BestEffort {
		tries = []Mode{NativeZeroCopy, Native, Generic}
	}
	var errs []error
	for _, m := range tries {
		p, err := open(dev, opt.NRxq, m, s.RunDir)
		if err == nil {
			return p, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", m, err))
	}
	return nil, fmt.Errorf("%s: %w", s.Name, errors.Join(errs...))
}

// open sets the port up in one mode, undoing everything on failure.
func open(dev linux.Device, nrxq int, m Mode, runDir string) (_ *Port, err error) {
	red, err := newRedirect(nrxq)
	if err != nil {
		return nil, err
	}
	p := &Port{Device: dev, mode: m, red: red, fwd: newForwarder(dev.Name(), dev.Index(), red, m != Generic, runDir)}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	if err := red.attach(dev.Index(), m != Generic); err != nil {
		return nil, fmt.Errorf("attach xdp program: %w", err)
	}
	for i := range nrxq {
		s, err := newXSK(dev.Index(), i, m == NativeZeroCopy)
		if err != nil {
			return nil, err
		}
		q := newQueue(i, s)
		p.queues = append(p.queues, q)
		p.rxqs = append(p.rxqs, q)
		if err := red.setSocket(i, s.fd); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// rxQueueCount returns the device's rx queues as sysfs lists them, 0 if
// it cannot tell.
func rxQueueCount(name string) int {
	m, _ := filepath.Glob(filepath.Join("/sys/class/net", name, "queues", "rx-*"))
	return len(m)
}

// Type implements netdev.Netdev.
func (p *Port) Type() string { return TypeName }

// Mode returns the XDP mode in use (never BestEffort).
func (p *Port) Mode() Mode { return p.mode }

// RxQueues implements netdev.Netdev: one per socket.
func (p *Port) RxQueues() []netdev.RxQueue { return p.rxqs }

// TxQueues implements netdev.Netdev: each socket has a TX ring.
func (p *Port) TxQueues() int { return len(p.queues) }

// Send implements netdev.Netdev.
func (p *Port) Send(qid int, b *packet.Batch) int { return p.queues[qid].send(b) }

// Stats implements netdev.Netdev. The kernel's per-socket drops (RX ring
// full, fill ring empty, bad descriptors) are added in.
func (p *Port) Stats() netdev.Stats {
	var s netdev.Stats
	p.closeMu.Lock()
	defer p.closeMu.Unlock()
	for _, q := range p.queues {
		q.rxc.AddTo(&s)
		q.txc.AddTo(&s)
		if p.closed {
			continue
		}
		if ks, err := statistics(q.s.fd); err == nil {
			s.RxDropped += ks.Rx_dropped + ks.Rx_ring_full
			s.RxErrors += ks.Rx_invalid_descs
			s.TxErrors += ks.Tx_invalid_descs
		}
	}
	return s
}

// Status implements netdev.Netdev: the device's keys plus the XDP mode in
// use, whether the sockets are zero-copy and, while the kernel forwards
// the port's frames (ForwardTo), the device they go to.
func (p *Port) Status() map[string]string {
	st := p.Device.Status()
	st["xdp-mode"] = string(p.mode)
	st["zero-copy"] = strconv.FormatBool(p.mode == NativeZeroCopy)
	st["n_rxq"] = strconv.Itoa(len(p.queues))
	if to := p.fwd.status(); to != "" {
		st["forwarding-to"] = to
	}
	return st
}

// MAC implements netdev.Netdev.
func (p *Port) MAC() net.HardwareAddr { return p.Device.MAC() }

// Close implements netdev.Netdev: kernel forwarding stops first (frames
// go back to the sockets, TC is detached, NAPI restored), then the program
// is detached before the sockets close, so the device never redirects to a
// dead socket.
func (p *Port) Close() error {
	p.closeMu.Lock()
	defer p.closeMu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	err := errors.Join(p.fwd.close(), p.red.close())
	for _, q := range p.queues {
		err = errors.Join(err, q.s.close())
	}
	return err
}
