package ofagent

import (
	"encoding/binary"
	"time"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/of10"
	"github.com/govs/govs/internal/ofp/of13"
	"github.com/govs/govs/internal/ofproto"
)

// Asynchronous messages: packet-in, flow-removed and port-status go to
// every connection whose role and async configuration ask for them.

// Port-status reasons (ofp_port_reason).
const (
	PortAdded    uint8 = 0
	PortDeleted  uint8 = 1
	PortModified uint8 = 2
)

// PacketIn sends pi to the controllers that want it: those whose
// controller id matches and whose async configuration takes the reason.
// Service connections (ovs-ofctl) get packet-ins only after setting a
// miss_send_len. It does not block (PMD goroutines call it).
func (a *Agent) PacketIn(pi *ofproto.PacketIn) {
	a.eachConn(func(c *ofconn) {
		c.mu.Lock()
		ok := c.controllerID == pi.ControllerID && (c.controller || c.missSendLen > 0)
		c.mu.Unlock()
		if ok && c.wants(asyncPacketIn, uint8(pi.Reason)) {
			c.sendAsync(c.packetInMsg(pi))
		}
	})
}

// packetInMsg encodes pi in the connection's format.
func (c *ofconn) packetInMsg(pi *ofproto.PacketIn) []byte {
	c.mu.Lock()
	version, nxFormat, missLen := c.version, c.nxPacketIn, c.missSendLen
	c.mu.Unlock()
	data := pi.Packet
	if pi.Reason == ofproto.ReasonNoMatch && missLen != ofproto.ControllerMaxLenNoBuffer && int(missLen) < len(data) &&
		pi.MaxLen == ofproto.ControllerMaxLenNoBuffer {
		data = data[:missLen]
	}
	total := uint16(min(pi.TotalLen, 0xffff))
	var md ofproto.Match
	pipelineMatch(&md, &pi.Match)
	switch {
	case version == ofp.Version13:
		m := &of13.PacketIn{BufferID: ofproto.NoBuffer, TotalLen: total, Reason: uint8(pi.Reason),
			TableID: pi.TableID, Cookie: pi.Cookie, Data: data,
			Match: of13.Match{Type: of13.OXMTypeMatch, Fields: TLVsFromMatch(&md, false)}}
		return m.AppendTo(nil)
	case nxFormat:
		body := &of10.NXPacketIn{BufferID: ofproto.NoBuffer, TotalLen: total, Reason: uint8(pi.Reason),
			TableID: pi.TableID, Cookie: pi.Cookie, Match: TLVsFromMatch(&md, true), Data: data}
		return of10.NewNicira(0, of10.NXTPacketIn, body).AppendTo(nil)
	}
	m := &of10.PacketIn{BufferID: ofproto.NoBuffer, TotalLen: total, InPort: ofproto.PortTo16(pi.Match.InPort),
		Reason: uint8(pi.Reason), Data: data}
	return m.AppendTo(nil)
}

// pipelineMatch is the packet-in match: in_port always, and the pipeline
// fields (metadata, tunnel id, registers, packet mark) that are set.
func pipelineMatch(m *ofproto.Match, k *flow.Key) {
	m.Key.InPort, m.Mask.InPort = k.InPort, ^uint32(0)
	if k.Metadata != 0 {
		m.Key.Metadata, m.Mask.Metadata = k.Metadata, ^uint64(0)
	}
	if k.TunID != 0 {
		m.Key.TunID, m.Mask.TunID = k.TunID, ^uint64(0)
	}
	if k.PktMark != 0 {
		m.Key.PktMark, m.Mask.PktMark = k.PktMark, ^uint32(0)
	}
	for i, r := range k.Regs {
		if r != 0 {
			m.Key.Regs[i], m.Mask.Regs[i] = r, ^uint32(0)
		}
	}
}

// FlowsRemoved sends FLOW_REMOVED for the removed rules that asked for it
// (send_flow_rem). The integrator calls it with what Bridge.Expire
// returned; flow-mod deletes arrive through Bridge.OnRemoved.
func (a *Agent) FlowsRemoved(rm []ofproto.Removed) {
	now := time.Now()
	for _, r := range rm {
		if r.Rule.Flags&ofproto.FlagSendFlowRem == 0 {
			continue
		}
		a.eachConn(func(c *ofconn) {
			reason := uint8(r.Reason)
			if reason > uint8(ofproto.RemovedDelete) {
				reason = uint8(ofproto.RemovedDelete) // OF1.0/1.3 have no group/meter reasons
			}
			if c.wants(asyncFlowRemoved, reason) {
				c.sendAsync(c.flowRemovedMsg(r.Rule, reason, now))
			}
		})
	}
}

func (c *ofconn) flowRemovedMsg(r *ofproto.Rule, reason uint8, now time.Time) []byte {
	c.mu.Lock()
	version, nxm := c.version, c.nxmFlowFormat
	c.mu.Unlock()
	d := now.Sub(r.Created)
	sec, nsec := durSec(d), durNsec(d)
	pkts, bytes := r.Packets.Load(), r.Bytes.Load()
	match := r.Match.Expand()
	switch {
	case version == ofp.Version13:
		m := &of13.FlowRemoved{Cookie: r.Cookie, Priority: r.Priority, Reason: reason, TableID: r.Table,
			DurationSec: sec, DurationNsec: nsec, IdleTimeout: r.IdleTimeout, HardTimeout: r.HardTimeout,
			PacketCount: pkts, ByteCount: bytes,
			Match: of13.Match{Type: of13.OXMTypeMatch, Fields: TLVsFromMatch(&match, false)}}
		return m.AppendTo(nil)
	case nxm || !Fits10(&match):
		return nxFlowRemoved(r, &match, reason, sec, nsec, pkts, bytes)
	}
	m := &of10.FlowRemoved{Match: MatchTo10(&match), Cookie: r.Cookie, Priority: r.Priority, Reason: reason,
		DurationSec: sec, DurationNsec: nsec, IdleTimeout: r.IdleTimeout, PacketCount: pkts, ByteCount: bytes}
	return m.AppendTo(nil)
}

// nxtFlowRemoved is NXT_FLOW_REMOVED, which the codec does not model:
// written here by hand (nx_flow_removed, OVS's nx-match.h).
const nxtFlowRemoved = 14

func nxFlowRemoved(r *ofproto.Rule, match *ofproto.Match, reason uint8, sec, nsec uint32, pkts, bytes uint64) []byte {
	tlvs := TLVsFromMatch(match, true)
	b, start := ofp.AppendHeader(nil, ofp.Version10, of10.TypeVendor, 0)
	b = binary.BigEndian.AppendUint32(b, 0x00002320)
	b = binary.BigEndian.AppendUint32(b, nxtFlowRemoved)
	b = binary.BigEndian.AppendUint64(b, r.Cookie)
	b = binary.BigEndian.AppendUint16(b, r.Priority)
	b = append(b, reason, r.Table)
	b = binary.BigEndian.AppendUint32(b, sec)
	b = binary.BigEndian.AppendUint32(b, nsec)
	b = binary.BigEndian.AppendUint16(b, r.IdleTimeout)
	b = binary.BigEndian.AppendUint16(b, uint16(ofp.OXMsLen(tlvs)))
	b = binary.BigEndian.AppendUint64(b, pkts)
	b = binary.BigEndian.AppendUint64(b, bytes)
	b = ofp.AppendOXMs(b, tlvs)
	b = append(b, make([]byte, ofp.Pad8(ofp.OXMsLen(tlvs)))...)
	return ofp.EndMessage(b, start)
}

// PortChanged sends PORT_STATUS (reason PortAdded, PortDeleted or
// PortModified) for p to every connection that wants it. The integrator
// calls it for every port add, delete and state change; PORT_MOD through
// the agent reports itself.
func (a *Agent) PortChanged(reason uint8, p *ofproto.Port) {
	a.eachConn(func(c *ofconn) {
		if !c.wants(asyncPortStatus, reason) {
			return
		}
		if c.getVersion() == ofp.Version13 {
			c.sendAsync((&of13.PortStatus{Reason: reason, Desc: portTo13(p)}).AppendTo(nil))
		} else {
			c.sendAsync((&of10.PortStatus{Reason: reason, Desc: portTo10(p)}).AppendTo(nil))
		}
	})
}

func portName(s string) [16]byte {
	var n [16]byte
	copy(n[:15], s)
	return n
}

func portTo13(p *ofproto.Port) of13.Port {
	return of13.Port{PortNo: p.OFPort, HWAddr: p.HWAddr, Name: portName(p.Name), Config: uint32(p.Config),
		State: uint32(p.State), Curr: p.Curr, Advertised: p.Advertised, Supported: p.Supported, Peer: p.Peer,
		CurrSpeed: p.CurrSpeed, MaxSpeed: p.MaxSpeed}
}

func portTo10(p *ofproto.Port) of10.PhyPort {
	// OF1.0 state has no LIVE bit; bit 1 is STP state, left as listen (0).
	return of10.PhyPort{PortNo: ofproto.PortTo16(p.OFPort), HWAddr: p.HWAddr, Name: portName(p.Name),
		Config: uint32(p.Config), State: uint32(p.State & ofproto.StateLinkDown),
		Curr: p.Curr, Advertised: p.Advertised, Supported: p.Supported, Peer: p.Peer}
}

// packetOut runs a packet-out's actions: ofproto translates them (TABLE
// runs the pipeline) and the datapath executes the result.
func (a *Agent) packetOut(bufferID, inPort uint32, acts []ofproto.Action, data []byte) error {
	if bufferID != ofproto.NoBuffer {
		return errBufferUnknown
	}
	switch {
	case inPort < ofproto.PortMax, inPort == ofproto.PortController, inPort == ofproto.PortLocal,
		inPort == ofproto.PortAny:
	default:
		return errBadPort
	}
	var m ofproto.Match
	flow.ParseBytes(data, &m.Key)
	m.Key.InPort = inPort
	m.Mask = flow.Exact()
	a.b.RLock()
	err := a.b.ValidateActions(acts, &m, true)
	a.b.RUnlock()
	if err != nil {
		return err
	}
	odpActs, err := a.opts.Ofproto.PacketOut(a.b.Name(), inPort, acts, data)
	if err != nil {
		return err
	}
	if a.opts.Execute != nil && len(odpActs) > 0 {
		return a.opts.Execute(data, inPort, odpActs)
	}
	return nil
}

// durSec and durNsec split a rule's age for duration_sec/duration_nsec,
// to the millisecond as OVS reports it (ovs-ofctl prints what it gets, so
// nanoseconds would show as nine decimals).
func durSec(d time.Duration) uint32 { return uint32(d / time.Second) }

func durNsec(d time.Duration) uint32 {
	return uint32(d % time.Second / time.Millisecond * time.Millisecond)
}
