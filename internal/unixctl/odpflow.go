package unixctl

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/govs/govs/internal/dpif"
	"github.com/govs/govs/internal/flow"
)

// Megaflows in the text of `ovs-appctl dpctl/dump-flows` (OVS's
// lib/odp-util.c odp_flow_format and lib/dpif.c dpif_flow_stats_format):
//
//	recirc_id(0),in_port(2),eth(src=..,dst=..),eth_type(0x0800),ipv4(frag=no), packets:4, bytes:392, used:0.407s, actions:3
//
// By default a field the megaflow does not match is left out, a field it
// matches exactly is written as its value, and a field it matches partly as
// value/mask; a header whose fields are all left out is left out. With -m
// (verbose) every field of every header the flow has is written, masked
// ones as value/mask. Departures from OVS:
//
//   - no packet_type(ns=0,id=0): govs has Ethernet packets only;
//   - -m prints no ufid, skb_priority, dp:ovs or dp-extra-info, and the
//     value of a wildcarded field is 0 (govs keeps the masked key only,
//     OVS the key of the first packet);
//   - tcp_flags(...) and tunnel flags are written as hex value/mask.

// odpFormat says how to write a megaflow.
type odpFormat struct {
	verbose bool
	// portName, if set, names datapath ports (--names).
	portName func(uint32) string
	now      time.Time
}

// formatODPFlow writes one dpctl/dump-flows line (without newline).
func formatODPFlow(f *dpif.FlowInfo, o odpFormat) string {
	var b strings.Builder
	formatODPKey(&b, &f.Key, &f.Mask, f.InPort, o)
	fmt.Fprintf(&b, ", packets:%d, bytes:%d, used:", f.Packets, f.Bytes)
	if f.Used == 0 {
		b.WriteString("never")
	} else {
		d := o.now.Sub(time.Unix(0, f.Used)).Seconds()
		if d < 0 {
			d = 0
		}
		fmt.Fprintf(&b, "%.3fs", d)
	}
	if f.TCPFlags != 0 {
		b.WriteString(", flags:")
		b.WriteString(tcpFlagLetters(f.TCPFlags))
	}
	// As OVS writes flows of its TC offload (-m only): a kernel forward
	// is govs' TC layer.
	if o.verbose {
		if f.Offloaded {
			b.WriteString(", offloaded:yes, dp:tc")
		} else {
			b.WriteString(", dp:ovs")
		}
	}
	b.WriteString(", actions:")
	acts := f.Actions.String()
	if o.portName != nil {
		acts = nameOutputs(acts, o.portName)
	}
	b.WriteString(acts)
	return b.String()
}

// attrs collects one header's key=value items.
type attrs struct {
	items   []string
	verbose bool
}

// add writes name=value when the mask is non-zero (or always, verbose),
// with /mask when the mask is not exact.
func (a *attrs) add(name, value, mask string, exact, zero bool) {
	switch {
	case zero && !a.verbose:
		return
	case exact:
		a.items = append(a.items, name+"="+value)
	default:
		a.items = append(a.items, name+"="+value+"/"+mask)
	}
}

func (a *attrs) u(name string, v, m, full uint64) {
	a.add(name, strconv.FormatUint(v, 10), hexC(m), m == full, m == 0)
}

func (a *attrs) x(name string, v, m, full uint64) {
	a.add(name, hexC(v), hexC(m), m == full, m == 0)
}

func (a *attrs) ip4(name string, v, m uint32) {
	a.add(name, ip4(v), ip4(m), m == 0xffffffff, m == 0)
}

func (a *attrs) ip6(name string, v, m [16]byte) {
	a.add(name, netip.AddrFrom16(v).String(), netip.AddrFrom16(m).String(), m == allOnes16, m == [16]byte{})
}

func (a *attrs) mac(name string, v, m [6]byte) {
	a.add(name, macStr(v), macStr(m), m == [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, m == [6]byte{})
}

// put writes "name(items)" when there are items, or always when force.
func (a *attrs) put(b *strings.Builder, name string, force bool) {
	if len(a.items) == 0 && !force {
		return
	}
	sep(b)
	b.WriteString(name)
	b.WriteByte('(')
	b.WriteString(strings.Join(a.items, ","))
	b.WriteByte(')')
	a.items = a.items[:0]
}

var allOnes16 = [16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

func sep(b *strings.Builder) {
	if b.Len() > 0 {
		last := b.String()[b.Len()-1]
		if last != '(' {
			b.WriteByte(',')
		}
	}
}

// formatODPKey writes the match part of a megaflow.
func formatODPKey(b *strings.Builder, k, m *flow.Key, inPort uint32, o odpFormat) {
	v := o.verbose
	a := &attrs{verbose: v}
	scalar := func(name string, val, mask, full uint64, always bool) {
		if mask == 0 && !v && !always {
			return
		}
		sep(b)
		b.WriteString(name + "(" + hexC(val))
		if mask != full {
			b.WriteString("/" + hexC(mask))
		}
		b.WriteByte(')')
	}
	scalar("skb_mark", uint64(k.PktMark), uint64(m.PktMark), 0xffffffff, false)
	scalar("ct_state", uint64(k.CtState), uint64(m.CtState), 0xffffffff, false)
	scalar("ct_zone", uint64(k.CtZone), uint64(m.CtZone), 0xffff, false)
	scalar("ct_mark", uint64(k.CtMark), uint64(m.CtMark), 0xffffffff, false)
	if m.CtLabel != [16]byte{} || v {
		sep(b)
		b.WriteString("ct_label(" + hex16(k.CtLabel))
		if m.CtLabel != allOnes16 {
			b.WriteString("/" + hex16(m.CtLabel))
		}
		b.WriteByte(')')
	}
	scalar("recirc_id", uint64(k.RecircID), 0xffffffff, 0xffffffff, true)
	scalar("dp_hash", uint64(k.DpHash), uint64(m.DpHash), 0xffffffff, false)

	// tunnel(...)
	a.x("tun_id", k.TunID, m.TunID, ^uint64(0))
	if m.TunSrc != 0 || m.TunDst != 0 {
		a.ip4("src", k.TunSrc, m.TunSrc)
		a.ip4("dst", k.TunDst, m.TunDst)
	}
	if m.TunIPv6Src != [16]byte{} || m.TunIPv6Dst != [16]byte{} {
		a.ip6("ipv6_src", k.TunIPv6Src, m.TunIPv6Src)
		a.ip6("ipv6_dst", k.TunIPv6Dst, m.TunIPv6Dst)
	}
	a.x("tos", uint64(k.TunTOS), uint64(m.TunTOS), 0xff)
	a.u("ttl", uint64(k.TunTTL), uint64(m.TunTTL), 0xff)
	a.u("tp_src", uint64(k.TunTpSrc), uint64(m.TunTpSrc), 0xffff)
	a.u("tp_dst", uint64(k.TunTpDst), uint64(m.TunTpDst), 0xffff)
	a.x("flags", uint64(k.TunFlags), uint64(m.TunFlags), 0xffff)
	if v && !tunnelMatched(m) {
		a.items = a.items[:0] // no tunnel: OVS prints none even with -m
	}
	a.put(b, "tunnel", false)

	sep(b)
	b.WriteString("in_port(")
	if o.portName != nil {
		b.WriteString(o.portName(inPort))
	} else {
		b.WriteString(strconv.FormatUint(uint64(inPort), 10))
	}
	b.WriteByte(')')

	a.mac("src", k.EthSrc, m.EthSrc)
	a.mac("dst", k.EthDst, m.EthDst)
	a.put(b, "eth", v)

	// VLAN tags: eth_type(TPID),vlan(...),encap( ... ) per tag.
	open := 0
	for i := range flow.MaxVLANs {
		if m.VLANs[i].TCI == 0 || k.VLANs[i].TCI&flow.VLANCFI == 0 {
			break
		}
		tpid := k.VLANs[i].TPID
		if tpid == 0 {
			tpid = 0x8100
		}
		sep(b)
		fmt.Fprintf(b, "eth_type(0x%04x)", tpid)
		tci, tm := k.VLANs[i].TCI, m.VLANs[i].TCI
		a.u("vid", uint64(tci&0xfff), uint64(tm&0xfff), 0xfff)
		a.u("pcp", uint64(tci>>13), uint64(tm>>13), 7)
		if tm&flow.VLANCFI == 0 {
			a.items = append(a.items, "cfi=1/0")
		}
		a.put(b, "vlan", true)
		sep(b)
		b.WriteString("encap(")
		open++
	}

	if m.EthType != 0 {
		sep(b)
		fmt.Fprintf(b, "eth_type(0x%04x", k.EthType)
		if m.EthType != 0xffff {
			fmt.Fprintf(b, "/0x%04x", m.EthType)
		}
		b.WriteByte(')')
	}
	exactType := m.EthType == 0xffff
	switch {
	case exactType && (k.EthType == flow.EthTypeMPLS || k.EthType == flow.EthTypeMPLSM):
		for i := range flow.MaxMPLS {
			lse, lm := k.MPLS[i], m.MPLS[i]
			if lm == 0 && (!v || lse == 0) {
				continue
			}
			a.u("label", uint64(lse>>12), uint64(lm>>12), 0xfffff)
			a.u("tc", uint64(lse>>9&7), uint64(lm>>9&7), 7)
			a.u("ttl", uint64(lse&0xff), uint64(lm&0xff), 0xff)
			a.u("bos", uint64(lse>>8&1), uint64(lm>>8&1), 1)
			a.put(b, "mpls", false)
		}
	case exactType && k.EthType == flow.EthTypeIPv4:
		a.ip4("src", k.NwSrc, m.NwSrc)
		a.ip4("dst", k.NwDst, m.NwDst)
		a.u("proto", uint64(k.NwProto), uint64(m.NwProto), 0xff)
		a.x("tos", uint64(k.NwTOS), uint64(m.NwTOS), 0xff)
		a.u("ttl", uint64(k.NwTTL), uint64(m.NwTTL), 0xff)
		a.frag(k.NwFrag, m.NwFrag)
		a.put(b, "ipv4", false)
		formatL4(b, a, k, m, false)
	case exactType && k.EthType == flow.EthTypeIPv6:
		a.ip6("src", k.IPv6Src, m.IPv6Src)
		a.ip6("dst", k.IPv6Dst, m.IPv6Dst)
		a.x("label", uint64(k.IPv6Label), uint64(m.IPv6Label), 0xfffff)
		a.u("proto", uint64(k.NwProto), uint64(m.NwProto), 0xff)
		a.x("tclass", uint64(k.NwTOS), uint64(m.NwTOS), 0xff)
		a.u("hlimit", uint64(k.NwTTL), uint64(m.NwTTL), 0xff)
		a.frag(k.NwFrag, m.NwFrag)
		a.put(b, "ipv6", false)
		formatL4(b, a, k, m, true)
	case exactType && (k.EthType == flow.EthTypeARP || k.EthType == flow.EthTypeRARP):
		a.ip4("sip", k.NwSrc, m.NwSrc)
		a.ip4("tip", k.NwDst, m.NwDst)
		a.u("op", uint64(k.ArpOp), uint64(m.ArpOp), 0xffff)
		a.mac("sha", k.ArpSHA, m.ArpSHA)
		a.mac("tha", k.ArpTHA, m.ArpTHA)
		a.put(b, "arp", false)
	}
	for range open {
		b.WriteByte(')')
	}
}

func tunnelMatched(m *flow.Key) bool {
	return m.TunID != 0 || m.TunSrc != 0 || m.TunDst != 0 || m.TunIPv6Src != [16]byte{} ||
		m.TunIPv6Dst != [16]byte{} || m.TunTOS != 0 || m.TunTTL != 0 || m.TunTpSrc != 0 ||
		m.TunTpDst != 0 || m.TunFlags != 0
}

// frag writes the fragment type as OVS names it: no, first or later.
func (a *attrs) frag(k, m uint8) {
	if m == 0 && !a.verbose {
		return
	}
	name := "no"
	switch {
	case k&flow.FragLater != 0:
		name = "later"
	case k&flow.FragAny != 0:
		name = "first"
	}
	if m&flow.FragAny != 0 {
		a.items = append(a.items, "frag="+name)
		return
	}
	a.items = append(a.items, "frag="+name+"/"+hexC(uint64(m)))
}

// formatL4 writes the transport header of an IP megaflow whose protocol is
// matched exactly.
func formatL4(b *strings.Builder, a *attrs, k, m *flow.Key, v6 bool) {
	if m.NwProto != 0xff || (m.NwFrag&flow.FragLater != 0 && k.NwFrag&flow.FragLater != 0) {
		return
	}
	ports := func(name string) {
		a.u("src", uint64(k.TpSrc), uint64(m.TpSrc), 0xffff)
		a.u("dst", uint64(k.TpDst), uint64(m.TpDst), 0xffff)
		a.put(b, name, false)
	}
	switch k.NwProto {
	case flow.IPProtoTCP:
		ports("tcp")
		if m.TCPFlags != 0 {
			sep(b)
			fmt.Fprintf(b, "tcp_flags(0x%03x", k.TCPFlags)
			if m.TCPFlags != 0x0fff {
				fmt.Fprintf(b, "/0x%03x", m.TCPFlags)
			}
			b.WriteByte(')')
		}
	case flow.IPProtoUDP:
		ports("udp")
	case flow.IPProtoSCTP:
		ports("sctp")
	case flow.IPProtoICMP, flow.IPProtoICMPv6:
		a.u("type", uint64(k.TpSrc), uint64(m.TpSrc), 0xff)
		a.u("code", uint64(k.TpDst), uint64(m.TpDst), 0xff)
		name := "icmp"
		if v6 {
			name = "icmpv6"
		}
		a.put(b, name, false)
		if v6 && m.TpSrc == 0xff && (k.TpSrc == 135 || k.TpSrc == 136) {
			a.ip6("target", k.NdTarget, m.NdTarget)
			a.mac("sll", k.ArpSHA, m.ArpSHA)
			a.mac("tll", k.ArpTHA, m.ArpTHA)
			a.put(b, "nd", false)
		}
	}
}

// hexC formats as C's "%#x" does: 0 is "0", others "0x..".
func hexC(v uint64) string {
	if v == 0 {
		return "0"
	}
	return "0x" + strconv.FormatUint(v, 16)
}

func hex16(v [16]byte) string {
	s := strings.TrimLeft(fmt.Sprintf("%x", v[:]), "0")
	if s == "" {
		return "0"
	}
	return "0x" + s
}

func ip4(v uint32) string {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String()
}

func macStr(m [6]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// tcpFlagLetters writes TCP flags as OVS's packet_format_tcp_flags does.
func tcpFlagLetters(f uint16) string {
	var b strings.Builder
	for _, x := range []struct {
		bit uint16
		s   string
	}{
		{flow.TCPSyn, "S"}, {flow.TCPFin, "F"}, {flow.TCPPsh, "P"}, {flow.TCPRst, "R"},
		{flow.TCPUrg, "U"}, {flow.TCPAck, "."}, {flow.TCPEce, "E"}, {flow.TCPCwr, "C"}, {flow.TCPNs, "N"},
	} {
		if f&x.bit != 0 {
			b.WriteString(x.s)
		}
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// nameOutputs replaces the port numbers of top-level output actions
// ("1,3", "set(...),2") with port names (--names).
func nameOutputs(acts string, name func(uint32) string) string {
	var out []string
	depth, start := 0, 0
	emit := func(tok string) {
		if n, err := strconv.ParseUint(tok, 10, 32); err == nil {
			tok = name(uint32(n))
		}
		out = append(out, tok)
	}
	for i := 0; i < len(acts); i++ {
		switch acts[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				emit(acts[start:i])
				start = i + 1
			}
		}
	}
	emit(acts[start:])
	return strings.Join(out, ",")
}
