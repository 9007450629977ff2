package bridge

import (
	"fmt"
	"strings"

	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/ofagent"
	"github.com/govs/govs/internal/ofproto"
	"github.com/govs/govs/internal/vswitchd"
)

// startAgent gives bridge b its OpenFlow side: the <bridge>.mgmt socket
// ovs-ofctl uses, and the controllers of its Bridge row.
func (s *Switch) startAgent(b *bridge) error {
	a, err := ofagent.New(ofagent.Options{
		Bridge:    b.ofb,
		Ofproto:   s.ofp,
		RunDir:    s.opts.RunDir,
		Sync:      s.changes.barrier,
		Execute:   s.dp.Execute,
		PortStats: func(ofport uint32) (netdev.Stats, bool) { return s.portStats(b, ofport) },
		Versions:  protocolVersions(b.spec.Protocols),
		Log:       s.log.With("bridge", b.name),
		SWDesc:    "govs " + s.opts.Version,
		// fail_mode (failmode.go): standalone fails open while no
		// controller is connected.
		OnConnectivity: func(connected bool) { s.controllerConnectivity(b, connected) },
	})
	if err != nil {
		return fmt.Errorf("bridge %s: openflow: %w", b.name, err)
	}
	b.agent = a
	return s.setControllers(b)
}

// setControllers applies the Bridge row's controllers: targets, probe
// and backoff settings as OVS derives them, and the SSL files.
func (s *Switch) setControllers(b *bridge) error {
	cs := make([]ofagent.Controller, 0, len(b.spec.Controllers))
	for _, c := range b.spec.Controllers {
		ac := ofagent.Controller{Target: c.Target, ProbeInterval: c.ProbeInterval(), MaxBackoff: c.MaxBackoffInterval()}
		if ac.ProbeInterval == 0 {
			ac.ProbeInterval = -1 // disabled
		}
		if c.SSL != nil {
			ac.SSL = &ofagent.SSLConfig{PrivateKey: c.SSL.PrivateKey, Certificate: c.SSL.Certificate,
				CACert: c.SSL.CACert, BootstrapCACert: c.SSL.BootstrapCACert}
		}
		cs = append(cs, ac)
	}
	err := b.agent.SetControllers(cs)
	s.applyFailMode(b)
	if err != nil {
		return fmt.Errorf("bridge %s: controllers: %w", b.name, err)
	}
	return nil
}

// protocolVersions maps Bridge.protocols to OpenFlow wire versions; an
// empty list lets the agent offer its defaults.
func protocolVersions(protocols []string) []uint8 {
	var v []uint8
	for _, p := range protocols {
		switch strings.TrimSpace(p) {
		case "OpenFlow10":
			v = append(v, 0x01)
		case "OpenFlow13":
			v = append(v, 0x04)
		}
	}
	return v
}

// portStats returns the datapath counters of a bridge's OpenFlow port.
func (s *Switch) portStats(b *bridge, ofport uint32) (netdev.Stats, bool) {
	s.mu.Lock()
	var odpPort uint32 = ofproto.NoODPPort
	for _, i := range b.ifaces {
		if i.ofport == ofport {
			odpPort = i.odp
		}
	}
	s.mu.Unlock()
	if odpPort == ofproto.NoODPPort {
		return netdev.Stats{}, false
	}
	st, err := s.dp.PortStats(odpPort)
	return st, err == nil
}

// packetIn routes a packet-in from translation to its bridge's agent. It
// runs on PMD goroutines, so it uses the lock-free bridge index.
func (s *Switch) packetIn(br string, pi *ofproto.PacketIn) {
	if v, ok := s.byName.Load(br); ok {
		if a := v.(*bridge).agent; a != nil {
			a.PacketIn(pi)
		}
	}
}

// ControllerStatus returns the state of bridge br's controller
// connections (OVSDB Controller.is_connected, role, status).
func (s *Switch) ControllerStatus(br string) []ofagent.ControllerStatus {
	v, ok := s.byName.Load(br)
	if !ok || v.(*bridge).agent == nil {
		return nil
	}
	return v.(*bridge).agent.ControllerStatus()
}

// controllerStates converts b's controller status for OVSDB (BridgeState:
// the Controller rows' is_connected, role and status). Caller holds s.mu.
func controllerStates(b *bridge) []vswitchd.ControllerState {
	if b.agent == nil {
		return nil
	}
	st := b.agent.ControllerStatus()
	out := make([]vswitchd.ControllerState, 0, len(st))
	for _, c := range st {
		cs := vswitchd.ControllerState{Target: c.Target, IsConnected: c.IsConnected, Status: c.Status}
		if c.IsConnected {
			cs.Role = c.Role
		}
		out = append(out, cs)
	}
	return out
}
