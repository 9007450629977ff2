package bridge

import (
	"fmt"
	"maps"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/govs/govs/internal/odp"
	"github.com/govs/govs/internal/ofagent"
	"github.com/govs/govs/internal/ofproto"
	"github.com/govs/govs/internal/vswitchd"
)

// bridge is one bridge: its OpenFlow model and its interfaces.
type bridge struct {
	name   string
	spec   vswitchd.BridgeSpec
	ofb    *ofproto.Bridge
	mac    net.HardwareAddr
	ifaces map[string]*iface // by interface name
	agent  *ofagent.Agent    // the bridge's OpenFlow side

	// meters maps the bridge's OpenFlow meter ids to datapath meter ids
	// (uint32 -> uint32); read by translation, so a sync.Map.
	meters sync.Map

	// meterMu guards dpMeters. It is the bridge's own lock, not the
	// Switch's, because bridge changes run syncMeters from inside calls
	// that hold Switch.mu.
	meterMu  sync.Mutex
	dpMeters map[uint32]dpMeter // by OpenFlow meter id
}

// dpMeter is a datapath meter configured for an OpenFlow meter.
type dpMeter struct {
	id  uint32
	cfg odp.MeterConfig
}

// AddBridge implements vswitchd.Switch.
func (s *Switch) AddBridge(spec vswitchd.BridgeSpec) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.bridges[spec.Name]; ok {
		return fmt.Errorf("bridge %s already exists", spec.Name)
	}
	b := &bridge{
		name:     spec.Name,
		spec:     spec,
		ofb:      ofproto.NewBridge(spec.Name),
		mac:      vswitchd.StableMAC(spec.Name),
		ifaces:   map[string]*iface{},
		dpMeters: map[uint32]dpMeter{},
	}
	b.ofb.SetDatapathID(vswitchd.DatapathID(spec, b.mac))
	b.ofb.OnChange = func() { s.bridgeChanged(b) }
	s.ofp.AddBridge(b.ofb)
	s.bridges[spec.Name] = b
	s.byName.Store(spec.Name, b)
	// A new bridge forwards as a learning switch, as OVS's does: one
	// visible rule, priority 0, actions=NORMAL. In fail_mode secure it
	// starts empty and waits for its controller.
	if spec.FailMode != "secure" {
		fm := ofproto.NewFlowMod(ofproto.FlowAdd)
		fm.Apply = []ofproto.Action{{Type: ofproto.ActOutput, Port: ofproto.PortNormal}}
		if err := b.ofb.FlowMod(fm); err != nil {
			return fmt.Errorf("bridge %s: default flow: %w", spec.Name, err)
		}
	}
	if err := s.startAgent(b); err != nil {
		return err
	}
	s.log.Info("bridge added", "bridge", spec.Name, "dpid", fmt.Sprintf("%016x", b.ofb.DatapathID()))
	return nil
}

// ReconfigureBridge implements vswitchd.Switch.
func (s *Switch) ReconfigureBridge(spec vswitchd.BridgeSpec) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bridges[spec.Name]
	if b == nil {
		return fmt.Errorf("no bridge %s", spec.Name)
	}
	old := b.spec
	b.spec = spec
	b.ofb.SetDatapathID(vswitchd.DatapathID(spec, b.mac))
	if !slices.Equal(old.Protocols, spec.Protocols) {
		// The versions offered in HELLO are fixed per agent.
		b.agent.Close()
		b.ofb.OnRemoved = nil // the new agent takes FLOW_REMOVED over
		return s.startAgent(b)
	}
	return s.setControllers(b)
}

// DelBridge implements vswitchd.Switch.
func (s *Switch) DelBridge(name string) {
	s.mu.Lock()
	b := s.bridges[name]
	if b == nil {
		s.mu.Unlock()
		return
	}
	for _, n := range slices.Sorted(maps.Keys(b.ifaces)) {
		s.delInterfaceLocked(b, n)
	}
	delete(s.bridges, name)
	s.byName.Delete(name)
	s.mu.Unlock()
	if b.agent != nil {
		b.agent.Close()
	}
	b.meterMu.Lock()
	for _, m := range b.dpMeters {
		s.dp.DelMeter(m.id)
	}
	b.meterMu.Unlock()
	s.ofp.DelBridge(name)
	s.dp.Revalidate()
	s.log.Info("bridge deleted", "bridge", name)
}

// BridgeState implements vswitchd.Switch.
func (s *Switch) BridgeState(name string) vswitchd.BridgeState {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bridges[name]
	if b == nil {
		return vswitchd.BridgeState{}
	}
	return vswitchd.BridgeState{DatapathID: b.ofb.DatapathID(), Controllers: controllerStates(b)}
}

// Bridge returns the OpenFlow model of bridge name, or nil.
func (s *Switch) Bridge(name string) *ofproto.Bridge {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.bridges[name]; b != nil {
		return b.ofb
	}
	return nil
}

// Bridges returns the bridge names, sorted.
func (s *Switch) Bridges() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.bridges))
}

// bridgeChanged runs after every change to b's tables, groups, meters or
// ports: datapath meters follow the bridge's, then the datapath is
// revalidated so the change is in force when the caller's call returns.
func (s *Switch) bridgeChanged(b *bridge) {
	n := s.changes.change()
	s.syncMeters(b)
	s.changes.revalidateFor(n)
}

// syncMeters makes the datapath meters match b's OpenFlow meters.
func (s *Switch) syncMeters(b *bridge) {
	b.meterMu.Lock()
	defer b.meterMu.Unlock()
	seen := map[uint32]bool{}
	for _, m := range b.ofb.Meters() {
		seen[m.Spec.ID] = true
		cfg := meterConfig(m.Spec)
		old, ok := b.dpMeters[m.Spec.ID]
		if ok && sameMeter(old.cfg, cfg) {
			continue
		}
		if !ok {
			old.id = s.nextMeter.Add(1)
		}
		s.dp.SetMeter(old.id, cfg)
		b.dpMeters[m.Spec.ID] = dpMeter{id: old.id, cfg: cfg}
		b.meters.Store(m.Spec.ID, old.id)
	}
	for ofID, m := range b.dpMeters {
		if !seen[ofID] {
			b.meters.Delete(ofID)
			s.dp.DelMeter(m.id)
			delete(b.dpMeters, ofID)
		}
	}
}

func meterConfig(ms ofproto.MeterSpec) odp.MeterConfig {
	c := odp.MeterConfig{
		Kbps:  ms.Flags&ofproto.MeterKbps != 0,
		Pktps: ms.Flags&ofproto.MeterPktps != 0,
		Burst: ms.Flags&ofproto.MeterBurst != 0,
		Stats: ms.Flags&ofproto.MeterStats != 0,
	}
	for _, band := range ms.Bands {
		c.Bands = append(c.Bands, odp.MeterBand{Type: uint8(band.Type), Rate: band.Rate, Burst: band.Burst, PrecLevel: band.PrecLevel})
	}
	return c
}

func sameMeter(a, b odp.MeterConfig) bool {
	return a.Kbps == b.Kbps && a.Pktps == b.Pktps && a.Burst == b.Burst && a.Stats == b.Stats &&
		slices.Equal(a.Bands, b.Bands)
}

// expireRules removes rules past their idle or hard timeout.
func (s *Switch) expireRules(now time.Time) {
	s.mu.Lock()
	bs := make([]*bridge, 0, len(s.bridges))
	for _, b := range s.bridges {
		bs = append(bs, b)
	}
	s.mu.Unlock()
	for _, b := range bs {
		if rm := b.ofb.Expire(now); len(rm) > 0 && b.ofb.OnRemoved != nil {
			b.ofb.OnRemoved(rm)
		}
	}
}
