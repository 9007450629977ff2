package odp

import (
	"encoding/binary"

	"github.com/govs/govs/internal/packet"
)

// Set actions: one function per header, each rewriting a field by mask
// (new = old &^ Mask | Value & Mask) and repairing the checksums that
// cover it. Value and Mask hold the field in wire byte order, left-aligned.

func (a *Action) masked8(old uint8) uint8 { return old&^a.Mask[0] | a.Value[0]&a.Mask[0] }

func (a *Action) masked16(old uint16) uint16 {
	m := binary.BigEndian.Uint16(a.Mask[:])
	return old&^m | binary.BigEndian.Uint16(a.Value[:])&m
}

func (a *Action) masked32(old uint32) uint32 {
	m := binary.BigEndian.Uint32(a.Mask[:])
	return old&^m | binary.BigEndian.Uint32(a.Value[:])&m
}

// maskedInto writes old (masked by a) into dst; len(dst) <= 16.
func (a *Action) maskedInto(dst, old []byte) {
	for i := range dst {
		dst[i] = old[i]&^a.Mask[i] | a.Value[i]&a.Mask[i]
	}
}

func execSet(b *packet.Buffer, a *Action, pool *packet.Pool) bool {
	switch a.Field {
	case FieldPktMark:
		b.Mark = a.masked32(b.Mark)
		return true
	case FieldTunID, FieldTunSrc, FieldTunDst:
		// Tunnel metadata means something only to a tunnel output port,
		// and OVS ignores it on any other output. govs has no tunnel
		// ports yet, so there is nothing to keep it for.
		return true
	case FieldInvalid:
		return false
	}
	if a.Field >= NumFields || !writable(b, pool) {
		return false
	}
	d := b.Data()
	switch a.Field {
	case FieldEthSrc, FieldEthDst:
		return setEth(d, a)
	case FieldVLANTCI:
		return setVLAN(d, a)
	case FieldMPLSLSE:
		return setMPLS(d, a)
	case FieldArpOp, FieldArpSPA, FieldArpTPA, FieldArpSHA, FieldArpTHA:
		return setARP(d, b.L3Off, a)
	}
	switch l3Type(d, b.L3Off) {
	case packet.EtherTypeIPv4:
		return setIPv4(d[b.L3Off:], a)
	case packet.EtherTypeIPv6:
		return setIPv6(d[b.L3Off:], a)
	}
	return true
}

func setEth(d []byte, a *Action) bool {
	e := packet.Ethernet(d)
	if !e.IsValid() {
		return false
	}
	off := 0
	if a.Field == FieldEthSrc {
		off = 6
	}
	a.maskedInto(e[off:off+6], e[off:off+6])
	return true
}

// setVLAN rewrites the outermost tag's TCI. DEI is written as 0, as
// push_vlan does: the flow key keeps VLANCFI (tag present) in that bit.
func setVLAN(d []byte, a *Action) bool {
	if len(d) < packet.EthernetMinimumSize+packet.VLANTagSize {
		return true
	}
	t := packet.VLANTag(d[12:])
	if !t.IsValid() {
		return true
	}
	t.SetTCI(a.masked16(t.TCI()) &^ packet.VLANDEI)
	return true
}

func setMPLS(d []byte, a *Action) bool {
	t, n, ok := packet.Ethernet(d).L2Length()
	if !ok || !packet.IsMPLSType(t) {
		return true
	}
	m := packet.MPLS(d[n:])
	if !m.IsValid() {
		return false
	}
	m.SetLSE(a.masked32(m.LSE()))
	return true
}

func setARP(d []byte, l3 uint16, a *Action) bool {
	if t := l3Type(d, l3); t != packet.EtherTypeARP && t != packet.EtherTypeRARP {
		return true
	}
	arp := packet.ARP(d[l3:])
	if !arp.IsValid() {
		return false
	}
	var f []byte
	switch a.Field {
	case FieldArpOp:
		arp.SetOp(a.masked16(arp.Op()))
		return true
	case FieldArpSPA:
		f = arp.SPA()
	case FieldArpTPA:
		f = arp.TPA()
	case FieldArpSHA:
		f = arp.SHA()
	default:
		f = arp.THA()
	}
	a.maskedInto(f, f)
	return true
}

// transport returns the transport header of a valid IP packet, bounded by
// the IP length, or nil when the packet has none (a later fragment).
func transportIPv4(ip packet.IPv4) []byte {
	if ip.IsLaterFragment() {
		return nil
	}
	return ip.Payload()
}

func setIPv4(d []byte, a *Action) bool {
	ip := packet.IPv4(d)
	if !ip.IsValid() {
		return false
	}
	switch a.Field {
	case FieldIPv4TOS:
		ip.SetTOS(a.masked8(ip.TOS()))
	case FieldIPv4TTL:
		ip.SetTTL(a.masked8(ip.TTL()))
	case FieldIPv4Src, FieldIPv4Dst:
		setIPv4Addr(ip, a)
	case FieldTpSrc, FieldTpDst:
		return setPort(transportIPv4(ip), ip.Protocol(), a)
	case FieldICMPType, FieldICMPCode:
		if ip.Protocol() != packet.IPProtoICMP {
			return true
		}
		return setICMPTypeCode(transportIPv4(ip), a)
	}
	return true
}

// setIPv4Addr rewrites an address and the checksums covering it: the IP
// header's and, through the pseudo-header, TCP's and UDP's.
func setIPv4Addr(ip packet.IPv4, a *Action) {
	old := ip.Source()
	if a.Field == FieldIPv4Dst {
		old = ip.Destination()
	}
	var nw [4]byte
	a.maskedInto(nw[:], old[:])
	if a.Field == FieldIPv4Dst {
		ip.SetDestination(nw)
	} else {
		ip.SetSource(nw)
	}
	o, n := binary.BigEndian.Uint32(old[:]), binary.BigEndian.Uint32(nw[:])
	l4 := transportIPv4(ip)
	switch ip.Protocol() {
	case packet.IPProtoTCP:
		if len(l4) >= packet.TCPMinimumSize {
			t := packet.TCP(l4)
			t.SetChecksum(packet.ChecksumUpdate32(t.Checksum(), o, n))
		}
	case packet.IPProtoUDP:
		if len(l4) >= packet.UDPSize {
			u := packet.UDP(l4)
			u.UpdateChecksum(packet.ChecksumUpdate32(u.Checksum(), o, n))
		}
	}
}

func setIPv6(d []byte, a *Action) bool {
	ip := packet.IPv6(d)
	if !ip.IsValid() {
		return false
	}
	switch a.Field {
	case FieldIPv6TC:
		ip.SetTrafficClass(a.masked8(ip.TrafficClass()))
		return true
	case FieldIPv6HopLimit:
		ip.SetHopLimit(a.masked8(ip.HopLimit()))
		return true
	case FieldIPv6Label:
		ip.SetFlowLabel(a.masked32(ip.FlowLabel()))
		return true
	}
	proto, off, routing, ok := ip.Upper()
	if !ok {
		return false
	}
	var l4 []byte
	if proto != packet.IPProtoIPv6Frag {
		end := packet.IPv6MinimumSize + int(ip.PayloadLength())
		if end > len(ip) || off > end {
			return false
		}
		l4 = ip[off:end]
	}
	switch a.Field {
	case FieldIPv6Src, FieldIPv6Dst:
		setIPv6Addr(ip, l4, proto, routing, a)
	case FieldTpSrc, FieldTpDst:
		return setPort(l4, proto, a)
	case FieldICMPType, FieldICMPCode:
		if proto != packet.IPProtoICMPv6 {
			return true
		}
		return setICMPTypeCode(l4, a)
	case FieldNdTarget, FieldNdSLL, FieldNdTLL:
		if proto != packet.IPProtoICMPv6 {
			return true
		}
		return setND(packet.ICMPv6(l4), a)
	}
	return true
}

// setIPv6Addr rewrites an address and the transport checksum covering it
// through the pseudo-header, unless a routing header puts the final
// destination, not this field, in the pseudo-header.
func setIPv6Addr(ip packet.IPv6, l4 []byte, proto uint8, routing bool, a *Action) {
	addr := ip.Source()
	if a.Field == FieldIPv6Dst {
		addr = ip.Destination()
	}
	old := *addr
	a.maskedInto(addr[:], old[:])
	if a.Field == FieldIPv6Dst && routing {
		return
	}
	switch proto {
	case packet.IPProtoTCP:
		if len(l4) >= packet.TCPMinimumSize {
			t := packet.TCP(l4)
			t.SetChecksum(packet.ChecksumUpdate128(t.Checksum(), &old, addr))
		}
	case packet.IPProtoUDP:
		if len(l4) >= packet.UDPSize {
			u := packet.UDP(l4)
			u.UpdateChecksum(packet.ChecksumUpdate128(u.Checksum(), &old, addr))
		}
	case packet.IPProtoICMPv6:
		if len(l4) >= packet.ICMPv6MinimumSize {
			c := packet.ICMPv6(l4)
			c.SetChecksum(packet.ChecksumUpdate128(c.Checksum(), &old, addr))
		}
	}
}

// setPort rewrites a TCP, UDP or SCTP port; l4 is the whole transport
// packet, nil for a later fragment.
func setPort(l4 []byte, proto uint8, a *Action) bool {
	if l4 == nil {
		return true
	}
	switch proto {
	case packet.IPProtoTCP:
		t := packet.TCP(l4)
		if len(t) < packet.TCPMinimumSize {
			return false
		}
		if a.Field == FieldTpSrc {
			t.SetSourcePort(a.masked16(t.SourcePort()))
		} else {
			t.SetDestinationPort(a.masked16(t.DestinationPort()))
		}
	case packet.IPProtoUDP:
		u := packet.UDP(l4)
		if !u.IsValid() {
			return false
		}
		if a.Field == FieldTpSrc {
			u.SetSourcePort(a.masked16(u.SourcePort()))
		} else {
			u.SetDestinationPort(a.masked16(u.DestinationPort()))
		}
	case packet.IPProtoSCTP:
		s := packet.SCTP(l4)
		if !s.IsValid() {
			return false
		}
		src, dst := s.SourcePort(), s.DestinationPort()
		if a.Field == FieldTpSrc {
			src = a.masked16(src)
		} else {
			dst = a.masked16(dst)
		}
		s.SetPorts(src, dst)
	}
	return true
}

// setICMPTypeCode rewrites an ICMPv4 or ICMPv6 type or code; neither is in
// a pseudo-header, so the update is the same for both.
func setICMPTypeCode(l4 []byte, a *Action) bool {
	if l4 == nil {
		return true
	}
	c := packet.ICMPv4(l4)
	if len(c) < packet.ICMPv6MinimumSize {
		return false
	}
	typ, code := c.Type(), c.Code()
	if a.Field == FieldICMPType {
		typ = a.masked8(typ)
	} else {
		code = a.masked8(code)
	}
	c.SetTypeCode(typ, code)
	return true
}

// setND rewrites a neighbour solicitation's or advertisement's target or
// link-layer address option. A missing option is left missing: adding one
// would change the message's meaning and length (OVS does not either).
func setND(c packet.ICMPv6, a *Action) bool {
	if c == nil {
		return true
	}
	if !c.IsND() {
		return len(c) >= packet.ICMPv6MinimumSize
	}
	var f []byte
	switch a.Field {
	case FieldNdTarget:
		f = c.NDTarget()[:]
	case FieldNdSLL:
		if c.Type() == packet.ICMPv6NeighborSolicit {
			f = c.NDLinkAddr(packet.NDOptSourceLinkAddr)
		}
	case FieldNdTLL:
		if c.Type() == packet.ICMPv6NeighborAdvert {
			f = c.NDLinkAddr(packet.NDOptTargetLinkAddr)
		}
	}
	if f == nil {
		return true
	}
	var old [16]byte
	copy(old[:], f)
	a.maskedInto(f, old[:])
	c.SetChecksum(packet.ChecksumUpdateBytes(c.Checksum(), old[:len(f)], f))
	return true
}
