package ofagent

import (
	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/ofp/of10"
	"github.com/govs/govs/internal/ofproto"
)

// OpenFlow 1.0 ofp_match wildcard bits (ofp_flow_wildcards).
const (
	fw10InPort    = 1 << 0
	fw10DLVLAN    = 1 << 1
	fw10DLSrc     = 1 << 2
	fw10DLDst     = 1 << 3
	fw10DLType    = 1 << 4
	fw10NwProto   = 1 << 5
	fw10TpSrc     = 1 << 6
	fw10TpDst     = 1 << 7
	fw10NwSrcSh   = 8
	fw10NwDstSh   = 14
	fw10NwSrcMask = 0x3f << fw10NwSrcSh
	fw10NwDstMask = 0x3f << fw10NwDstSh
	fw10DLVLANPCP = 1 << 20
	fw10NwTOS     = 1 << 21
	fw10All       = 1<<22 - 1

	vlan10None = 0xffff // OFP_VLAN_NONE
)

// MatchFrom10 converts an OpenFlow 1.0 match. Like OVS it ignores the
// fields whose prerequisites the match does not pin down (an OpenFlow 1.0
// switch may not reject them), and reads nw_proto as the ARP opcode and
// tp_src/tp_dst as the ICMP type/code where the protocol says so.
func MatchFrom10(w *of10.Match) ofproto.Match {
	var m ofproto.Match
	k, mk := &m.Key, &m.Mask
	wc := w.Wildcards
	if wc&fw10InPort == 0 {
		k.InPort, mk.InPort = ofproto.PortFrom16(w.InPort), 0xffffffff
	}
	if wc&fw10DLSrc == 0 {
		k.EthSrc, mk.EthSrc = w.DLSrc, [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	}
	if wc&fw10DLDst == 0 {
		k.EthDst, mk.EthDst = w.DLDst, [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	}
	if wc&fw10DLVLAN == 0 {
		if w.DLVLAN == vlan10None {
			k.VLANs[0].TCI, mk.VLANs[0].TCI = 0, 0xffff
		} else {
			k.VLANs[0].TCI = w.DLVLAN&0xfff | flow.VLANCFI
			mk.VLANs[0].TCI = 0x1fff
		}
	}
	if wc&fw10DLVLANPCP == 0 && !(wc&fw10DLVLAN == 0 && w.DLVLAN == vlan10None) {
		k.VLANs[0].TCI |= uint16(w.DLVLANPCP&7)<<13 | flow.VLANCFI
		mk.VLANs[0].TCI |= 0xe000 | flow.VLANCFI
	}
	if wc&fw10DLType == 0 {
		k.EthType, mk.EthType = w.DLType, 0xffff
	}
	ip := k.EthType == flow.EthTypeIPv4 && mk.EthType == 0xffff
	arp := (k.EthType == flow.EthTypeARP || k.EthType == flow.EthTypeRARP) && mk.EthType == 0xffff
	if ip || arp {
		if n := (wc & fw10NwSrcMask) >> fw10NwSrcSh; n < 32 {
			mk.NwSrc = ^uint32(0) << n
			k.NwSrc = w.NwSrc & mk.NwSrc
		}
		if n := (wc & fw10NwDstMask) >> fw10NwDstSh; n < 32 {
			mk.NwDst = ^uint32(0) << n
			k.NwDst = w.NwDst & mk.NwDst
		}
	}
	if ip {
		if wc&fw10NwTOS == 0 {
			k.NwTOS, mk.NwTOS = w.NwTOS&0xfc, 0xfc
		}
		if wc&fw10NwProto == 0 {
			k.NwProto, mk.NwProto = w.NwProto, 0xff
			switch w.NwProto {
			case flow.IPProtoTCP, flow.IPProtoUDP, flow.IPProtoSCTP:
				if wc&fw10TpSrc == 0 {
					k.TpSrc, mk.TpSrc = w.TpSrc, 0xffff
				}
				if wc&fw10TpDst == 0 {
					k.TpDst, mk.TpDst = w.TpDst, 0xffff
				}
			case flow.IPProtoICMP:
				if wc&fw10TpSrc == 0 {
					k.TpSrc, mk.TpSrc = w.TpSrc&0xff, 0xff
				}
				if wc&fw10TpDst == 0 {
					k.TpDst, mk.TpDst = w.TpDst&0xff, 0xff
				}
			}
		}
	}
	if arp && wc&fw10NwProto == 0 {
		k.ArpOp, mk.ArpOp = uint16(w.NwProto), 0xffff
	}
	return m
}

// MatchTo10 writes m as an OpenFlow 1.0 match, as far as OpenFlow 1.0 can
// say it (masks other than CIDR prefixes on addresses widen to "any").
func MatchTo10(m *ofproto.Match) of10.Match {
	k, mk := &m.Key, &m.Mask
	w := of10.Match{Wildcards: fw10All}
	if mk.InPort != 0 {
		w.Wildcards &^= fw10InPort
		w.InPort = ofproto.PortTo16(k.InPort)
	}
	if mk.EthSrc != ([6]byte{}) {
		w.Wildcards &^= fw10DLSrc
		w.DLSrc = k.EthSrc
	}
	if mk.EthDst != ([6]byte{}) {
		w.Wildcards &^= fw10DLDst
		w.DLDst = k.EthDst
	}
	tci, tm := k.VLANs[0].TCI, mk.VLANs[0].TCI
	switch {
	case tm == 0xffff && tci == 0:
		w.Wildcards &^= fw10DLVLAN
		w.DLVLAN = vlan10None
	case tm != 0:
		if tm&0x0fff != 0 {
			w.Wildcards &^= fw10DLVLAN
			w.DLVLAN = tci & 0xfff
		}
		if tm&0xe000 != 0 {
			w.Wildcards &^= fw10DLVLANPCP
			w.DLVLANPCP = uint8(tci >> 13)
		}
	}
	if mk.EthType != 0 {
		w.Wildcards &^= fw10DLType
		w.DLType = k.EthType
	}
	w.Wildcards = w.Wildcards&^fw10NwSrcMask | prefixWild(mk.NwSrc)<<fw10NwSrcSh
	w.NwSrc = k.NwSrc
	w.Wildcards = w.Wildcards&^fw10NwDstMask | prefixWild(mk.NwDst)<<fw10NwDstSh
	w.NwDst = k.NwDst
	if mk.NwTOS&0xfc != 0 {
		w.Wildcards &^= fw10NwTOS
		w.NwTOS = k.NwTOS & 0xfc
	}
	if mk.NwProto != 0 {
		w.Wildcards &^= fw10NwProto
		w.NwProto = k.NwProto
	}
	if mk.ArpOp != 0 {
		w.Wildcards &^= fw10NwProto
		w.NwProto = uint8(k.ArpOp)
	}
	if mk.TpSrc != 0 {
		w.Wildcards &^= fw10TpSrc
		w.TpSrc = k.TpSrc
	}
	if mk.TpDst != 0 {
		w.Wildcards &^= fw10TpDst
		w.TpDst = k.TpDst
	}
	return w
}

// prefixWild is how many low bits of mask are wildcarded (32 for none
// set); a non-prefix mask counts as its trailing zeros.
func prefixWild(mask uint32) uint32 {
	n := uint32(0)
	for n < 32 && mask&(1<<n) == 0 {
		n++
	}
	return n
}

// Fits10 reports whether OpenFlow 1.0's ofp_match can say m exactly: the
// agent uses NXM for flow stats and flow-removed of matches that do not.
func Fits10(m *ofproto.Match) bool {
	back := MatchFrom10(ptr(MatchTo10(m)))
	return back.Key == m.Key && back.Mask == m.Mask
}

func ptr[T any](v T) *T { return &v }
