package flow

import (
	"math/bits"
	"sync"
)

// Prereq is a field's prerequisite (OF1.3 §7.2.3.6): what the rest of a
// match must pin down before the field means anything. Each one implies
// the prerequisites it is built on (PrereqTCP implies PrereqIP).
type Prereq uint8

const (
	PrereqNone      Prereq = iota
	PrereqInPort           // in_port exact (in_phy_port)
	PrereqVLAN             // a VLAN tag is present (vlan_vid != NONE)
	PrereqIP               // dl_type is IPv4 or IPv6
	PrereqIPv4             // dl_type is IPv4
	PrereqIPv6             // dl_type is IPv6
	PrereqARP              // dl_type is ARP or RARP
	PrereqMPLS             // dl_type is MPLS unicast or multicast
	PrereqPBB              // dl_type is PBB (0x88e7)
	PrereqTCP              // IP and nw_proto TCP
	PrereqUDP              // IP and nw_proto UDP
	PrereqSCTP             // IP and nw_proto SCTP
	PrereqICMPv4           // IPv4 and nw_proto ICMP
	PrereqICMPv6           // IPv6 and nw_proto ICMPv6
	PrereqND               // ICMPv6 and icmpv6_type 135 or 136
	PrereqNDSolicit        // ICMPv6 and icmpv6_type 135
	PrereqNDAdvert         // ICMPv6 and icmpv6_type 136
	PrereqCt               // conntrack fields: ct_state tracked (not checked: OVS leaves it to the ct action)
	PrereqCtIPv4           // conntrack IPv4 tuple: dl_type IPv4
)

// Ethertypes and IP protocols the prerequisites name.
const (
	EthTypeIPv4  = 0x0800
	EthTypeARP   = 0x0806
	EthTypeRARP  = 0x8035
	EthTypeIPv6  = 0x86dd
	EthTypeMPLS  = 0x8847
	EthTypeMPLSM = 0x8848
	EthTypePBB   = 0x88e7
	EthTypeVLAN  = 0x8100
	EthTypeQinQ  = 0x88a8

	IPProtoICMP   = 1
	IPProtoTCP    = 6
	IPProtoUDP    = 17
	IPProtoICMPv6 = 58
	IPProtoSCTP   = 132

	ICMPv6NeighborSolicit = 135
	ICMPv6NeighborAdvert  = 136
)

// PrereqsOK reports whether the match (k, m) satisfies f's prerequisites:
// every field they name is matched exactly with an allowed value.
func (f *Field) PrereqsOK(k *Key, m *Mask) bool { return prereqOK(f.Prereqs, k, m) }

// UnwildcardPrereqs sets in m the bits of the fields f's prerequisites
// name, so a megaflow that depended on f also depends on what made f
// meaningful.
func (f *Field) UnwildcardPrereqs(m *Mask) { unwildcardPrereq(f.Prereqs, m) }

func ethTypeIs(k *Key, m *Mask, types ...uint16) bool {
	if m.EthType != 0xffff {
		return false
	}
	for _, t := range types {
		if k.EthType == t {
			return true
		}
	}
	return false
}

func protoIs(k *Key, m *Mask, proto uint8) bool {
	return m.NwProto == 0xff && k.NwProto == proto
}

func icmpTypeIs(k *Key, m *Mask, types ...uint16) bool {
	if m.TpSrc&0xff != 0xff {
		return false
	}
	for _, t := range types {
		if k.TpSrc&0xff == t {
			return true
		}
	}
	return false
}

func prereqOK(p Prereq, k *Key, m *Mask) bool {
	switch p {
	case PrereqNone, PrereqCt:
		return true
	case PrereqInPort:
		return m.InPort == 0xffffffff
	case PrereqVLAN:
		return m.VLANs[0].TCI&VLANCFI != 0 && k.VLANs[0].TCI&VLANCFI != 0
	case PrereqIP:
		return ethTypeIs(k, m, EthTypeIPv4, EthTypeIPv6)
	case PrereqIPv4, PrereqCtIPv4:
		return ethTypeIs(k, m, EthTypeIPv4)
	case PrereqIPv6:
		return ethTypeIs(k, m, EthTypeIPv6)
	case PrereqARP:
		return ethTypeIs(k, m, EthTypeARP, EthTypeRARP)
	case PrereqMPLS:
		return ethTypeIs(k, m, EthTypeMPLS, EthTypeMPLSM)
	case PrereqPBB:
		return ethTypeIs(k, m, EthTypePBB)
	case PrereqTCP:
		return prereqOK(PrereqIP, k, m) && protoIs(k, m, IPProtoTCP)
	case PrereqUDP:
		return prereqOK(PrereqIP, k, m) && protoIs(k, m, IPProtoUDP)
	case PrereqSCTP:
		return prereqOK(PrereqIP, k, m) && protoIs(k, m, IPProtoSCTP)
	case PrereqICMPv4:
		return prereqOK(PrereqIPv4, k, m) && protoIs(k, m, IPProtoICMP)
	case PrereqICMPv6:
		return prereqOK(PrereqIPv6, k, m) && protoIs(k, m, IPProtoICMPv6)
	case PrereqND:
		return prereqOK(PrereqICMPv6, k, m) && icmpTypeIs(k, m, ICMPv6NeighborSolicit, ICMPv6NeighborAdvert)
	case PrereqNDSolicit:
		return prereqOK(PrereqICMPv6, k, m) && icmpTypeIs(k, m, ICMPv6NeighborSolicit)
	case PrereqNDAdvert:
		return prereqOK(PrereqICMPv6, k, m) && icmpTypeIs(k, m, ICMPv6NeighborAdvert)
	}
	return false
}

func unwildcardPrereq(p Prereq, m *Mask) {
	switch p {
	case PrereqInPort:
		m.InPort = 0xffffffff
	case PrereqVLAN:
		m.VLANs[0].TCI |= VLANCFI
	case PrereqIP, PrereqIPv4, PrereqIPv6, PrereqARP, PrereqMPLS, PrereqPBB, PrereqCtIPv4:
		m.EthType = 0xffff
	case PrereqTCP, PrereqUDP, PrereqSCTP, PrereqICMPv4, PrereqICMPv6:
		m.EthType = 0xffff
		m.NwProto = 0xff
	case PrereqND, PrereqNDSolicit, PrereqNDAdvert:
		m.EthType = 0xffff
		m.NwProto = 0xff
		m.TpSrc |= 0xff
	}
}

// MatchPrereqsOK checks a whole match: every bit set in m must belong to a
// field whose prerequisites (k, m) satisfy. It returns nil when the match
// is consistent, or the field that offends: one whose bits are matched
// without its prerequisites (several fields can share storage, like
// tcp_src and icmp_type, so the bits are judged rather than the fields).
// Only the fields m has bits of are looked at: a field m ignores allows
// no bit of m.
func MatchPrereqsOK(k *Key, m *Mask) (bad *Field, ok bool) {
	var buf [NumFieldIDs]FieldID
	return MatchPrereqsOKIn(k, m, FieldsIn(m, buf[:0]))
}

// MatchPrereqsOKIn is MatchPrereqsOK for a caller that has FieldsIn(m)
// already (present).
func MatchPrereqsOKIn(k *Key, m *Mask, present []FieldID) (bad *Field, ok bool) {
	var allowed Mask
	aw := allowed.Words()
	for _, id := range present {
		if f := &fields[id]; f.PrereqsOK(k, m) {
			for _, fw := range fieldWordsOf()[id] {
				aw[fw.word] |= fw.bits
			}
		}
	}
	mw := m.Words()
	for i := range aw {
		aw[i] = mw[i] &^ aw[i] // now the bits no allowed field covers
	}
	if allowed.IsZero() {
		return nil, true
	}
	for _, id := range present {
		for _, fw := range fieldWordsOf()[id] {
			if aw[fw.word]&fw.bits != 0 {
				return &fields[id], false
			}
		}
	}
	return nil, false // bits no field covers (padding, inner tags)
}

// FieldsIn appends to buf, in ascending order, the IDs of the fields of
// which m has at least one bit, and returns it. It looks only at m's
// non-zero words, so a typical match costs a few word tests rather than
// a walk of every field.
func FieldsIn(m *Mask, buf []FieldID) []FieldID {
	var set [(NumFieldIDs + 63) / 64]uint64
	idx := wordFieldsOf()
	for w, x := range m.Words() {
		if x == 0 {
			continue
		}
		for _, fw := range idx[w] {
			if x&fw.bits != 0 {
				set[fw.id/64] |= 1 << (fw.id % 64)
			}
		}
	}
	for i, x := range set {
		for x != 0 {
			b := bits.TrailingZeros64(x)
			x &= x - 1
			buf = append(buf, FieldID(i*64+b))
		}
	}
	return buf
}

// fieldWord is the part of one field that lies in one word of a Key.
type fieldWord struct {
	id   FieldID
	word uint16
	bits uint64
}

// fieldWordsOf gives each field's words; wordFieldsOf each word's fields,
// by ascending ID. Both are computed once from Field.Unwildcard.
var fieldWordsOf = sync.OnceValue(func() *[NumFieldIDs][]fieldWord {
	var out [NumFieldIDs][]fieldWord
	for id := FieldID(1); id < NumFieldIDs; id++ {
		var m Mask
		fields[id].Unwildcard(&m)
		for w, x := range m.Words() {
			if x != 0 {
				out[id] = append(out[id], fieldWord{id: id, word: uint16(w), bits: x})
			}
		}
	}
	return &out
})

var wordFieldsOf = sync.OnceValue(func() *[KeyWords][]fieldWord {
	var out [KeyWords][]fieldWord
	for _, fws := range fieldWordsOf() {
		for _, fw := range fws {
			out[fw.word] = append(out[fw.word], fw)
		}
	}
	return &out
})
