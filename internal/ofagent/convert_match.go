package ofagent

import (
	bits64 "math/bits"
	"slices"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofproto"
)

// Matches on the wire are OXM (OpenFlow 1.3) or NXM (Nicira, over OpenFlow
// 1.0) TLV lists; in the model they are a flow.Key and flow.Mask. in_port
// stays an OpenFlow port number in the model; NXM_OF_IN_PORT carries it in
// 16 bits, so the OpenFlow 1.0 reserved ports are widened on the way in.

// Errors for matches, made once.
var (
	errBadField = &ofp.Error{Type: ofp.ETBadMatch, Code: ofp.BMCBadField}
	errBadMask  = &ofp.Error{Type: ofp.ETBadMatch, Code: ofp.BMCBadMask}
	errBadValue = &ofp.Error{Type: ofp.ETBadMatch, Code: ofp.BMCBadValue}
	errBadWild  = &ofp.Error{Type: ofp.ETBadMatch, Code: ofp.BMCBadWildcards}
	errDupField = &ofp.Error{Type: ofp.ETBadMatch, Code: ofp.BMCDupField}
	errPrereq   = &ofp.Error{Type: ofp.ETBadMatch, Code: ofp.BMCBadPrereq}
)

// fieldOfTLV finds the model field a TLV names: OXM basic by its code,
// NXM classes 0 and 1 by their NXM header. Other classes are unknown.
func fieldOfTLV(o *ofp.OXM) *flow.Field {
	switch o.Class {
	case ofp.ClassOpenFlowBasic:
		return flow.FieldByOXM(o.Class, o.Field)
	case ofp.ClassNXM0, ofp.ClassNXM1:
		return flow.FieldByNXM(uint32(o.Class)<<16 | uint32(o.Field)<<9)
	}
	return nil
}

// tlvWidth is the payload width a TLV for f must have: NXM_OF_IN_PORT is
// 16 bits, everything else the field's width.
func tlvWidth(o *ofp.OXM, f *flow.Field) int {
	if f.ID == flow.FieldInPort && o.Class == ofp.ClassNXM0 {
		return 2
	}
	return f.Bytes
}

// MatchFromTLVs converts an OXM or NXM match into the model. It refuses
// unknown fields (OFPBMC_BAD_FIELD), wrong lengths (BAD_LEN), masks on
// fields that take none (BAD_MASK), value bits outside the mask
// (BAD_WILDCARDS), values wider than the field (BAD_VALUE) and repeats
// (DUP_FIELD), and fields named without their prerequisites (BAD_PREREQ).
// The prerequisites are judged per named field, as OVS does while it pulls
// the match: ofproto.ValidateMatch judges the bits, and NXM's vlan_tci,
// which needs no VLAN, shares its bits with OXM's vlan_pcp, which does.
func MatchFromTLVs(tlvs []ofp.OXM) (ofproto.Match, error) {
	var m ofproto.Match
	err := matchFromTLVs(&m, tlvs)
	return m, err
}

// matchFromTLVs is MatchFromTLVs into m, which must be zero.
func matchFromTLVs(m *ofproto.Match, tlvs []ofp.OXM) error {
	var seen [flow.NumFieldIDs]bool
	for i := range tlvs {
		o := &tlvs[i]
		f := fieldOfTLV(o)
		if f == nil {
			return errBadField
		}
		w := tlvWidth(o, f)
		if len(o.Value) != w {
			// The length is part of the TLV header: OVS knows no
			// field by this header (OFPBMC_BAD_FIELD).
			return errBadField
		}
		if seen[f.ID] {
			return errDupField
		}
		seen[f.ID] = true
		all := f.AllOnes()
		var v, mask [16]byte
		copy(v[:], o.Value)
		if o.HasMask {
			copy(mask[:], o.Mask)
		} else {
			mask = all
		}
		if w == 2 && f.Bytes == 4 { // NXM_OF_IN_PORT
			p := ofproto.PortFrom16(uint16(v[0])<<8 | uint16(v[1]))
			v = f.Value(uint64(p))
			mask = all
		}
		if o.HasMask && !f.Maskable && mask != all {
			return errBadMask
		}
		for j := range f.Bytes { // beyond the width all three are zero
			if v[j]&^all[j] != 0 || mask[j]&^all[j] != 0 {
				return errBadValue
			}
			if v[j]&^mask[j] != 0 {
				return errBadWild
			}
		}
		if mask == all {
			// Exact: the same as SetMasked with all of the field's bits.
			f.Set(&m.Key, v)
			f.Set(&m.Mask, all)
			continue
		}
		f.SetMasked(&m.Key, v, mask)
		f.SetMasked(&m.Mask, mask, mask)
	}
	for i := range tlvs {
		if f := fieldOfTLV(&tlvs[i]); !f.PrereqsOK(&m.Key, &m.Mask) {
			return errPrereq
		}
	}
	return nil
}

// Field orders for writing a match: each field appears once per meaning,
// prerequisites pick among those that share storage (tcp_src, udp_src,
// icmp_type), and the first listed wins where two spell the same bits
// (OXM's vlan_vid+vlan_pcp and ip_dscp, NXM's vlan_tci and nw_tos).
var (
	orderOXM = buildOrder(flow.FieldVLANVID, flow.FieldVLANPCP, flow.FieldVLANTCI,
		flow.FieldIPDSCP, flow.FieldNwTOS)
	orderNXM = buildOrder(flow.FieldVLANTCI, flow.FieldNwTOS)
)

// maskWord is one 64-bit word of a field's storage in a flow.Mask.
type maskWord struct {
	i    int
	bits uint64
}

// fieldWords lists, per field, the mask words its bits lie in: whether a
// match still has unwritten bits of a field is then a test of a word or
// two, not of a whole mask (dump-flows writes every rule's match).
var fieldWords = func() (fw [flow.NumFieldIDs][]maskWord) {
	for id := flow.FieldID(1); id < flow.NumFieldIDs; id++ {
		f := flow.FieldByID(id)
		if f == nil {
			continue
		}
		var m flow.Mask
		f.Unwildcard(&m)
		for i, w := range m.Words() {
			if w != 0 {
				fw[id] = append(fw[id], maskWord{i, w})
			}
		}
	}
	return fw
}()

func buildOrder(first ...flow.FieldID) []flow.FieldID {
	base := []flow.FieldID{flow.FieldInPort, flow.FieldMetadata, flow.FieldEthDst, flow.FieldEthSrc, flow.FieldEthType}
	out := append(base, first...)
	rest := []flow.FieldID{
		flow.FieldIPECN, flow.FieldNwTTL, flow.FieldIPProto, flow.FieldIPFrag,
		flow.FieldIPv4Src, flow.FieldIPv4Dst, flow.FieldArpOp, flow.FieldArpSPA, flow.FieldArpTPA,
		flow.FieldArpSHA, flow.FieldArpTHA, flow.FieldIPv6Src, flow.FieldIPv6Dst, flow.FieldIPv6Label,
		flow.FieldIPv6Exthdr, flow.FieldTCPSrc, flow.FieldTCPDst, flow.FieldUDPSrc, flow.FieldUDPDst,
		flow.FieldSCTPSrc, flow.FieldSCTPDst, flow.FieldTCPFlags, flow.FieldICMPv4Type, flow.FieldICMPv4Code,
		flow.FieldICMPv6Type, flow.FieldICMPv6Code, flow.FieldNdTarget, flow.FieldNdSLL, flow.FieldNdTLL,
		flow.FieldMPLSLabel, flow.FieldMPLSTC, flow.FieldMPLSBOS, flow.FieldMPLSTTL, flow.FieldPbbISID,
		flow.FieldTunID, flow.FieldTunSrc, flow.FieldTunDst, flow.FieldTunIPv6Src, flow.FieldTunIPv6Dst,
		flow.FieldTunFlags, flow.FieldPktMark, flow.FieldDpHash, flow.FieldRecircID,
		flow.FieldCtState, flow.FieldCtZone, flow.FieldCtMark, flow.FieldCtLabel,
		flow.FieldCtNwProto, flow.FieldCtNwSrc, flow.FieldCtNwDst, flow.FieldCtTpSrc, flow.FieldCtTpDst,
	}
	out = append(out, rest...)
	for i := 0; i < flow.NumRegs; i++ {
		out = append(out, flow.FieldReg(i))
	}
	// Anything the lists above forgot still gets written.
	have := map[flow.FieldID]bool{}
	for _, id := range out {
		have[id] = true
	}
	for id := flow.FieldID(1); id < flow.NumFieldIDs; id++ {
		if !have[id] && id != flow.FieldInPhyPort {
			out = append(out, id)
		}
	}
	return out
}

// TLVsFromMatch writes m as OXM TLVs (nxm false: OpenFlow 1.3, OXM basic
// codes first) or NXM TLVs (nxm true: NXM codes first, in_port in 16
// bits). Fields with neither code fall back to the other family, as OVS
// does.
func TLVsFromMatch(m *ofproto.Match, nxm bool) []ofp.OXM {
	return AppendTLVsFromMatch(nil, m, nxm)
}

// AppendTLVsFromMatch is TLVsFromMatch appending to dst. Only the fields
// that overlap a non-zero word of m's mask are considered, in the
// family's order: a dump of many rules visits a handful of fields per
// rule rather than all of them.
func AppendTLVsFromMatch(dst []ofp.OXM, m *ofproto.Match, nxm bool) []ofp.OXM {
	return appendTLVs(dst, m, nxm, nil)
}

// appendTLVs is AppendTLVsFromMatch, recording in rec (when not nil)
// the fields it wrote.
func appendTLVs(dst []ofp.OXM, m *ofproto.Match, nxm bool, rec *tlvPlan) []ofp.OXM {
	ord := &oxmOrder
	if nxm {
		ord = &nxmOrder
	}
	var cand rankSet
	for i, w := range m.Mask.Words() {
		if w != 0 {
			for j := range cand {
				cand[j] |= ord.byWord[i][j]
			}
		}
	}
	var done flow.Mask
	mw, dw := m.Mask.Words(), done.Words()
	for j, bits := range cand {
		for ; bits != 0; bits &= bits - 1 {
			id := ord.ids[j*64+bits64.TrailingZeros64(bits)]
			f := flow.FieldByID(id)
			left := false
			for _, w := range fieldWords[id] {
				if w.bits&mw[w.i]&^dw[w.i] != 0 {
					left = true
					break
				}
			}
			if !left || !f.PrereqsOK(&m.Key, &m.Mask) {
				continue
			}
			mask := f.MaskValue(&m.Mask)
			exact := mask == f.AllOnes()
			if !exact && !f.Maskable {
				continue // a wider field later in the order spells it
			}
			var ok bool
			if dst, ok = appendTLV(dst, f, &m.Key, mask, exact, nxm); !ok {
				continue
			}
			if rec != nil {
				rec.fields = append(rec.fields, planField{f: f, mask: mask, exact: exact})
			}
			f.Unwildcard(&done)
			if f.ID == flow.FieldVLANVID && exact && m.Key.VLANs[0].TCI&flow.VLANCFI == 0 {
				done.VLANs[0].TCI = 0xffff // "no VLAN" says the PCP too
			}
		}
	}
	return dst
}

// appendTLV appends f's TLV for key k. A dump calls this with the
// previous rule's list as dst: its entries' value and mask buffers are
// reused.
func appendTLV(dst []ofp.OXM, f *flow.Field, k *flow.Key, mask [16]byte, exact, nxm bool) ([]ofp.OXM, bool) {
	var reuse ofp.OXM
	if len(dst) < cap(dst) {
		reuse = dst[:len(dst)+1][len(dst)]
	}
	o, ok := tlvFor(f, f.Get(k), mask, exact, nxm, reuse.Value[:0], reuse.Mask[:0])
	if !ok {
		return dst, false
	}
	return append(dst, o), true
}

// tlvPlan remembers which fields AppendTLVsFromMatch wrote for a match,
// with their masks. Which fields it writes depends on the mask and, for
// the prerequisites, on a few key values (planKey); a dump meets long
// runs of rules that agree on both (one subtable's), and writes their
// fields straight from the plan.
type tlvPlan struct {
	valid  bool
	nxm    bool
	mask   flow.Mask
	key    planKey
	fields []planField
}

type planField struct {
	f     *flow.Field
	mask  [16]byte
	exact bool
	// tlv is the field's TLV but for its value, when only the value
	// depends on the key (every field but NXM's in_port, which is
	// translated): the plan then writes the header and copies the value.
	tlv   ofp.OXM
	fixed bool
}

// planKey is what of a match's key its TLVs' choice depends on: the
// values flow's prerequisites test (VLAN present, dl_type, nw_proto, the
// ICMPv6 type) and the "no VLAN" spelling.
type planKey struct {
	tci     uint16
	ethType uint16
	proto   uint8
	icmp    uint8
}

func planKeyOf(m *ofproto.Match) planKey {
	k := &m.Key
	return planKey{tci: k.VLANs[0].TCI & flow.VLANCFI, ethType: k.EthType, proto: k.NwProto, icmp: uint8(k.TpSrc)}
}

// append is AppendTLVsFromMatch, through the plan when m fits it.
func (p *tlvPlan) append(dst []ofp.OXM, m *ofproto.Match, nxm bool) []ofp.OXM {
	return p.appendKnown(dst, m, nxm, false)
}

// appendKnown is append; sameMask says m's mask is that of the match the
// plan was last given, which spares comparing 312 bytes.
func (p *tlvPlan) appendKnown(dst []ofp.OXM, m *ofproto.Match, nxm, sameMask bool) []ofp.OXM {
	key := planKeyOf(m)
	if p.valid && p.nxm == nxm && p.key == key && (sameMask || p.mask == m.Mask) {
		for i := range p.fields {
			pf := &p.fields[i]
			if !pf.fixed {
				dst, _ = appendTLV(dst, pf.f, &m.Key, pf.mask, pf.exact, nxm)
				continue
			}
			// As appendTLV, reusing the entry's value buffer from the
			// previous rule's list.
			dst = slices.Grow(dst, 1)[:len(dst)+1]
			o := &dst[len(dst)-1]
			*o = ofp.OXM{Class: pf.tlv.Class, Field: pf.tlv.Field, HasMask: pf.tlv.HasMask,
				Value: pf.f.AppendValue(o.Value[:0], &m.Key), Mask: pf.tlv.Mask}
		}
		return dst
	}
	p.valid, p.nxm, p.mask, p.key, p.fields = true, nxm, m.Mask, key, p.fields[:0]
	dst = appendTLVs(dst, m, nxm, p)
	for i := range p.fields {
		pf := &p.fields[i]
		if pf.f.ID == flow.FieldInPort && nxm {
			continue
		}
		tlv, ok := tlvFor(pf.f, [16]byte{}, pf.mask, pf.exact, nxm, nil, nil)
		tlv.Value = nil
		pf.tlv, pf.fixed = tlv, ok
	}
	return dst
}

// rankSet is a set of positions in a field order.
type rankSet [(flow.NumFieldIDs + 63) / 64]uint64

// fieldOrder is the order a family writes fields in, with, for each key
// word, the positions of the fields that overlap it.
type fieldOrder struct {
	ids    []flow.FieldID
	byWord [flow.KeyWords]rankSet
}

var (
	oxmOrder = newFieldOrder(orderOXM)
	nxmOrder = newFieldOrder(orderNXM)
)

func newFieldOrder(ids []flow.FieldID) fieldOrder {
	o := fieldOrder{ids: ids}
	for r, id := range ids {
		for _, w := range fieldWords[id] {
			o.byWord[w.i][r/64] |= 1 << (r % 64)
		}
	}
	return o
}

// tlvFor returns f's TLV, appending its value and mask to vbuf and mbuf
// (nil: new buffers).
func tlvFor(f *flow.Field, v, mask [16]byte, exact, nxm bool, vbuf, mbuf []byte) (ofp.OXM, bool) {
	hasOXM, hasNXM := f.OXMClass != 0, f.NXMHeader != 0 || f.ID == flow.FieldInPort
	var o ofp.OXM
	switch {
	case f.ID == flow.FieldInPort && nxm:
		p := ofproto.PortTo16(uint32(f.Uint(v)))
		o = ofp.OXM{Class: ofp.ClassNXM0, Field: 0, Value: append(vbuf, byte(p>>8), byte(p))}
		return o, true
	case hasOXM && (!nxm || !hasNXM):
		o = ofp.OXM{Class: f.OXMClass, Field: f.OXMField}
	case hasNXM:
		o = ofp.OXM{Class: uint16(f.NXMHeader >> 16), Field: uint8(f.NXMHeader>>9) & 0x7f}
	default:
		return o, false
	}
	o.Value = append(vbuf, v[:f.Bytes]...)
	if !exact {
		o.HasMask = true
		o.Mask = append(mbuf, mask[:f.Bytes]...)
	}
	return o, true
}

type fieldHeader struct {
	header             uint32
	maskable, writable bool
}

// oxmFieldHeaders lists the OXM basic fields we match on (table
// features).
func oxmFieldHeaders() []fieldHeader {
	var out []fieldHeader
	for _, f := range flow.Fields() {
		if f.OXMClass == 0 {
			continue
		}
		out = append(out, fieldHeader{uint32(f.OXMClass)<<16 | uint32(f.OXMField)<<9 | uint32(f.Bytes), f.Maskable, f.Writable})
	}
	return out
}
