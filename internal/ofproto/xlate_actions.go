package ofproto

import (
	"github.com/govs/govs/internal/flow"
)

// One function per OpenFlow action. Each records in c.wc what its decision
// depended on and in c.dirty what it wrote.

func (c *xlateCtx) action(a *Action) {
	c.traceAction(a)
	switch a.Type {
	case ActOutput, ActEnqueue:
		c.output(a.Port, a.MaxLen)
	case ActController:
		reason := PacketInReason(a.Reason)
		c.controller(reason, a.MaxLen, a.ControllerID)
	case ActGroup:
		c.group(a.Group)
	case ActSetField:
		c.setField(a.Field, a.Value, a.Mask)
	case ActPushVLAN:
		c.pushVLAN(a.Ethertype)
	case ActPopVLAN:
		c.popVLAN()
	case ActPushMPLS:
		c.pushMPLS(a.Ethertype)
	case ActPopMPLS:
		c.popMPLS(a.Ethertype)
	case ActSetNwTTL:
		c.setNwTTL(a.TTL)
	case ActDecNwTTL:
		c.decNwTTL(a.Controllers)
	case ActSetMPLSTTL:
		c.setMPLSTTL(a.TTL)
	case ActDecMPLSTTL:
		c.decMPLSTTL()
	case ActCopyTTLOut:
		c.copyTTLOut()
	case ActCopyTTLIn:
		c.copyTTLIn()
	case ActResubmit:
		c.resubmit(a)
	case ActRegMove:
		c.regMove(a)
	case ActOutputReg:
		src := flow.FieldByID(a.SrcField)
		if src == nil {
			return
		}
		port := uint32(getBits(src, &c.key, a.SrcOfs, a.NBits))
		setBits(src, &c.wc, a.SrcOfs, a.NBits, ^uint64(0))
		c.output(port, a.MaxLen)
	case ActMeter:
		c.meter(a.Meter)
	case ActLearn:
		c.learn(a.Learn)
	case ActSetQueue, ActNote:
		// No datapath queues yet; notes have no effect by definition.
	case ActPushPBB, ActPopPBB:
		c.note("PBB push/pop is not supported by the datapath: ignored")
	}
}

// setField is OpenFlow set-field and Nicira reg_load: the bits of field id
// selected by mask become value's. A field whose prerequisites the packet
// does not meet is left alone (the decision depended on them).
func (c *xlateCtx) setField(id flow.FieldID, value, mask [16]byte) {
	f := flow.FieldByID(id)
	if f == nil || !f.Writable {
		return
	}
	f.UnwildcardPrereqs(&c.wc)
	if !f.PrereqsOK(&c.key, &exactMask) {
		c.note("set_field %s: prerequisites not met, skipped", f.Name)
		return
	}
	if c.l3Hidden && !isMPLS(c.key.EthType) && needsL3(f.Prereqs) {
		// Reached only after a pop exposed an unparsed header.
		c.exit = true
		return
	}
	switch id {
	case flow.FieldVLANVID, flow.FieldVLANPCP, flow.FieldVLANTCI:
		c.vlanExact()
	case flow.FieldMPLSLabel, flow.FieldMPLSTC, flow.FieldMPLSBOS, flow.FieldMPLSTTL:
		c.mplsExact()
	}
	f.SetMasked(&c.key, value, mask)
	var m flow.Mask
	f.SetMasked(&m, mask, mask)
	c.markWritten(&m)
}

// regMove copies NBits bits from SrcField at SrcOfs to Field at DstOfs.
func (c *xlateCtx) regMove(a *Action) {
	src, dst := flow.FieldByID(a.SrcField), flow.FieldByID(a.Field)
	if src == nil || dst == nil || a.NBits == 0 || a.NBits > 64 {
		return
	}
	src.UnwildcardPrereqs(&c.wc)
	setBits(src, &c.wc, a.SrcOfs, a.NBits, ^uint64(0))
	v := getBits(src, &c.key, a.SrcOfs, a.NBits)
	dst.UnwildcardPrereqs(&c.wc)
	if !dst.PrereqsOK(&c.key, &exactMask) || !dst.Writable {
		return
	}
	switch a.Field {
	case flow.FieldVLANVID, flow.FieldVLANPCP, flow.FieldVLANTCI:
		c.vlanExact()
	case flow.FieldMPLSLabel, flow.FieldMPLSTC, flow.FieldMPLSBOS, flow.FieldMPLSTTL:
		c.mplsExact()
	}
	setBits(dst, &c.key, a.DstOfs, a.NBits, v)
	var m flow.Mask
	setBits(dst, &m, a.DstOfs, a.NBits, ^uint64(0))
	c.markWritten(&m)
}

// getBits returns n bits of field f at bit offset ofs (0: least
// significant bit of the wire value).
func getBits(f *flow.Field, k *flow.Key, ofs, n uint16) uint64 {
	v := f.Get(k)
	var x uint64
	for i := int(n) - 1; i >= 0; i-- {
		x = x<<1 | uint64(bitOf(&v, f.Bytes, int(ofs)+i))
	}
	return x
}

// setBits sets n bits of field f at ofs to the low bits of x.
func setBits(f *flow.Field, k *flow.Key, ofs, n uint16, x uint64) {
	var v, m [16]byte
	for i := 0; i < int(n); i++ {
		bit := int(ofs) + i
		if bit >= f.Bytes*8 {
			break
		}
		byteIdx := f.Bytes - 1 - bit/8
		m[byteIdx] |= 1 << (bit % 8)
		if x>>i&1 != 0 {
			v[byteIdx] |= 1 << (bit % 8)
		}
	}
	f.SetMasked(k, v, m)
}

func bitOf(v *[16]byte, width, bit int) uint8 {
	if bit >= width*8 {
		return 0
	}
	return v[width-1-bit/8] >> (bit % 8) & 1
}

// vlanExact makes the whole VLAN stack exact: a change to it is committed
// by comparing stacks, and tags move between positions on push and pop.
func (c *xlateCtx) vlanExact() {
	for i := range c.wc.VLANs {
		c.wc.VLANs[i] = flow.VLAN{TPID: 0xffff, TCI: 0xffff}
	}
}

func (c *xlateCtx) mplsExact() {
	c.wc.EthType = 0xffff
	for i := range c.wc.MPLS {
		c.wc.MPLS[i] = 0xffffffff
	}
}

// pushVLAN pushes a tag with VID 0 and PCP 0, as OVS does (OF1.3
// §5.12.1 would copy them from the tag it covers; controllers written for
// OVS set them after the push).
func (c *xlateCtx) pushVLAN(tpid uint16) {
	c.vlanExact()
	k := &c.key
	if vlanCount(k) == flow.MaxVLANs {
		c.note("push_vlan: more than %d tags, dropping", flow.MaxVLANs)
		c.exit = true
		return
	}
	copy(k.VLANs[1:], k.VLANs[:flow.MaxVLANs-1])
	k.VLANs[0] = flow.VLAN{TPID: tpid, TCI: flow.VLANCFI}
}

func (c *xlateCtx) popVLAN() {
	c.vlanExact()
	k := &c.key
	if k.VLANs[0].TCI&flow.VLANCFI == 0 {
		return
	}
	copy(k.VLANs[:], k.VLANs[1:])
	k.VLANs[flow.MaxVLANs-1] = flow.VLAN{}
}

// pushMPLS pushes a label as OF1.3 §5.12.1 fills it: a copy of the outer
// label (bottom-of-stack cleared) if there is one; otherwise label 0, TC 0
// and the IP TTL (0 for a packet that is not IP). OVS differs for the
// first label: TC from the DSCP, TTL 64 for non-IP, label 2 for IPv6.
func (c *xlateCtx) pushMPLS(ethType uint16) {
	c.mplsExact()
	k := &c.key
	n := mplsCount(k)
	if n == flow.MaxMPLS {
		c.note("push_mpls: more than %d labels, dropping", flow.MaxMPLS)
		c.exit = true
		return
	}
	// Header sets written so far apply to the headers the label hides.
	c.commit()
	var lse uint32
	if n > 0 {
		lse = k.MPLS[0] &^ mplsBOS
	} else {
		lse = mplsBOS
		if isIP(k.EthType) {
			c.wc.NwTTL = 0xff
			lse |= uint32(k.NwTTL)
		}
		c.mplsInner = k.EthType
	}
	copy(k.MPLS[1:], k.MPLS[:flow.MaxMPLS-1])
	k.MPLS[0] = lse
	k.EthType = ethType
}

func (c *xlateCtx) popMPLS(ethType uint16) {
	c.mplsExact()
	k := &c.key
	n := mplsCount(k)
	if n == 0 {
		return
	}
	bos := k.MPLS[0]&mplsBOS != 0
	copy(k.MPLS[:], k.MPLS[1:])
	k.MPLS[flow.MaxMPLS-1] = 0
	if bos || n == 1 {
		k.MPLS = [flow.MaxMPLS]uint32{}
		k.EthType = ethType
		if bos {
			c.exposeInner(ethType)
		}
		if !c.l3Hidden {
			c.mplsInner = 0
		}
	}
}

func (c *xlateCtx) ipTTLApplies() bool {
	c.wc.EthType = 0xffff
	if !isIP(c.key.EthType) {
		return false
	}
	if c.l3Hidden {
		c.exit = true
		return false
	}
	return true
}

func (c *xlateCtx) setNwTTL(ttl uint8) {
	if !c.ipTTLApplies() {
		return
	}
	c.key.NwTTL = ttl
	c.markWritten(&flow.Mask{NwTTL: 0xff})
}

// decNwTTL decrements the IP TTL; an expiring packet is dropped and, if the
// action names controllers, sent to them with reason INVALID_TTL.
func (c *xlateCtx) decNwTTL(controllers []uint16) {
	if !c.ipTTLApplies() {
		return
	}
	c.wc.NwTTL = 0xff
	if c.key.NwTTL <= 1 {
		for _, id := range controllers {
			c.controller(ReasonInvalidTTL, ControllerMaxLenNoBuffer, id)
		}
		c.note("dec_ttl: TTL expired, dropping")
		c.exit = true
		return
	}
	c.key.NwTTL--
	c.markWritten(&flow.Mask{NwTTL: 0xff})
}

func (c *xlateCtx) setMPLSTTL(ttl uint8) {
	c.mplsExact()
	if mplsCount(&c.key) == 0 {
		return
	}
	c.key.MPLS[0] = c.key.MPLS[0]&^mplsTTLMask | uint32(ttl)
}

// decMPLSTTL decrements the outermost label's TTL; an expiring packet goes
// to controller 0 with reason INVALID_TTL (as OVS does) and is dropped.
func (c *xlateCtx) decMPLSTTL() {
	c.mplsExact()
	if mplsCount(&c.key) == 0 {
		return
	}
	ttl := c.key.MPLS[0] & mplsTTLMask
	if ttl <= 1 {
		c.controller(ReasonInvalidTTL, ControllerMaxLenNoBuffer, 0)
		c.note("dec_mpls_ttl: TTL expired, dropping")
		c.exit = true
		return
	}
	c.key.MPLS[0]--
}

// needsL3 reports whether a field with prerequisite p lives in the headers
// an MPLS stack hides.
func needsL3(p flow.Prereq) bool {
	switch p {
	case flow.PrereqNone, flow.PrereqInPort, flow.PrereqVLAN, flow.PrereqMPLS, flow.PrereqPBB, flow.PrereqCt:
		return false
	}
	return true
}
