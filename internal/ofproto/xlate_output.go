package ofproto

import (
	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
)

// Outputs: ports, reserved ports, patch ports, the controller and groups.

// output is OpenFlow output to port (physical or reserved).
func (c *xlateCtx) output(port uint32, maxLen uint16) {
	switch port {
	case PortInPort:
		c.inPortUsed = true
		c.outputPort(c.key.InPort, true)
	case PortTable:
		if !c.packetOut {
			c.note("output:TABLE outside packet-out: ignored")
			return
		}
		c.depth++
		c.pipeline()
		c.depth--
	case PortNormal:
		c.normal()
	case PortFlood:
		c.flood(false)
	case PortAll:
		c.flood(true)
	case PortController:
		reason := ReasonAction
		if c.rule != nil && c.rule.Priority == 0 && c.rule.Match.IsCatchAll() {
			reason = ReasonNoMatch // a table-miss flow entry (OF1.3 §6.4)
		}
		c.controller(reason, maxLen, 0)
	case PortAny:
	default:
		c.outputPort(port, false)
	}
}

// outputPort sends the packet to one port of the current bridge. Output to
// the ingress port happens only through IN_PORT.
func (c *xlateCtx) outputPort(ofport uint32, inPortOK bool) {
	if ofport == c.key.InPort && !inPortOK {
		c.note("output to input port %d: skipped", ofport)
		return
	}
	p := c.bs.b.Port(ofport)
	if p == nil {
		c.note("output to unknown port %d: skipped", ofport)
		return
	}
	if p.Config&(PortNoFwd|PortDown) != 0 {
		c.note("port %d is NO_FWD or down: skipped", ofport)
		return
	}
	if p.PatchPeer != "" {
		c.patchOutput(p)
		return
	}
	if p.ODPPort == NoODPPort {
		return
	}
	c.commit()
	c.acts = append(c.acts, odp.Output(p.ODPPort))
	c.traceOutput(p.ODPPort)
}

// patchOutput continues translation in the peer bridge, as if the packet
// arrived on the peer port, with no datapath hop. Metadata and registers
// start from zero there; the packet comes back unchanged afterwards.
func (c *xlateCtx) patchOutput(p *Port) {
	peer, ok := c.pm.byName[p.PatchPeer]
	if !ok || peer.bs.b.Port(peer.ofport) == nil {
		c.note("patch port %s: peer %s missing", p.Name, p.PatchPeer)
		return
	}
	pp := peer.bs.b.Port(peer.ofport)
	if pp.Config&PortNoRecv != 0 {
		return
	}
	var saved copyState
	c.saveKey(&saved)
	oldBS, oldTable, oldRule, oldIn := c.bs, c.table, c.rule, c.inPortUsed
	c.bs = peer.bs
	c.key.InPort = peer.ofport
	c.key.Metadata = 0
	c.key.Regs = [flow.NumRegs]uint32{}
	c.table, c.rule = 0, nil
	c.depth++
	c.tracePatch(peer.bs.b.Name(), peer.ofport)
	c.pipeline()
	c.depth--
	c.exit = c.aborted // a drop in the peer ends only the peer's translation
	c.bs, c.table, c.rule, c.inPortUsed = oldBS, oldTable, oldRule, oldIn
	c.restoreKey(&saved)
}

// ports returns the current bridge's ports in OpenFlow port order.
func (c *xlateCtx) ports() []*Port { return c.pm.ports[c.bs.b] }

// flood is FLOOD (all but the ingress and NO_FLOOD ports) or ALL (all but
// the ingress port).
func (c *xlateCtx) flood(all bool) {
	for _, p := range c.ports() {
		if p.OFPort == c.key.InPort {
			continue
		}
		if !all && p.Config&PortNoFlood != 0 {
			continue
		}
		c.outputPort(p.OFPort, false)
		if c.exit {
			return
		}
	}
}

// controller sends the packet to controller id with a packet-in: the
// datapath hands it back through Userspace with the cookie made here.
func (c *xlateCtx) controller(reason PacketInReason, maxLen uint16, id uint16) {
	if in := c.bs.b.Port(c.key.InPort); in != nil && in.Config&PortNoPacketIn != 0 {
		c.note("packet-in suppressed: ingress port is NO_PACKET_IN")
		return
	}
	ck := ctrlCookie{
		bridge:       c.bs.b.Name(),
		reason:       reason,
		table:        c.table,
		controllerID: id,
		maxLen:       maxLen,
		inPort:       c.key.InPort,
		metadata:     c.key.Metadata,
		regs:         c.key.Regs,
		tunID:        c.key.TunID,
		pktMark:      c.key.PktMark,
	}
	if c.rule != nil {
		ck.cookie = c.rule.Cookie
	} else {
		ck.cookie = ^uint64(0)
	}
	arg, ok := c.o.cookies.intern(&ck)
	if !ok {
		// Too many distinct packet-in contexts: handle this packet
		// without a megaflow rather than forget old cookies.
		c.noInstall = true
	}
	c.commit()
	c.acts = append(c.acts, odp.Action{Op: odp.OpUserspace, Arg: arg, Arg2: uint32(maxLen)})
	c.tracePacketIn(reason, id)
}

// group executes group id.
func (c *xlateCtx) group(id uint32) {
	g := c.bs.b.Group(id)
	if g == nil {
		c.note("group %d: no such group, dropping", id)
		return
	}
	if c.depth >= c.o.opts.MaxResubmitDepth {
		c.note("group %d: too deep, dropping", id)
		c.exit = true
		return
	}
	c.buckets = append(c.buckets, bucketRef{g, -1}) // the group's own counters
	spec := &g.Spec
	switch spec.Type {
	case GroupTypeAll:
		for i := range spec.Buckets {
			c.bucket(g, i)
			if c.exit {
				return
			}
		}
	case GroupTypeIndirect:
		if len(spec.Buckets) > 0 {
			c.bucket(g, 0)
		}
	case GroupTypeFastFailover:
		for i := range spec.Buckets {
			if c.bs.b.BucketLive(&spec.Buckets[i]) {
				c.bucket(g, i)
				return
			}
		}
		c.note("group %d: no live bucket, dropping", id)
	case GroupTypeSelect:
		if i := c.selectBucket(g); i >= 0 {
			c.bucket(g, i)
		} else {
			c.note("group %d: no live bucket, dropping", id)
		}
	}
}

// bucket runs one bucket on a copy of the packet: its actions form an
// action set.
func (c *xlateCtx) bucket(g *Group, i int) {
	c.buckets = append(c.buckets, bucketRef{g, i})
	c.traceBucket(g.Spec.ID, i)
	var saved copyState
	c.saveKey(&saved)
	var as actionSet
	for j := range g.Spec.Buckets[i].Actions {
		as.write(&g.Spec.Buckets[i].Actions[j])
	}
	oldRule := c.rule
	c.depth++
	c.execActionSet(&as)
	c.depth--
	c.rule = oldRule
	c.exit = c.aborted // a drop inside a bucket drops only that copy
	c.restoreKey(&saved)
}

// selectBucket picks a live bucket of a select group by a stable hash of
// the packet's flow (addresses, protocol and ports), weighted by bucket
// weight: each live bucket scores hash(flow, bucket) scaled by its weight
// and the best wins, so removing a bucket moves only its own flows.
func (c *xlateCtx) selectBucket(g *Group) int {
	h := c.flowHash()
	best, bestScore := -1, uint64(0)
	for i := range g.Spec.Buckets {
		bk := &g.Spec.Buckets[i]
		if bk.Weight == 0 || !c.bs.b.BucketLive(bk) {
			continue
		}
		score := (mix64(h^uint64(i)*0x9e3779b97f4a7c15) & 0xffff) * uint64(bk.Weight)
		if best < 0 || score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// flowHash hashes the fields select groups balance on and makes them exact
// in the megaflow.
func (c *xlateCtx) flowHash() uint64 {
	k, wc := &c.key, &c.wc
	wc.EthType = 0xffff
	h := mix64(uint64(k.EthType))
	switch k.EthType {
	case flow.EthTypeIPv4, flow.EthTypeIPv6:
		wc.NwProto = 0xff
		if k.EthType == flow.EthTypeIPv4 {
			wc.NwSrc, wc.NwDst = 0xffffffff, 0xffffffff
			h = mix64(h ^ uint64(k.NwSrc)<<32 ^ uint64(k.NwDst))
		} else {
			wc.IPv6Src, wc.IPv6Dst = allOnes16, allOnes16
			h = mix64(h ^ le64(k.IPv6Src[:8]) ^ le64(k.IPv6Src[8:])*3)
			h = mix64(h ^ le64(k.IPv6Dst[:8]) ^ le64(k.IPv6Dst[8:])*5)
		}
		h = mix64(h ^ uint64(k.NwProto))
		switch k.NwProto {
		case flow.IPProtoTCP, flow.IPProtoUDP, flow.IPProtoSCTP:
			wc.TpSrc, wc.TpDst = 0xffff, 0xffff
			h = mix64(h ^ uint64(k.TpSrc)<<16 ^ uint64(k.TpDst))
		}
	default:
		wc.EthSrc, wc.EthDst = allOnes6, allOnes6
		h = mix64(h ^ mac64(&k.EthSrc) ^ mac64(&k.EthDst)<<1)
	}
	return h
}

var (
	allOnes6  = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	allOnes16 = [16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

func mac64(m *[6]byte) uint64 { return le64(m[:]) }

func le64(b []byte) uint64 {
	var x uint64
	for i := len(b) - 1; i >= 0; i-- {
		x = x<<8 | uint64(b[i])
	}
	return x
}

// mix64 is a 64-bit finaliser (splitmix64): stable across runs and
// machines, so a flow keeps its bucket.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
