package odp

import (
	"encoding/binary"
	"net/netip"
	"strconv"
)

// Formatting follows the datapath-flow text of `ovs-appctl dpctl/dump-flows`
// (OVS lib/odp-util.c format_odp_action), so people read govs flows the way
// they read OVS's. It departs from OVS where govs' actions carry less or
// other information:
//
//   - Port rewrites print as tp(src=..,dst=..): an action does not say
//     whether the transport is TCP, UDP or SCTP. ICMP type/code print as
//     icmp(..) for ICMPv4 and ICMPv6 alike.
//   - A VLAN TCI rewrite prints as set(vlan(vid=..,pcp=..)); OVS's datapath
//     has no such set and pops and pushes instead.
//   - userspace(id=N[,max_len=M]) shows the slow path's opaque id instead
//     of OVS's pid and nested controller(...) cookie.
//   - Ports print as numbers; drop(reason) reasons are not printed.
//   - Adjacent set actions on one header print merged, as one OVS set
//     action covering several fields would.

// String formats a as OVS prints one datapath action.
func (a Action) String() string { return string(a.appendTo(nil)) }

// String formats the action list as OVS prints a flow's actions:
// comma-separated, "drop" when empty.
func (as Actions) String() string {
	if len(as) == 0 {
		return "drop"
	}
	var b []byte
	for i := 0; i < len(as); i++ {
		if i > 0 {
			b = append(b, ',')
		}
		if as[i].Op != OpSet {
			b = as[i].appendTo(b)
			continue
		}
		h := fieldInfo(as[i].Field).header
		j := i + 1
		for j < len(as) && as[j].Op == OpSet && fieldInfo(as[j].Field).header == h {
			j++
		}
		b = appendSet(b, as[i:j])
		i = j - 1
	}
	return string(b)
}

func (a *Action) appendTo(b []byte) []byte {
	switch a.Op {
	case OpOutput:
		return strconv.AppendUint(b, uint64(a.Arg), 10)
	case OpUserspace:
		b = append(b, "userspace(id="...)
		b = strconv.AppendUint(b, uint64(a.Arg), 10)
		if a.Arg2 != 0xffff {
			b = append(b, ",max_len="...)
			b = strconv.AppendUint(b, uint64(a.Arg2), 10)
		}
		return append(b, ')')
	case OpSet:
		return appendSet(b, []Action{*a})
	case OpPushVLAN:
		b = append(b, "push_vlan("...)
		if a.Arg != 0x8100 {
			b = append(b, "tpid=0x"...)
			b = strconv.AppendUint(b, uint64(a.Arg), 16)
			b = append(b, ',')
		}
		b = append(b, "vid="...)
		b = strconv.AppendUint(b, uint64(a.Arg2&0xfff), 10)
		b = append(b, ",pcp="...)
		b = strconv.AppendUint(b, uint64(a.Arg2>>13&7), 10)
		return append(b, ')')
	case OpPopVLAN:
		return append(b, "pop_vlan"...)
	case OpPushMPLS:
		lse := a.Arg2
		b = append(b, "push_mpls(label="...)
		b = strconv.AppendUint(b, uint64(lse>>12), 10)
		b = append(b, ",tc="...)
		b = strconv.AppendUint(b, uint64(lse>>9&7), 10)
		b = append(b, ",ttl="...)
		b = strconv.AppendUint(b, uint64(lse&0xff), 10)
		b = append(b, ",bos="...)
		b = strconv.AppendUint(b, uint64(lse>>8&1), 10)
		b = append(b, ",eth_type=0x"...)
		b = strconv.AppendUint(b, uint64(a.Arg), 16)
		return append(b, ')')
	case OpPopMPLS:
		b = append(b, "pop_mpls(eth_type=0x"...)
		b = strconv.AppendUint(b, uint64(a.Arg), 16)
		return append(b, ')')
	case OpMeter:
		b = append(b, "meter("...)
		b = strconv.AppendUint(b, uint64(a.Arg), 10)
		return append(b, ')')
	case OpTrunc:
		b = append(b, "trunc("...)
		b = strconv.AppendUint(b, uint64(a.Arg), 10)
		return append(b, ')')
	case OpRecirc:
		b = append(b, "recirc(0x"...)
		b = strconv.AppendUint(b, uint64(a.Arg), 16)
		return append(b, ')')
	case OpCT:
		return append(b, "ct"...)
	case OpDrop:
		return append(b, "drop"...)
	}
	b = append(b, "invalid("...)
	b = strconv.AppendUint(b, uint64(a.Op), 10)
	return append(b, ')')
}

// fieldKind says how a field's value prints.
type fieldKind uint8

const (
	kindDec fieldKind = iota
	kindHex
	kindMAC
	kindIPv4
	kindIPv6
	kindVLAN // vid and pcp
	kindMPLS // label, tc, ttl, bos
)

type fieldDesc struct {
	header string // OVS key attribute name
	name   string // subfield name inside it
	size   int    // bytes
	kind   fieldKind
}

var fields = [NumFields]fieldDesc{
	FieldInvalid:      {"invalid", "field", 0, kindHex},
	FieldEthSrc:       {"eth", "src", 6, kindMAC},
	FieldEthDst:       {"eth", "dst", 6, kindMAC},
	FieldVLANTCI:      {"vlan", "tci", 2, kindVLAN},
	FieldMPLSLSE:      {"mpls", "lse", 4, kindMPLS},
	FieldIPv4Src:      {"ipv4", "src", 4, kindIPv4},
	FieldIPv4Dst:      {"ipv4", "dst", 4, kindIPv4},
	FieldIPv4TOS:      {"ipv4", "tos", 1, kindHex},
	FieldIPv4TTL:      {"ipv4", "ttl", 1, kindDec},
	FieldIPv6Src:      {"ipv6", "src", 16, kindIPv6},
	FieldIPv6Dst:      {"ipv6", "dst", 16, kindIPv6},
	FieldIPv6Label:    {"ipv6", "label", 4, kindHex},
	FieldIPv6TC:       {"ipv6", "tclass", 1, kindHex},
	FieldIPv6HopLimit: {"ipv6", "hlimit", 1, kindDec},
	FieldTpSrc:        {"tp", "src", 2, kindDec},
	FieldTpDst:        {"tp", "dst", 2, kindDec},
	FieldICMPType:     {"icmp", "type", 1, kindDec},
	FieldICMPCode:     {"icmp", "code", 1, kindDec},
	FieldArpOp:        {"arp", "op", 2, kindDec},
	FieldArpSPA:       {"arp", "sip", 4, kindIPv4},
	FieldArpTPA:       {"arp", "tip", 4, kindIPv4},
	FieldArpSHA:       {"arp", "sha", 6, kindMAC},
	FieldArpTHA:       {"arp", "tha", 6, kindMAC},
	FieldNdTarget:     {"nd", "target", 16, kindIPv6},
	FieldNdSLL:        {"nd", "sll", 6, kindMAC},
	FieldNdTLL:        {"nd", "tll", 6, kindMAC},
	FieldPktMark:      {"skb_mark", "", 4, kindHex},
	FieldTunID:        {"tunnel", "tun_id", 8, kindHex},
	FieldTunSrc:       {"tunnel", "src", 4, kindIPv4},
	FieldTunDst:       {"tunnel", "dst", 4, kindIPv4},
}

func fieldInfo(f Field) *fieldDesc {
	if f >= NumFields {
		return &fields[FieldInvalid]
	}
	return &fields[f]
}

// Size returns the width of field f in bytes (0 for an invalid field).
func (f Field) Size() int { return fieldInfo(f).size }

// appendSet formats set actions on one header as one set(hdr(...)).
func appendSet(b []byte, as []Action) []byte {
	d := fieldInfo(as[0].Field)
	b = append(b, "set("...)
	b = append(b, d.header...)
	b = append(b, '(')
	for i := range as {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendField(b, &as[i])
	}
	return append(b, "))"...)
}

func appendField(b []byte, a *Action) []byte {
	d := fieldInfo(a.Field)
	n := d.size
	full := true
	for _, m := range a.Mask[:n] {
		full = full && m == 0xff
	}
	var v [16]byte
	for i := range n {
		v[i] = a.Value[i] & a.Mask[i]
	}
	switch d.kind {
	case kindVLAN:
		tci, m := binary.BigEndian.Uint16(v[:]), binary.BigEndian.Uint16(a.Mask[:])
		b = appendSub(b, "vid", uint64(tci&0xfff), uint64(m&0xfff), 0xfff)
		return appendSub(b, "pcp", uint64(tci>>13), uint64(m>>13), 7)
	case kindMPLS:
		lse, m := binary.BigEndian.Uint32(v[:]), binary.BigEndian.Uint32(a.Mask[:])
		b = appendSub(b, "label", uint64(lse>>12), uint64(m>>12), 0xfffff)
		b = appendSub(b, "tc", uint64(lse>>9&7), uint64(m>>9&7), 7)
		b = appendSub(b, "ttl", uint64(lse&0xff), uint64(m&0xff), 0xff)
		return appendSub(b, "bos", uint64(lse>>8&1), uint64(m>>8&1), 1)
	}
	if d.name != "" {
		b = append(b, d.name...)
		b = append(b, '=')
	}
	b = appendValue(b, d, v[:n])
	if !full {
		b = append(b, '/')
		b = appendValue(b, d, a.Mask[:n])
	}
	return b
}

// appendSub prints one subfield of a TCI or LSE when its mask is not zero.
func appendSub(b []byte, name string, v, m, all uint64) []byte {
	if m == 0 {
		return b
	}
	if c := b[len(b)-1]; c != '(' && c != ',' {
		b = append(b, ',')
	}
	b = append(b, name...)
	b = append(b, '=')
	b = strconv.AppendUint(b, v, 10)
	if m != all {
		b = append(b, "/0x"...)
		b = strconv.AppendUint(b, m, 16)
	}
	return b
}

func appendInt(b []byte, v uint64, hex bool) []byte {
	if hex {
		b = append(b, "0x"...)
		return strconv.AppendUint(b, v, 16)
	}
	return strconv.AppendUint(b, v, 10)
}

func appendValue(b []byte, d *fieldDesc, v []byte) []byte {
	switch d.kind {
	case kindMAC:
		const hexDigits = "0123456789abcdef"
		for i, x := range v {
			if i > 0 {
				b = append(b, ':')
			}
			b = append(b, hexDigits[x>>4], hexDigits[x&0xf])
		}
		return b
	case kindIPv4:
		return netip.AddrFrom4([4]byte(v)).AppendTo(b)
	case kindIPv6:
		return netip.AddrFrom16([16]byte(v)).AppendTo(b)
	}
	var x uint64
	for _, c := range v {
		x = x<<8 | uint64(c)
	}
	if d.header == "ipv6" && d.name == "label" {
		x &= 0xfffff
	}
	return appendInt(b, x, d.kind == kindHex)
}
