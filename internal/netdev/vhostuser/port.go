// Package vhostuser is the "dpdkvhostuser" and "dpdkvhostuserclient" port
// types: a VM (QEMU virtio-net) or a DPDK virtio-user application reaches
// the switch through a vhost-user socket and shared memory (package vhost
// does the protocol and the rings).
//
// dpdkvhostuser: govs is the socket server. As in OVS, the socket is
// OVS_RUNDIR/<interface name>; front-ends connect, disconnect and come
// back while the port stays. dpdkvhostuserclient: govs connects to
// options:vhost-server-path and reconnects, with backoff, whenever the
// front-end goes away (QEMU with server=on, testpmd with server=1).
//
// options:n_rxq sets the queue pairs offered (default 1). RxQueues and
// TxQueues are that many for the life of the port; queues the front-end
// has not enabled are empty, and Send maps a queue onto an enabled one.
// The link is up while the front-end runs at least one queue pair.
package vhostuser

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/packet"
	"github.com/govs/govs/internal/vhost"
)

// OVSDB Interface.type names this package serves.
const (
	TypeServer = "dpdkvhostuser"
	TypeClient = "dpdkvhostuserclient"
)

func init() {
	netdev.Register(TypeServer, func(s netdev.Spec) (netdev.Netdev, error) { return Open(s) })
	netdev.Register(TypeClient, func(s netdev.Spec) (netdev.Netdev, error) { return Open(s) })
}

// Reconnect backoff of client ports.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 2 * time.Second
)

// Port is a vhost-user port.
type Port struct {
	name, typ, path string
	mtu             int
	mac             net.HardwareAddr
	dev             *vhost.Device
	rxqs            []netdev.RxQueue

	ln   *net.UnixListener // server mode
	stop chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	lastErr error // connection-level errors (dial, accept)
}

var _ netdev.Netdev = (*Port)(nil)

// Open creates the port and starts listening (dpdkvhostuser) or
// connecting (dpdkvhostuserclient) in the background.
func Open(s netdev.Spec) (*Port, error) {
	pairs := 1
	if v, ok := s.Options["n_rxq"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > vhost.MaxQueuePairs {
			return nil, fmt.Errorf("%s: options:n_rxq=%q: want 1..%d", s.Name, v, vhost.MaxQueuePairs)
		}
		pairs = n
	}
	p := &Port{name: s.Name, typ: s.Type, mtu: s.MTU, mac: s.MAC, stop: make(chan struct{})}
	if p.mtu == 0 {
		p.mtu = 1500
	}
	switch s.Type {
	case TypeServer:
		if s.RunDir == "" {
			return nil, fmt.Errorf("%s: no OVS_RUNDIR for the vhost-user socket", s.Name)
		}
		p.path = filepath.Join(s.RunDir, s.Name)
	case TypeClient:
		p.path = s.Options["vhost-server-path"]
		if p.path == "" {
			return nil, fmt.Errorf("%s: options:vhost-server-path is required for %s", s.Name, TypeClient)
		}
	default:
		return nil, fmt.Errorf("%s: %w %q", s.Name, netdev.ErrUnknownType, s.Type)
	}
	var err error
	if p.dev, err = vhost.NewDevice(vhost.Config{QueuePairs: pairs, MTU: p.mtu}); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	for _, q := range p.dev.RxQueues() {
		p.rxqs = append(p.rxqs, q)
	}
	if s.Type == TypeServer {
		if err := p.listen(); err != nil {
			p.dev.Close()
			return nil, fmt.Errorf("%s: %w", s.Name, err)
		}
		p.wg.Go(p.serveLoop)
	} else {
		p.wg.Go(p.clientLoop)
	}
	return p, nil
}

// listen creates the server socket, replacing a stale one left by a
// switch that died (as OVS does); anything that is not a socket is kept.
func (p *Port) listen() error {
	if fi, err := os.Lstat(p.path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return fmt.Errorf("%s exists and is not a socket", p.path)
		}
		os.Remove(p.path)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: p.path, Net: "unix"})
	if err != nil {
		return err
	}
	p.ln = ln
	return nil
}

// serveLoop serves one front-end at a time; the next waits in the backlog.
func (p *Port) serveLoop() {
	for {
		c, err := p.ln.AcceptUnix()
		if err != nil {
			if p.stopped() {
				return
			}
			p.setErr(err)
			time.Sleep(minBackoff)
			continue
		}
		p.dev.Serve(c) // its errors show in Info().LastError
	}
}

// clientLoop connects, serves until the front-end goes, and reconnects.
func (p *Port) clientLoop() {
	backoff := minBackoff
	for !p.stopped() {
		c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: p.path, Net: "unix"})
		if err != nil {
			p.setErr(fmt.Errorf("connect %s: %w", p.path, err))
			select {
			case <-p.stop:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = minBackoff
		p.setErr(nil)
		p.dev.Serve(c)
		select {
		case <-p.stop:
			return
		case <-time.After(minBackoff):
		}
	}
}

func (p *Port) stopped() bool {
	select {
	case <-p.stop:
		return true
	default:
		return false
	}
}

func (p *Port) setErr(err error) {
	p.mu.Lock()
	p.lastErr = err
	p.mu.Unlock()
}

// Name implements netdev.Netdev.
func (p *Port) Name() string { return p.name }

// Type implements netdev.Netdev: "dpdkvhostuser" or "dpdkvhostuserclient".
func (p *Port) Type() string { return p.typ }

// RxQueues implements netdev.Netdev: one per queue pair (options:n_rxq).
func (p *Port) RxQueues() []netdev.RxQueue { return p.rxqs }

// TxQueues implements netdev.Netdev: one per queue pair.
func (p *Port) TxQueues() int { return p.dev.QueuePairs() }

// Send implements netdev.Netdev.
func (p *Port) Send(qid int, b *packet.Batch) int { return p.dev.Send(qid, b) }

// Stats implements netdev.Netdev.
func (p *Port) Stats() netdev.Stats {
	var s netdev.Stats
	s.RxPackets, s.RxBytes, s.RxDropped, s.RxErrors,
		s.TxPackets, s.TxBytes, s.TxDropped, s.TxErrors = p.dev.Stats()
	return s
}

// Status implements netdev.Netdev, with OVS's keys where OVS has them.
func (p *Port) Status() map[string]string {
	inf := p.dev.Info()
	mode := "server"
	if p.typ == TypeClient {
		mode = "client"
	}
	st := map[string]string{
		"mode":              mode,
		"socket":            p.path,
		"connected":         strconv.FormatBool(inf.Connected),
		"features":          fmt.Sprintf("0x%016x", inf.Features),
		"protocol_features": fmt.Sprintf("0x%016x", inf.ProtocolFeatures),
		"n_rxq":             strconv.Itoa(p.dev.QueuePairs()),
		"num_of_vrings":     strconv.Itoa(2 * inf.QueuePairs),
	}
	if p.typ == TypeClient {
		st["vhost-server-path"] = p.path
	}
	if inf.MTU > 0 {
		st["guest_mtu"] = strconv.Itoa(inf.MTU)
	}
	p.mu.Lock()
	err := p.lastErr
	p.mu.Unlock()
	if err == nil {
		err = inf.LastError
	}
	if err != nil {
		st["error"] = err.Error()
	}
	return st
}

// Error returns the last connection or protocol error, for
// Interface.error (nil when none).
func (p *Port) Error() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return errors.Join(p.lastErr, p.dev.Info().LastError)
}

// MAC implements netdev.Netdev: Interface.mac if set (the guest has its own).
func (p *Port) MAC() net.HardwareAddr { return p.mac }

// MTU implements netdev.Netdev.
func (p *Port) MTU() int { return p.mtu }

// LinkUp implements netdev.Netdev.
func (p *Port) LinkUp() bool { return p.dev.LinkUp() }

// Close implements netdev.Netdev: it drops the front-end, stops
// reconnecting, removes the server socket and unmaps guest memory.
func (p *Port) Close() error {
	select {
	case <-p.stop:
		return nil
	default:
	}
	close(p.stop)
	if p.ln != nil {
		p.ln.Close() // also unlinks the socket
	}
	p.dev.Close()
	p.wg.Wait()
	return p.dev.Close()
}
