package bridge

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/ofagent"
	"github.com/govs/govs/internal/ofproto"
	"github.com/govs/govs/internal/vswitchd"
)

// iface is one interface of a bridge.
type iface struct {
	name   string
	spec   vswitchd.InterfaceSpec
	port   vswitchd.PortSpec
	ofport uint32
	odp    uint32        // ofproto.NoODPPort for patch ports
	dev    netdev.Netdev // nil for patch ports
	linkUp bool
}

// AddInterface implements vswitchd.Switch.
func (s *Switch) AddInterface(bridgeName string, port vswitchd.PortSpec, spec vswitchd.InterfaceSpec) (uint32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bridges[bridgeName]
	if b == nil {
		return 0, fmt.Errorf("no bridge %s", bridgeName)
	}
	if _, ok := b.ifaces[spec.Name]; ok {
		return 0, fmt.Errorf("interface %s already on bridge %s", spec.Name, bridgeName)
	}
	ofport, err := s.pickOFPort(b, spec)
	if err != nil {
		return 0, err
	}
	i := &iface{name: spec.Name, spec: spec, port: port, ofport: ofport, odp: ofproto.NoODPPort}
	p := &ofproto.Port{OFPort: ofport, Name: spec.Name, Type: spec.Type, ODPPort: ofproto.NoODPPort}
	applyVLAN(p, port)

	if spec.Type == "patch" {
		peer := spec.Options["peer"]
		if peer == "" {
			return 0, errors.New("patch port has no options:peer")
		}
		if peer == spec.Name {
			return 0, errors.New("patch port's peer is itself")
		}
		for k := range spec.Options {
			if k != "peer" {
				return 0, fmt.Errorf("patch port: unknown option %q", k)
			}
		}
		p.PatchPeer = peer
		i.linkUp = true
	} else {
		ns := spec.NetdevSpec(s.opts.RunDir)
		if spec.Name == bridgeName && (spec.Type == "" || spec.Type == "internal") {
			ns.Type = "internal"
		}
		dev, err := netdev.Open(ns)
		if err != nil {
			return 0, err
		}
		odpPort := s.allocODPLocked()
		if err := s.dp.AddPort(odpPort, dev); err != nil {
			dev.Close()
			delete(s.odpUsed, odpPort)
			return 0, err
		}
		i.dev, i.odp = dev, odpPort
		p.ODPPort = odpPort
		copy(p.HWAddr[:], dev.MAC())
		i.linkUp = dev.LinkUp()
		if !i.linkUp {
			p.State |= ofproto.StateLinkDown
		}
	}
	if err := b.ofb.AddPort(p); err != nil {
		s.releaseLocked(i)
		return 0, err
	}
	b.ifaces[spec.Name] = i
	s.applyRxqAffinityLocked(i)
	s.log.Info("port added", "bridge", bridgeName, "interface", spec.Name, "type", typeName(spec.Type), "ofport", ofport, "odp", i.odp)
	s.portChanged(bridgeName, ofagent.PortAdded, p)
	return dbOFPort(ofport), nil
}

// dbOFPort is the number OVSDB shows for an OpenFlow port: the bridge's
// own port is OFPP_LOCAL in OpenFlow 1.3's 32-bit space inside govs, and
// 65534 in the database, as OVS writes it.
func dbOFPort(p uint32) uint32 {
	if p == ofproto.PortLocal {
		return vswitchd.OFPPLocal
	}
	return p
}

// pickOFPort chooses the OpenFlow port number as vswitchd.Switch says:
// ofport_request, else the previous number, else the lowest free one.
func (s *Switch) pickOFPort(b *bridge, spec vswitchd.InterfaceSpec) (uint32, error) {
	if spec.Name == b.name {
		return ofproto.PortLocal, nil
	}
	taken := func(n uint32) bool {
		for _, i := range b.ifaces {
			if i.ofport == n {
				return true
			}
		}
		return false
	}
	if r := spec.OFPortRequest; r != 0 {
		if r >= ofproto.PortMax {
			return 0, fmt.Errorf("ofport_request %d out of range", r)
		}
		if taken(r) {
			return 0, fmt.Errorf("ofport_request %d is in use on bridge %s", r, b.name)
		}
		return r, nil
	}
	if h := spec.OFPortHint; h != 0 && h < ofproto.PortMax && h != vswitchd.OFPPLocal && !taken(h) {
		return h, nil
	}
	// Numbers requested by other interfaces are left for them.
	n := uint32(1)
	for taken(n) || s.requestedByOther(b, spec.Name, n) {
		n++
	}
	return n, nil
}

func (s *Switch) requestedByOther(b *bridge, name string, n uint32) bool {
	for _, p := range b.spec.Ports {
		for _, in := range p.Interfaces {
			if in.Name != name && in.OFPortRequest == n {
				return true
			}
		}
	}
	return false
}

// allocODPLocked returns the lowest free datapath port number (0 is never
// used, as in OVS where it is the datapath's own port).
func (s *Switch) allocODPLocked() uint32 {
	n := uint32(1)
	for s.odpUsed[n] {
		n++
	}
	s.odpUsed[n] = true
	return n
}

// releaseLocked undoes the datapath side of an interface.
func (s *Switch) releaseLocked(i *iface) {
	if i.dev == nil {
		return
	}
	if err := s.dp.DelPort(i.odp); err != nil {
		s.log.Warn("datapath port removal", "interface", i.name, "err", err)
	}
	if err := i.dev.Close(); err != nil {
		s.log.Warn("port close", "interface", i.name, "err", err)
	}
	delete(s.odpUsed, i.odp)
}

// ReconfigureInterface implements vswitchd.Switch: the port is rebuilt.
func (s *Switch) ReconfigureInterface(bridgeName string, port vswitchd.PortSpec, spec vswitchd.InterfaceSpec) (uint32, error) {
	s.mu.Lock()
	if b := s.bridges[bridgeName]; b != nil {
		if i := b.ifaces[spec.Name]; i != nil && spec.OFPortRequest == 0 {
			// Keep the number it had unless asked for another.
			spec.OFPortHint = i.ofport
		}
	}
	s.mu.Unlock()
	s.DelInterface(bridgeName, spec.Name)
	return s.AddInterface(bridgeName, port, spec)
}

// DelInterface implements vswitchd.Switch.
func (s *Switch) DelInterface(bridgeName, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bridges[bridgeName]
	if b == nil {
		return
	}
	s.delInterfaceLocked(b, name)
}

func (s *Switch) delInterfaceLocked(b *bridge, name string) {
	i := b.ifaces[name]
	if i == nil {
		return
	}
	var p ofproto.Port
	b.ofb.RLock()
	if op := b.ofb.Port(i.ofport); op != nil {
		p = *op
	}
	b.ofb.RUnlock()
	b.ofb.DelPort(i.ofport)
	s.releaseLocked(i)
	delete(b.ifaces, name)
	s.log.Info("port deleted", "bridge", b.name, "interface", name)
	s.portChanged(b.name, ofagent.PortDeleted, &p)
}

// ReconfigurePort implements vswitchd.Switch: VLAN settings for NORMAL.
func (s *Switch) ReconfigurePort(bridgeName string, port vswitchd.PortSpec) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bridges[bridgeName]
	if b == nil {
		return fmt.Errorf("no bridge %s", bridgeName)
	}
	for _, i := range b.ifaces {
		if i.port.Name != port.Name {
			continue
		}
		i.port = port
		b.ofb.UpdatePort(i.ofport, func(p *ofproto.Port) { applyVLAN(p, port) })
		s.applyRxqAffinityLocked(i)
	}
	return nil
}

// applyVLAN copies a Port row's VLAN settings to an OpenFlow port.
func applyVLAN(p *ofproto.Port, port vswitchd.PortSpec) {
	p.Tag = 0
	if port.Tagged {
		p.Tag = port.Tag
	}
	p.Trunks = append([]uint16(nil), port.Trunks...)
	p.VLANMode, _ = ofproto.ParseVLANMode(port.VLANMode)
}

// applyRxqAffinityLocked applies other_config:pmd-rxq-affinity of the
// interface ("0:3,1:7": rx queue 0 on CPU 3, queue 1 on CPU 7).
func (s *Switch) applyRxqAffinityLocked(i *iface) {
	if i.dev == nil {
		return
	}
	v := i.spec.OtherConfig["pmd-rxq-affinity"]
	aff := map[int]int{}
	for _, kv := range strings.Split(v, ",") {
		q, c, ok := strings.Cut(strings.TrimSpace(kv), ":")
		if !ok {
			continue
		}
		qi, err1 := strconv.Atoi(q)
		ci, err2 := strconv.Atoi(c)
		if err1 == nil && err2 == nil {
			aff[qi] = ci
		}
	}
	if err := s.dp.SetRxqAffinity(i.odp, aff); err != nil {
		s.log.Warn("pmd-rxq-affinity", "interface", i.name, "err", err)
	}
}

// InterfaceState implements vswitchd.Switch.
func (s *Switch) InterfaceState(bridgeName, name string) vswitchd.InterfaceState {
	// The interface's fields are read under the lock: the housekeeping
	// goroutine's link poll writes linkUp under it.
	s.mu.Lock()
	b := s.bridges[bridgeName]
	var i *iface
	if b != nil {
		i = b.ifaces[name]
	}
	if i == nil {
		s.mu.Unlock()
		return vswitchd.InterfaceState{}
	}
	linkUp, ofport, dev, odp, peer := i.linkUp, i.ofport, i.dev, i.odp, i.spec.Options["peer"]
	s.mu.Unlock()
	st := vswitchd.InterfaceState{LinkUp: linkUp, AdminUp: true, Status: map[string]string{}}
	if b != nil {
		b.ofb.RLock()
		if p := b.ofb.Port(ofport); p != nil {
			st.AdminUp = p.Config&ofproto.PortDown == 0
		}
		b.ofb.RUnlock()
	}
	if dev == nil {
		st.Status["peer"] = peer
		return st
	}
	for k, v := range dev.Status() {
		st.Status[k] = v
	}
	st.MACInUse = dev.MAC()
	st.MTU = dev.MTU()
	if ix, err := strconv.Atoi(st.Status["ifindex"]); err == nil {
		st.IfIndex = ix
	}
	ds, err := s.dp.PortStats(odp)
	if err == nil {
		st.Stats = map[string]int{
			"rx_packets": int(ds.RxPackets), "rx_bytes": int(ds.RxBytes),
			"rx_dropped": int(ds.RxDropped), "rx_errors": int(ds.RxErrors),
			"tx_packets": int(ds.TxPackets), "tx_bytes": int(ds.TxBytes),
			"tx_dropped": int(ds.TxDropped), "tx_errors": int(ds.TxErrors),
		}
	}
	return st
}

// pollLinks reads every port's carrier and reports changes to OpenFlow
// (port state, PORT_STATUS) once a second.
func (s *Switch) pollLinks() {
	type change struct {
		b  *bridge
		i  *iface
		up bool
	}
	var changes []change
	s.mu.Lock()
	for _, b := range s.bridges {
		for _, i := range b.ifaces {
			if i.dev == nil {
				continue
			}
			if up := i.dev.LinkUp(); up != i.linkUp {
				i.linkUp = up
				changes = append(changes, change{b, i, up})
			}
		}
	}
	s.mu.Unlock()
	for _, c := range changes {
		var p ofproto.Port
		c.b.ofb.UpdatePort(c.i.ofport, func(op *ofproto.Port) {
			if c.up {
				op.State &^= ofproto.StateLinkDown
			} else {
				op.State |= ofproto.StateLinkDown
			}
			p = *op
		})
		s.log.Info("link state", "interface", c.i.name, "up", c.up)
		s.portChanged(c.b.name, ofagent.PortModified, &p)
	}
}

// portChanged sends PORT_STATUS (reason ofagent.PortAdded, PortDeleted
// or PortModified) to the bridge's controllers.
func (s *Switch) portChanged(bridgeName string, reason uint8, p *ofproto.Port) {
	if v, ok := s.byName.Load(bridgeName); ok {
		if a := v.(*bridge).agent; a != nil {
			a.PortChanged(reason, p)
		}
	}
}

func typeName(t string) string {
	if t == "" {
		return "system"
	}
	return t
}
