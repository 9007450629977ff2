package flow

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// The comparison test: random packets are built with gopacket's serializers,
// decoded with gopacket's layers, and the key that decoding implies
// (refKey) must equal what ParseBytes reads from the same bytes.

const comparePackets = 4000

func TestParseMatchesGopacket(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	kinds := map[string]int{}
	for i := range comparePackets {
		data, kind := randomPacket(t, rng)
		kinds[kind]++
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.DecodeOptions{NoCopy: true})
		want, wl3, wl4 := refKey(t, p)
		var got Key
		l3, l4 := ParseBytes(data, &got)
		if d := keyDiff(&got, &want); d != "" || l3 != wl3 || l4 != wl4 {
			t.Fatalf("packet %d (%s) % x\n%s\noffsets (%d, %d), want (%d, %d)%s",
				i, kind, data, p.Dump(), l3, l4, wl3, wl4, d)
		}
	}
	t.Logf("packet kinds: %v", kinds)
}

func randMAC(rng *rand.Rand) net.HardwareAddr {
	m := make(net.HardwareAddr, 6)
	binary.LittleEndian.PutUint32(m, rng.Uint32())
	binary.LittleEndian.PutUint16(m[4:], uint16(rng.Uint32()))
	return m
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func randIP(rng *rand.Rand, n int) net.IP { return net.IP(randBytes(rng, n)) }

// randomPacket builds one random packet and names its kind.
func randomPacket(t *testing.T, rng *rand.Rand) ([]byte, string) {
	var ls []gopacket.SerializableLayer
	ethl := &layers.Ethernet{SrcMAC: randMAC(rng), DstMAC: randMAC(rng)}
	ls = append(ls, ethl)
	setType := func(et layers.EthernetType) { ethl.EthernetType = et }
	kind := ""
	for i := range rng.IntN(3) {
		tpid := layers.EthernetTypeDot1Q
		if i == 0 && rng.IntN(2) == 0 {
			tpid = layers.EthernetTypeQinQ
		}
		setType(tpid)
		d := &layers.Dot1Q{Priority: uint8(rng.IntN(8)), DropEligible: rng.IntN(4) == 0, VLANIdentifier: uint16(rng.IntN(4096))}
		ls = append(ls, d)
		setType = func(et layers.EthernetType) { d.Type = et }
		kind += "vlan/"
	}
	switch rng.IntN(10) {
	case 0:
		setType(layers.EthernetTypeARP)
		a := &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
			HwAddressSize: 6, ProtAddressSize: 4, Operation: uint16(1 + rng.IntN(2)),
			SourceHwAddress: randMAC(rng), SourceProtAddress: randIP(rng, 4),
			DstHwAddress: randMAC(rng), DstProtAddress: randIP(rng, 4)}
		if rng.IntN(8) == 0 {
			a.Operation = uint16(rng.Uint32())
		}
		if rng.IntN(8) == 0 {
			a.AddrType = layers.LinkType(6)
		}
		ls = append(ls, a)
		kind += "arp"
	case 1:
		setType(layers.EthernetTypeMPLSUnicast)
		if rng.IntN(4) == 0 {
			setType(layers.EthernetTypeMPLSMulticast)
		}
		n := 1 + rng.IntN(4)
		for j := range n {
			ls = append(ls, &layers.MPLS{Label: rng.Uint32() & 0xfffff, TrafficClass: uint8(rng.IntN(8)),
				StackBottom: j == n-1, TTL: uint8(rng.Uint32())})
		}
		ls = append(ls, gopacket.Payload(randBytes(rng, rng.IntN(40))))
		kind += "mpls"
	case 2, 3, 4, 5:
		setType(layers.EthernetTypeIPv4)
		ls, kind = appendIPv4(rng, ls, kind+"ipv4")
	default:
		setType(layers.EthernetTypeIPv6)
		ls, kind = appendIPv6(rng, ls, kind+"ipv6")
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ls...); err != nil {
		t.Fatalf("serialize %s: %v", kind, err)
	}
	data := buf.Bytes()
	if rng.IntN(4) == 0 { // Ethernet padding, outside every length field
		data = append(data, randBytes(rng, 1+rng.IntN(20))...)
	}
	return data, kind
}

// l4Layers returns random transport layers for protocol choice and names them.
func l4Layers(rng *rand.Rand, v6 bool) ([]gopacket.SerializableLayer, layers.IPProtocol, string) {
	sport, dport := layers.TCPPort(rng.Uint32()), layers.TCPPort(rng.Uint32())
	switch rng.IntN(5) {
	case 0:
		f := rng.Uint32()
		return []gopacket.SerializableLayer{&layers.TCP{SrcPort: sport, DstPort: dport, Seq: rng.Uint32(),
				FIN: f&1 != 0, SYN: f&2 != 0, RST: f&4 != 0, PSH: f&8 != 0, ACK: f&16 != 0, URG: f&32 != 0,
				ECE: f&64 != 0, CWR: f&128 != 0, NS: f&256 != 0, Window: 100}, gopacket.Payload(randBytes(rng, rng.IntN(10)))},
			layers.IPProtocolTCP, "tcp"
	case 1:
		return []gopacket.SerializableLayer{&layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)},
			gopacket.Payload(randBytes(rng, rng.IntN(10)))}, layers.IPProtocolUDP, "udp"
	case 2:
		return []gopacket.SerializableLayer{&layers.SCTP{SrcPort: layers.SCTPPort(sport), DstPort: layers.SCTPPort(dport),
			VerificationTag: rng.Uint32()}}, layers.IPProtocolSCTP, "sctp"
	case 3:
		if v6 {
			return icmp6Layers(rng)
		}
		return []gopacket.SerializableLayer{&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(uint8(rng.IntN(20)), uint8(rng.IntN(16))),
			Id: uint16(rng.Uint32())}}, layers.IPProtocolICMPv4, "icmp"
	default:
		if v6 {
			return icmp6Layers(rng)
		}
		return []gopacket.SerializableLayer{gopacket.Payload(randBytes(rng, rng.IntN(30)))}, layers.IPProtocolGRE, "gre"
	}
}

func icmp6Layers(rng *rand.Rand) ([]gopacket.SerializableLayer, layers.IPProtocol, string) {
	types := []uint8{layers.ICMPv6TypeNeighborSolicitation, layers.ICMPv6TypeNeighborAdvertisement,
		layers.ICMPv6TypeEchoRequest, layers.ICMPv6TypeDestinationUnreachable}
	typ := types[rng.IntN(len(types))]
	code := uint8(0)
	if rng.IntN(8) == 0 {
		code = 1
	}
	l := []gopacket.SerializableLayer{&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(typ, code)}}
	var opts layers.ICMPv6Options
	for range rng.IntN(4) {
		optTypes := []layers.ICMPv6Opt{layers.ICMPv6OptSourceAddress, layers.ICMPv6OptTargetAddress, layers.ICMPv6Opt(14)}
		opts = append(opts, layers.ICMPv6Option{Type: optTypes[rng.IntN(3)], Data: randMAC(rng)})
	}
	switch typ {
	case layers.ICMPv6TypeNeighborSolicitation:
		l = append(l, &layers.ICMPv6NeighborSolicitation{TargetAddress: randIP(rng, 16), Options: opts})
		return l, layers.IPProtocolICMPv6, "ns"
	case layers.ICMPv6TypeNeighborAdvertisement:
		l = append(l, &layers.ICMPv6NeighborAdvertisement{Flags: 0x60, TargetAddress: randIP(rng, 16), Options: opts})
		return l, layers.IPProtocolICMPv6, "na"
	case layers.ICMPv6TypeEchoRequest:
		l = append(l, &layers.ICMPv6Echo{Identifier: 1, SeqNumber: 2})
		return l, layers.IPProtocolICMPv6, "echo6"
	}
	l = append(l, gopacket.Payload(randBytes(rng, 4+rng.IntN(20))))
	return l, layers.IPProtocolICMPv6, "icmp6"
}

func appendIPv4(rng *rand.Rand, ls []gopacket.SerializableLayer, kind string) ([]gopacket.SerializableLayer, string) {
	ip := &layers.IPv4{Version: 4, TOS: uint8(rng.Uint32()), TTL: uint8(rng.Uint32()), Id: uint16(rng.Uint32()),
		SrcIP: randIP(rng, 4), DstIP: randIP(rng, 4)}
	if rng.IntN(3) == 0 {
		ip.Flags = layers.IPv4DontFragment
	}
	for range rng.IntN(4) {
		ip.Options = append(ip.Options, layers.IPv4Option{OptionType: 1, OptionLength: 1}) // NOP
	}
	if rng.IntN(4) == 0 {
		ip.Options = append(ip.Options, layers.IPv4Option{OptionType: 148, OptionLength: 4, OptionData: []byte{0, 0}})
	}
	l4, proto, name := l4Layers(rng, false)
	ip.Protocol = proto
	switch rng.IntN(5) {
	case 0:
		ip.Flags, kind = layers.IPv4MoreFragments, kind+"/first-frag"
	case 1:
		ip.FragOffset, kind = uint16(1+rng.IntN(8000)), kind+"/later-frag"
		if rng.IntN(2) == 0 {
			ip.Flags = layers.IPv4MoreFragments
		}
	}
	return append(append(ls, ip), l4...), kind + "/" + name
}

func appendIPv6(rng *rand.Rand, ls []gopacket.SerializableLayer, kind string) ([]gopacket.SerializableLayer, string) {
	ip := &layers.IPv6{Version: 6, TrafficClass: uint8(rng.Uint32()), FlowLabel: rng.Uint32() & 0xfffff,
		HopLimit: uint8(rng.Uint32()), SrcIP: randIP(rng, 16), DstIP: randIP(rng, 16)}
	ls = append(ls, ip)
	setNext := func(p layers.IPProtocol) { ip.NextHeader = p }
	// Extension headers, in a random order that is sometimes the
	// recommended one.
	exts := []int{0, 1, 2, 3, 4, 1}
	if rng.IntN(2) == 0 {
		rng.Shuffle(len(exts), func(i, j int) { exts[i], exts[j] = exts[j], exts[i] })
	}
	exts = exts[:rng.IntN(4)]
	later := false
	for _, e := range exts {
		switch e {
		case 0:
			setNext(layers.IPProtocolIPv6HopByHop)
			h := &layers.IPv6HopByHop{Options: []*layers.IPv6HopByHopOption{{OptionType: 1, OptionData: make([]byte, 4+8*rng.IntN(3))}}}
			ls = append(ls, h)
			setNext = func(p layers.IPProtocol) { h.NextHeader = p }
			kind += "/hop"
		case 1:
			setNext(layers.IPProtocolIPv6Destination)
			h := &layers.IPv6Destination{Options: []*layers.IPv6DestinationOption{{OptionType: 1, OptionData: make([]byte, 4+8*rng.IntN(3))}}}
			ls = append(ls, h)
			setNext = func(p layers.IPProtocol) { h.NextHeader = p }
			kind += "/dest"
		case 2:
			setNext(layers.IPProtocolIPv6Routing)
			h := &layers.IPv6Routing{RoutingType: 4, Reserved: make([]byte, 4), Data: make([]byte, 8*rng.IntN(3))}
			ls = append(ls, h)
			setNext = func(p layers.IPProtocol) { h.NextHeader = p }
			kind += "/routing"
		case 3:
			setNext(layers.IPProtocolIPv6Fragment)
			h := &layers.IPv6Fragment{Identification: rng.Uint32(), MoreFragments: rng.IntN(2) == 0}
			if rng.IntN(2) == 0 {
				h.FragmentOffset = uint16(1 + rng.IntN(8000))
				later = true
			}
			ls = append(ls, h)
			setNext = func(p layers.IPProtocol) { h.NextHeader = p }
			kind += "/frag"
		case 4:
			setNext(layers.IPProtocolAH)
			ah := append([]byte{0, 4, 0, 0}, randBytes(rng, 20)...)
			ls = append(ls, gopacket.Payload(ah))
			setNext = func(p layers.IPProtocol) { ah[0] = byte(p) }
			kind += "/ah"
		}
		if later {
			break
		}
	}
	switch r := rng.IntN(12); {
	case r == 0:
		setNext(layers.IPProtocolESP)
		ls = append(ls, gopacket.Payload(randBytes(rng, 8+rng.IntN(30))))
		return ls, kind + "/esp"
	case r == 1:
		setNext(layers.IPProtocolNoNextHeader)
		ls = append(ls, gopacket.Payload(randBytes(rng, rng.IntN(30))))
		return ls, kind + "/nonext"
	}
	l4, proto, name := l4Layers(rng, true)
	setNext(proto)
	return append(ls, l4...), kind + "/" + name
}

// refKey is the key that gopacket's decoding of p implies, with the header
// offsets. It reads only gopacket's decoded layers, never the raw bytes.
func refKey(t *testing.T, p gopacket.Packet) (k Key, l3, l4 int) {
	l3, l4 = none, none
	ls := p.Layers()
	e, ok := ls[0].(*layers.Ethernet)
	if !ok {
		t.Fatalf("gopacket did not decode Ethernet: %v", p.ErrorLayer())
	}
	copy(k.EthDst[:], e.DstMAC)
	copy(k.EthSrc[:], e.SrcMAC)
	typ := uint16(e.EthernetType)
	off := len(e.Contents)
	i := 1
	for ; i < len(ls) && i <= MaxVLANs; i++ {
		d, ok := ls[i].(*layers.Dot1Q)
		if !ok {
			break
		}
		k.VLANs[i-1] = VLAN{TPID: typ, TCI: uint16(d.Priority)<<13 | d.VLANIdentifier | VLANCFI}
		typ = uint16(d.Type)
		off += len(d.Contents)
	}
	k.EthType = typ
	l3 = off
	rest := ls[i:]
	switch typ {
	case ethARP:
		a := rest[0].(*layers.ARP)
		if a.AddrType == layers.LinkTypeEthernet && a.Protocol == layers.EthernetTypeIPv4 &&
			a.HwAddressSize == 6 && a.ProtAddressSize == 4 {
			k.ArpOp = a.Operation
			copy(k.ArpSHA[:], a.SourceHwAddress)
			copy(k.ArpTHA[:], a.DstHwAddress)
			k.NwSrc = binary.BigEndian.Uint32(a.SourceProtAddress)
			k.NwDst = binary.BigEndian.Uint32(a.DstProtAddress)
		}
	case ethMPLS, ethMPLSMcast:
		for j, l := range rest {
			m, ok := l.(*layers.MPLS)
			if !ok {
				break
			}
			lse := m.Label<<12 | uint32(m.TrafficClass)<<9 | uint32(m.TTL)
			if m.StackBottom {
				lse |= mplsBOS
			}
			if j < MaxMPLS {
				k.MPLS[j] = lse
			}
			l3 += len(m.Contents)
		}
	case ethIPv4:
		ip := rest[0].(*layers.IPv4)
		k.NwSrc = binary.BigEndian.Uint32(ip.SrcIP.To4())
		k.NwDst = binary.BigEndian.Uint32(ip.DstIP.To4())
		k.NwTOS, k.NwTTL, k.NwProto = ip.TOS, ip.TTL, uint8(ip.Protocol)
		if ip.FragOffset != 0 || ip.Flags&layers.IPv4MoreFragments != 0 {
			k.NwFrag = FragAny
			if ip.FragOffset != 0 {
				k.NwFrag |= FragLater
				return k, l3, none
			}
			// gopacket leaves a first fragment's payload undecoded.
			rest = append(rest[:1], decodeAs(ip.Protocol, ip.Payload)...)
		}
		l4 = l3 + len(ip.Contents)
		refL4(&k, rest[1:], false)
	case ethIPv6:
		ip := rest[0].(*layers.IPv6)
		copy(k.IPv6Src[:], ip.SrcIP)
		copy(k.IPv6Dst[:], ip.DstIP)
		k.NwTOS, k.IPv6Label, k.NwTTL = ip.TrafficClass, ip.FlowLabel, ip.HopLimit
		l4 = refIPv6Exthdrs(&k, ip.NextHeader, rest[1:], l3+len(ip.Contents))
	}
	return k, l3, l4
}

// refIPv6Exthdrs follows gopacket's extension header layers.
func refIPv6Exthdrs(k *Key, nh layers.IPProtocol, ls []gopacket.Layer, off int) int {
	var used [8]bool
	highest := 0
	note := func(flag uint16, rank int) {
		k.IPv6Exthdr |= flag
		if used[rank] {
			k.IPv6Exthdr |= ExthdrUnrep
		}
		if rank < highest {
			k.IPv6Exthdr |= ExthdrUnseq
		}
		used[rank] = true
		highest = max(highest, rank)
	}
	for len(ls) > 0 && isIPv6Exthdr(uint8(nh)) && nh != layers.IPProtocolNoNextHeader {
		switch h := ls[0].(type) {
		case *layers.IPv6HopByHop:
			note(ExthdrHop, rankHop)
			nh, off = h.NextHeader, off+len(h.Contents)
		case *layers.IPv6Destination:
			if h.NextHeader == layers.IPProtocolIPv6Routing {
				note(ExthdrDest, rankDestFirst)
			} else {
				note(ExthdrDest, rankDestLast)
			}
			nh, off = h.NextHeader, off+len(h.Contents)
		case *layers.IPv6Routing:
			note(ExthdrRouter, rankRouting)
			nh, off = h.NextHeader, off+len(h.Contents)
		case *layers.IPSecAH:
			note(ExthdrAuth, rankAuth)
			nh, off = h.NextHeader, off+len(h.Contents)
		case *layers.IPSecESP:
			note(ExthdrESP, rankESP)
			k.NwProto = protoESP
			return off
		case *layers.IPv6Fragment:
			note(ExthdrFrag, rankFrag)
			nh, off = h.NextHeader, off+len(h.Contents)
			if h.FragmentOffset != 0 {
				k.NwFrag = FragAny | FragLater
				k.NwProto = protoFragment
				return none
			}
			if h.MoreFragments {
				k.NwFrag = FragAny
			}
			// gopacket leaves a first fragment's payload, and an atomic
			// fragment's AH, undecoded.
			if len(ls) > 1 && ls[1].LayerType() == gopacket.LayerTypeFragment {
				ls = append(ls[:1], decodeAs(h.NextHeader, h.Payload)...)
			}
		default:
			panic(fmt.Sprintf("next header %v decoded as %v: %v", nh, h.LayerType(), ls))
		}
		ls = ls[1:]
	}
	k.NwProto = uint8(nh)
	if nh == layers.IPProtocolNoNextHeader {
		k.IPv6Exthdr |= ExthdrNoNext
		return none
	}
	refL4(k, ls, true)
	return off
}

// refL4 fills the transport fields from gopacket's transport layers.
func refL4(k *Key, ls []gopacket.Layer, v6 bool) {
	if len(ls) == 0 {
		return
	}
	switch l := ls[0].(type) {
	case *layers.TCP:
		k.TpSrc, k.TpDst = uint16(l.SrcPort), uint16(l.DstPort)
		for _, f := range []struct {
			on  bool
			bit uint16
		}{{l.FIN, TCPFin}, {l.SYN, TCPSyn}, {l.RST, TCPRst}, {l.PSH, TCPPsh}, {l.ACK, TCPAck},
			{l.URG, TCPUrg}, {l.ECE, TCPEce}, {l.CWR, TCPCwr}, {l.NS, TCPNs}} {
			if f.on {
				k.TCPFlags |= f.bit
			}
		}
	case *layers.UDP:
		k.TpSrc, k.TpDst = uint16(l.SrcPort), uint16(l.DstPort)
	case *layers.SCTP:
		k.TpSrc, k.TpDst = uint16(l.SrcPort), uint16(l.DstPort)
	case *layers.ICMPv4:
		if !v6 {
			k.TpSrc, k.TpDst = uint16(l.TypeCode.Type()), uint16(l.TypeCode.Code())
		}
	case *layers.ICMPv6:
		k.TpSrc, k.TpDst = uint16(l.TypeCode.Type()), uint16(l.TypeCode.Code())
		if l.TypeCode.Code() != 0 || len(ls) < 2 {
			return
		}
		var target net.IP
		var opts layers.ICMPv6Options
		switch m := ls[1].(type) {
		case *layers.ICMPv6NeighborSolicitation:
			target, opts = m.TargetAddress, m.Options
		case *layers.ICMPv6NeighborAdvertisement:
			target, opts = m.TargetAddress, m.Options
		default:
			return
		}
		copy(k.NdTarget[:], target)
		var sll, tll []byte
		for _, o := range opts {
			if len(o.Data) != 6 {
				continue
			}
			switch o.Type {
			case layers.ICMPv6OptSourceAddress:
				if sll != nil {
					return
				}
				sll = o.Data
			case layers.ICMPv6OptTargetAddress:
				if tll != nil {
					return
				}
				tll = o.Data
			}
		}
		copy(k.ArpSHA[:], sll)
		copy(k.ArpTHA[:], tll)
	}
}

// decodeAs decodes data as the header IP protocol p names.
func decodeAs(p layers.IPProtocol, data []byte) []gopacket.Layer {
	lt := p.LayerType()
	switch p {
	case layers.IPProtocolAH:
		lt = layers.LayerTypeIPSecAH
	case layers.IPProtocolESP:
		lt = layers.LayerTypeIPSecESP
	}
	return gopacket.NewPacket(data, lt, gopacket.NoCopy).Layers()
}
