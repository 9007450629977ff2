package dpif

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/govs/govs/internal/capture"
	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/packet"
)

// Packet capture (govs capture, internal/capture). The packet path looks
// at one atomic pointer per received batch (processBatch) and per
// transmitted batch (flushPort); it is nil unless a capture runs, so
// capturing costs nothing when off. While captures run, the pointer holds
// an immutable tapSet, replaced whole when a capture starts or stops.

// tapHook is the datapath's running captures.
type tapHook struct {
	mu  sync.Mutex // serialises changes; the packet path only loads cur
	cur atomic.Pointer[tapSet]
}

// tapSet is the taps of each odp port (indexed by port number).
type tapSet struct {
	ports [][]*capture.Tap
}

// watches reports whether a tap watches port (s may be nil: no capture).
func (s *tapSet) watches(port uint32) bool {
	return s != nil && int(port) < len(s.ports) && len(s.ports[port]) > 0
}

// rx offers a received batch to the taps of port.
func (s *tapSet) rx(port uint32, pkts []*packet.Buffer, now int64) {
	s.offer(port, pkts, now, capture.Rx)
}

// tx offers a batch about to be sent to the taps of port.
func (s *tapSet) tx(port uint32, pkts []*packet.Buffer, now int64) {
	s.offer(port, pkts, now, capture.Tx)
}

func (s *tapSet) offer(port uint32, pkts []*packet.Buffer, now int64, dir capture.Direction) {
	if int(port) >= len(s.ports) {
		return
	}
	for _, t := range s.ports[port] {
		if t.Dir&dir != 0 {
			t.Offer(pkts, now, dir)
		}
	}
}

// AddTap starts offering port's packets to t. Several taps may watch the
// same port.
func (dp *Datapath) AddTap(port uint32, t *capture.Tap) error {
	if dp.PortDev(port) == nil {
		return fmt.Errorf("dpif: no port %d", port)
	}
	h := &dp.taps
	h.mu.Lock()
	defer h.mu.Unlock()
	var ports [][]*capture.Tap
	if old := h.cur.Load(); old != nil {
		ports = slices.Clone(old.ports)
	}
	if int(port) >= len(ports) {
		ports = append(ports, make([][]*capture.Tap, int(port)+1-len(ports))...)
	}
	ports[port] = append(slices.Clone(ports[port]), t)
	h.cur.Store(&tapSet{ports: ports})
	// A capture sees a port's packets only if they come to user space.
	dp.pmdMu.Lock()
	dp.reconcileForwardsLocked()
	dp.pmdMu.Unlock()
	return nil
}

// RemoveTap stops offering packets to t. On return no PMD and no
// packet-out is still putting records into it.
func (dp *Datapath) RemoveTap(port uint32, t *capture.Tap) {
	h := &dp.taps
	h.mu.Lock()
	if old := h.cur.Load(); old != nil && int(port) < len(old.ports) {
		ports := slices.Clone(old.ports)
		ports[port] = slices.DeleteFunc(slices.Clone(ports[port]), func(x *capture.Tap) bool { return x == t })
		if slices.IndexFunc(ports, func(p []*capture.Tap) bool { return len(p) > 0 }) < 0 {
			h.cur.Store(nil) // back to the one nil check
		} else {
			h.cur.Store(&tapSet{ports: ports})
		}
	}
	h.mu.Unlock()
	dp.pmdMu.Lock()
	dp.syncLocked()
	dp.reconcileForwardsLocked()
	dp.pmdMu.Unlock()
	// A packet-out holds execMu while it runs: once we get it, any
	// packet-out that saw t is done.
	dp.execMu.Lock()
	//lint:ignore SA2001 the critical section is the wait
	dp.execMu.Unlock()
}

// PortDev returns the device of odp port no, or nil.
func (dp *Datapath) PortDev(no uint32) netdev.Netdev {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	if p := dp.ctl.ports[no]; p != nil {
		return p.dev
	}
	return nil
}
