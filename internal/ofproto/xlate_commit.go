package ofproto

import (
	"encoding/binary"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
)

// Committing header changes (OVS's commit_odp_actions).
//
// Translation changes the working key; the datapath must see the same
// changes, in the same order relative to outputs. Before every output (and
// packet-in, and MPLS push, whose header hides the L3 fields) commit turns
// the pending changes into datapath actions:
//
//   - VLAN and MPLS stacks are compared structurally with the stacks the
//     datapath packet has at that point (base), and the difference becomes
//     pops, pushes and a set of the outermost entry. Any change to a stack
//     made the whole stack exact in the megaflow, so the comparison gives
//     the same answer for every packet of the megaflow.
//   - Every other header field is committed from dirty, the bits the
//     pipeline wrote: the set action carries those bits and only those,
//     whatever the packet's own value was. So a set-field does not need
//     its field in the megaflow mask, and the actions are the same for all
//     packets of the megaflow.

const (
	mplsBOS     = 1 << 8
	mplsTTLMask = 0xff
)

func isMPLS(ethType uint16) bool {
	return ethType == flow.EthTypeMPLS || ethType == flow.EthTypeMPLSM
}

func isIP(ethType uint16) bool {
	return ethType == flow.EthTypeIPv4 || ethType == flow.EthTypeIPv6
}

// vlanCount returns how many VLAN tags k has.
func vlanCount(k *flow.Key) int {
	n := 0
	for n < flow.MaxVLANs && k.VLANs[n].TCI&flow.VLANCFI != 0 {
		n++
	}
	return n
}

// mplsCount returns how many label stack entries k has.
func mplsCount(k *flow.Key) int {
	if !isMPLS(k.EthType) {
		return 0
	}
	for i := 0; i < flow.MaxMPLS; i++ {
		if k.MPLS[i]&mplsBOS != 0 {
			return i + 1
		}
	}
	return flow.MaxMPLS
}

// commit emits the datapath actions that make the packet look like the
// working key.
func (c *xlateCtx) commit() {
	c.commitVLAN()
	c.commitMPLS()
	c.commitFields()
}

func (c *xlateCtx) commitVLAN() {
	b, w := &c.base, &c.key
	if b.VLANs == w.VLANs {
		return
	}
	nb, nw := vlanCount(b), vlanCount(w)
	// Pop until what is left of base can become the inner end of the
	// working stack with at most a TCI rewrite of its outermost tag.
	p := 0
	for ; p < nb; p++ {
		l := nb - p
		if l > nw {
			continue
		}
		if b.VLANs[p].TPID != w.VLANs[nw-l].TPID {
			continue
		}
		same := true
		for i := 1; i < l; i++ {
			if b.VLANs[p+i] != w.VLANs[nw-l+i] {
				same = false
				break
			}
		}
		if same {
			break
		}
	}
	for range p {
		c.acts = append(c.acts, odp.Action{Op: odp.OpPopVLAN})
	}
	l := nb - p
	if l > 0 && b.VLANs[p].TCI != w.VLANs[nw-l].TCI {
		a := odp.Action{Op: odp.OpSet, Field: odp.FieldVLANTCI}
		binary.BigEndian.PutUint16(a.Value[:], w.VLANs[nw-l].TCI&^flow.VLANCFI)
		binary.BigEndian.PutUint16(a.Mask[:], 0xffff&^flow.VLANCFI)
		c.acts = append(c.acts, a)
	}
	for i := nw - l - 1; i >= 0; i-- {
		c.acts = append(c.acts, odp.Action{Op: odp.OpPushVLAN,
			Arg: uint32(w.VLANs[i].TPID), Arg2: uint32(w.VLANs[i].TCI &^ flow.VLANCFI)})
	}
	b.VLANs = w.VLANs
}

func (c *xlateCtx) commitMPLS() {
	b, w := &c.base, &c.key
	if b.MPLS == w.MPLS && b.EthType == w.EthType {
		return
	}
	nb, nw := mplsCount(b), mplsCount(w)
	if nb == 0 && nw == 0 {
		b.EthType = w.EthType
		return
	}
	p := 0
	for ; p < nb; p++ {
		l := nb - p
		if l > nw {
			continue
		}
		same := true
		for i := 1; i < l; i++ {
			if b.MPLS[p+i] != w.MPLS[nw-l+i] {
				same = false
				break
			}
		}
		if same {
			break
		}
	}
	for i := range p {
		// The ethertype after a pop: still MPLS unless the popped entry
		// was the bottom of the stack.
		et := uint32(b.EthType)
		if i == nb-1 {
			et = uint32(c.innerEthType(w, nw))
		}
		c.acts = append(c.acts, odp.Action{Op: odp.OpPopMPLS, Arg: et})
	}
	l := nb - p
	if l > 0 && b.MPLS[p] != w.MPLS[nw-l] {
		a := odp.Action{Op: odp.OpSet, Field: odp.FieldMPLSLSE}
		binary.BigEndian.PutUint32(a.Value[:], w.MPLS[nw-l])
		binary.BigEndian.PutUint32(a.Mask[:], 0xffffffff)
		c.acts = append(c.acts, a)
	}
	for i := nw - l - 1; i >= 0; i-- {
		c.acts = append(c.acts, odp.Action{Op: odp.OpPushMPLS,
			Arg: uint32(w.EthType), Arg2: w.MPLS[i]})
	}
	b.MPLS, b.EthType = w.MPLS, w.EthType
}

// innerEthType is the ethertype a pop of the bottom label exposes.
func (c *xlateCtx) innerEthType(w *flow.Key, nw int) uint16 {
	if nw == 0 {
		return w.EthType
	}
	return c.mplsInner
}

// commitFields emits a masked set for every written bit of a header field
// the packet has now, and forgets those bits. Bits of fields the packet
// does not have at the moment (an IP TTL under an MPLS stack) stay pending.
func (c *xlateCtx) commitFields() {
	d := &c.dirty
	if d.IsZero() {
		return
	}
	if !c.restored.IsZero() {
		var m flow.Mask
		m.MaskFrom(d, &c.restored)
		c.wc.Or(&m)
	}
	w := &c.key
	c.setBytes(odp.FieldEthSrc, d.EthSrc[:], w.EthSrc[:])
	c.setBytes(odp.FieldEthDst, d.EthDst[:], w.EthDst[:])
	d.EthSrc, d.EthDst = [6]byte{}, [6]byte{}
	c.setU32(odp.FieldPktMark, &d.PktMark, w.PktMark)
	if d.TunID != 0 {
		var v, m [16]byte
		binary.BigEndian.PutUint64(v[:], w.TunID&d.TunID)
		binary.BigEndian.PutUint64(m[:], d.TunID)
		c.acts = append(c.acts, odp.Action{Op: odp.OpSet, Field: odp.FieldTunID, Value: v, Mask: m})
		d.TunID = 0
	}
	c.setU32(odp.FieldTunSrc, &d.TunSrc, w.TunSrc)
	c.setU32(odp.FieldTunDst, &d.TunDst, w.TunDst)

	switch w.EthType {
	case flow.EthTypeIPv4:
		c.setU32(odp.FieldIPv4Src, &d.NwSrc, w.NwSrc)
		c.setU32(odp.FieldIPv4Dst, &d.NwDst, w.NwDst)
		c.setU8(odp.FieldIPv4TOS, &d.NwTOS, w.NwTOS)
		c.setU8(odp.FieldIPv4TTL, &d.NwTTL, w.NwTTL)
		c.commitL4(flow.IPProtoICMP)
	case flow.EthTypeIPv6:
		c.setBytes(odp.FieldIPv6Src, d.IPv6Src[:], w.IPv6Src[:])
		c.setBytes(odp.FieldIPv6Dst, d.IPv6Dst[:], w.IPv6Dst[:])
		d.IPv6Src, d.IPv6Dst = [16]byte{}, [16]byte{}
		c.setU32(odp.FieldIPv6Label, &d.IPv6Label, w.IPv6Label)
		c.setU8(odp.FieldIPv6TC, &d.NwTOS, w.NwTOS)
		c.setU8(odp.FieldIPv6HopLimit, &d.NwTTL, w.NwTTL)
		c.commitL4(flow.IPProtoICMPv6)
		if w.NwProto == flow.IPProtoICMPv6 {
			c.setBytes(odp.FieldNdTarget, d.NdTarget[:], w.NdTarget[:])
			c.setBytes(odp.FieldNdSLL, d.ArpSHA[:], w.ArpSHA[:])
			c.setBytes(odp.FieldNdTLL, d.ArpTHA[:], w.ArpTHA[:])
			d.NdTarget, d.ArpSHA, d.ArpTHA = [16]byte{}, [6]byte{}, [6]byte{}
		}
	case flow.EthTypeARP, flow.EthTypeRARP:
		if d.ArpOp != 0 {
			var v, m [16]byte
			binary.BigEndian.PutUint16(v[:], w.ArpOp&d.ArpOp)
			binary.BigEndian.PutUint16(m[:], d.ArpOp)
			c.acts = append(c.acts, odp.Action{Op: odp.OpSet, Field: odp.FieldArpOp, Value: v, Mask: m})
			d.ArpOp = 0
		}
		c.setU32(odp.FieldArpSPA, &d.NwSrc, w.NwSrc)
		c.setU32(odp.FieldArpTPA, &d.NwDst, w.NwDst)
		c.setBytes(odp.FieldArpSHA, d.ArpSHA[:], w.ArpSHA[:])
		c.setBytes(odp.FieldArpTHA, d.ArpTHA[:], w.ArpTHA[:])
		d.ArpSHA, d.ArpTHA = [6]byte{}, [6]byte{}
	}
}

func (c *xlateCtx) commitL4(icmp uint8) {
	d, w := &c.dirty, &c.key
	if w.NwFrag&flow.FragLater != 0 {
		return
	}
	switch w.NwProto {
	case flow.IPProtoTCP, flow.IPProtoUDP, flow.IPProtoSCTP:
		c.setU16(odp.FieldTpSrc, &d.TpSrc, w.TpSrc)
		c.setU16(odp.FieldTpDst, &d.TpDst, w.TpDst)
	case icmp:
		if m := uint8(d.TpSrc); m != 0 {
			c.acts = append(c.acts, odp.Action{Op: odp.OpSet, Field: odp.FieldICMPType,
				Value: [16]byte{uint8(w.TpSrc) & m}, Mask: [16]byte{m}})
			d.TpSrc = 0
		}
		if m := uint8(d.TpDst); m != 0 {
			c.acts = append(c.acts, odp.Action{Op: odp.OpSet, Field: odp.FieldICMPCode,
				Value: [16]byte{uint8(w.TpDst) & m}, Mask: [16]byte{m}})
			d.TpDst = 0
		}
	}
}

func (c *xlateCtx) setBytes(f odp.Field, dirty, val []byte) {
	var v, m [16]byte
	any := false
	for i := range dirty {
		m[i] = dirty[i]
		v[i] = val[i] & dirty[i]
		any = any || dirty[i] != 0
	}
	if any {
		c.acts = append(c.acts, odp.Action{Op: odp.OpSet, Field: f, Value: v, Mask: m})
	}
}

func (c *xlateCtx) setU32(f odp.Field, dirty *uint32, val uint32) {
	if *dirty == 0 {
		return
	}
	var v, m [16]byte
	binary.BigEndian.PutUint32(v[:], val&*dirty)
	binary.BigEndian.PutUint32(m[:], *dirty)
	c.acts = append(c.acts, odp.Action{Op: odp.OpSet, Field: f, Value: v, Mask: m})
	*dirty = 0
}

func (c *xlateCtx) setU16(f odp.Field, dirty *uint16, val uint16) {
	if *dirty == 0 {
		return
	}
	var v, m [16]byte
	binary.BigEndian.PutUint16(v[:], val&*dirty)
	binary.BigEndian.PutUint16(m[:], *dirty)
	c.acts = append(c.acts, odp.Action{Op: odp.OpSet, Field: f, Value: v, Mask: m})
	*dirty = 0
}

func (c *xlateCtx) setU8(f odp.Field, dirty *uint8, val uint8) {
	if *dirty == 0 {
		return
	}
	c.acts = append(c.acts, odp.Action{Op: odp.OpSet, Field: f,
		Value: [16]byte{val & *dirty}, Mask: [16]byte{*dirty}})
	*dirty = 0
}
