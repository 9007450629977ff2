package odp_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
	"github.com/govs/govs/internal/packet"
)

// Packets are built with gopacket, which computes every checksum itself:
// each case serializes the packet before and after the expected change,
// and Execute on the first must give exactly the second.

var (
	macA = net.HardwareAddr{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}
	macB = net.HardwareAddr{0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb}
	macC = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x0c}
	ip4A = net.IP{10, 0, 0, 1}
	ip4B = net.IP{192, 168, 1, 2}
	ip4C = net.IP{172, 16, 5, 9}
	ip6A = net.ParseIP("2001:db8::1")
	ip6B = net.ParseIP("fe80::1234:5678:9abc:def0")
	ip6C = net.ParseIP("2001:db8:ffff::42")
	data = gopacket.Payload("0123456789abcdefghijklmnopqrstuvwxyz")
)

func ser(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func eth(t layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: t}
}

func ip4(p layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TOS: 0x28, Id: 0x1234, TTL: 64, Protocol: p, SrcIP: ip4A, DstIP: ip4B}
}

func ip6(nh layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, TrafficClass: 0x28, FlowLabel: 0x12345, NextHeader: nh, HopLimit: 64, SrcIP: ip6A, DstIP: ip6B}
}

func tcp(nl gopacket.NetworkLayer) *layers.TCP {
	l := &layers.TCP{SrcPort: 1234, DstPort: 80, Seq: 7, Ack: 9, SYN: true, ACK: true, Window: 4096}
	l.SetNetworkLayerForChecksum(nl)
	return l
}

func udp(nl gopacket.NetworkLayer) *layers.UDP {
	l := &layers.UDP{SrcPort: 5353, DstPort: 53}
	l.SetNetworkLayerForChecksum(nl)
	return l
}

func icmp6(nl gopacket.NetworkLayer, typ, code uint8) *layers.ICMPv6 {
	l := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(typ, code)}
	l.SetNetworkLayerForChecksum(nl)
	return l
}

// bufferOf puts data in a frame with the usual headroom and parses it,
// as a port and the datapath would.
func bufferOf(data []byte) *packet.Buffer {
	frame := make([]byte, packet.FrameSize)
	var b packet.Buffer
	b.Reset(frame, packet.Headroom, len(data))
	copy(b.Data(), data)
	var k flow.Key
	flow.Parse(&b, &k)
	return &b
}

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

type execCase struct {
	name string
	acts []odp.Action
	// build returns the packet before (false) and after (true) the actions.
	build func(t testing.TB, after bool) []byte
}

func TestExecuteRewrites(t *testing.T) {
	pick := func(after bool, before, then net.IP) net.IP {
		if after {
			return then
		}
		return before
	}
	cases := []execCase{
		{"eth_src", []odp.Action{odp.Set(odp.FieldEthSrc, macC)}, func(t testing.TB, after bool) []byte {
			e := eth(layers.EthernetTypeIPv4)
			if after {
				e.SrcMAC = macC
			}
			ip := ip4(layers.IPProtocolUDP)
			return ser(t, e, ip, udp(ip), data)
		}},
		{"eth_dst_masked", []odp.Action{odp.SetMasked(odp.FieldEthDst, macC, []byte{0xff, 0, 0, 0, 0, 0xff})}, func(t testing.TB, after bool) []byte {
			e := eth(layers.EthernetTypeIPv4)
			if after {
				e.DstMAC = net.HardwareAddr{0x02, 0x77, 0x88, 0x99, 0xaa, 0x0c}
			}
			ip := ip4(layers.IPProtocolUDP)
			return ser(t, e, ip, udp(ip), data)
		}},
		{"ipv4_src_tcp", []odp.Action{odp.Set(odp.FieldIPv4Src, ip4C)}, func(t testing.TB, after bool) []byte {
			ip := ip4(layers.IPProtocolTCP)
			ip.SrcIP = pick(after, ip4A, ip4C)
			return ser(t, eth(layers.EthernetTypeIPv4), ip, tcp(ip), data)
		}},
		{"ipv4_dst_udp", []odp.Action{odp.Set(odp.FieldIPv4Dst, ip4C)}, func(t testing.TB, after bool) []byte {
			ip := ip4(layers.IPProtocolUDP)
			ip.DstIP = pick(after, ip4B, ip4C)
			return ser(t, eth(layers.EthernetTypeIPv4), ip, udp(ip), data)
		}},
		{"ipv4_src_masked_icmp", []odp.Action{odp.SetMasked(odp.FieldIPv4Src, ip4C, []byte{255, 255, 0, 0})}, func(t testing.TB, after bool) []byte {
			ip := ip4(layers.IPProtocolICMPv4)
			ip.SrcIP = pick(after, ip4A, net.IP{172, 16, 0, 1})
			return ser(t, eth(layers.EthernetTypeIPv4), ip,
				&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 1, Seq: 2}, data)
		}},
		{"ipv4_tos_ttl", []odp.Action{
			odp.SetMasked(odp.FieldIPv4TOS, []byte{0xb8}, []byte{0xfc}),
			odp.Set(odp.FieldIPv4TTL, []byte{7}),
		}, func(t testing.TB, after bool) []byte {
			ip := ip4(layers.IPProtocolTCP)
			ip.TOS = 0x2b
			if after {
				ip.TOS, ip.TTL = 0xbb, 7
			}
			return ser(t, eth(layers.EthernetTypeIPv4), ip, tcp(ip), data)
		}},
		{"tcp_ports_ipv4", []odp.Action{odp.Set(odp.FieldTpSrc, u16(40000)), odp.Set(odp.FieldTpDst, u16(8080))}, func(t testing.TB, after bool) []byte {
			ip := ip4(layers.IPProtocolTCP)
			l := tcp(ip)
			if after {
				l.SrcPort, l.DstPort = 40000, 8080
			}
			return ser(t, eth(layers.EthernetTypeIPv4), ip, l, data)
		}},
		{"udp_port_ipv6", []odp.Action{odp.Set(odp.FieldTpDst, u16(5000))}, func(t testing.TB, after bool) []byte {
			ip := ip6(layers.IPProtocolUDP)
			l := udp(ip)
			if after {
				l.DstPort = 5000
			}
			return ser(t, eth(layers.EthernetTypeIPv6), ip, l, data)
		}},
		{"sctp_ports_ipv4", []odp.Action{odp.Set(odp.FieldTpSrc, u16(3868)), odp.Set(odp.FieldTpDst, u16(2905))}, func(t testing.TB, after bool) []byte {
			ip := ip4(layers.IPProtocolSCTP)
			l := &layers.SCTP{SrcPort: 1000, DstPort: 2000, VerificationTag: 0xabcdef}
			if after {
				l.SrcPort, l.DstPort = 3868, 2905
			}
			return ser(t, eth(layers.EthernetTypeIPv4), ip, l, data)
		}},
		{"sctp_port_ipv6", []odp.Action{odp.Set(odp.FieldTpSrc, u16(9))}, func(t testing.TB, after bool) []byte {
			ip := ip6(layers.IPProtocolSCTP)
			l := &layers.SCTP{SrcPort: 1000, DstPort: 2000, VerificationTag: 0xabcdef}
			if after {
				l.SrcPort = 9
			}
			return ser(t, eth(layers.EthernetTypeIPv6), ip, l, data)
		}},
		{"icmpv4_type_code", []odp.Action{odp.Set(odp.FieldICMPType, []byte{0}), odp.Set(odp.FieldICMPCode, []byte{3})}, func(t testing.TB, after bool) []byte {
			ip := ip4(layers.IPProtocolICMPv4)
			tc := layers.CreateICMPv4TypeCode(8, 0)
			if after {
				tc = layers.CreateICMPv4TypeCode(0, 3)
			}
			return ser(t, eth(layers.EthernetTypeIPv4), ip, &layers.ICMPv4{TypeCode: tc, Id: 1, Seq: 2}, data)
		}},
		{"icmpv6_type", []odp.Action{odp.Set(odp.FieldICMPType, []byte{129})}, func(t testing.TB, after bool) []byte {
			ip := ip6(layers.IPProtocolICMPv6)
			typ := uint8(128)
			if after {
				typ = 129
			}
			return ser(t, eth(layers.EthernetTypeIPv6), ip, icmp6(ip, typ, 0), &layers.ICMPv6Echo{Identifier: 1, SeqNumber: 2}, data)
		}},
		{"ipv6_src_tcp", []odp.Action{odp.Set(odp.FieldIPv6Src, ip6C)}, func(t testing.TB, after bool) []byte {
			ip := ip6(layers.IPProtocolTCP)
			ip.SrcIP = pick(after, ip6A, ip6C)
			return ser(t, eth(layers.EthernetTypeIPv6), ip, tcp(ip), data)
		}},
		{"ipv6_dst_udp_masked", []odp.Action{odp.SetMasked(odp.FieldIPv6Dst, ip6C, bytes.Repeat([]byte{0xff}, 8))}, func(t testing.TB, after bool) []byte {
			ip := ip6(layers.IPProtocolUDP)
			ip.DstIP = pick(after, ip6B, net.ParseIP("2001:db8:ffff:0:1234:5678:9abc:def0"))
			return ser(t, eth(layers.EthernetTypeIPv6), ip, udp(ip), data)
		}},
		{"ipv6_dst_icmpv6", []odp.Action{odp.Set(odp.FieldIPv6Dst, ip6C)}, func(t testing.TB, after bool) []byte {
			ip := ip6(layers.IPProtocolICMPv6)
			ip.DstIP = pick(after, ip6B, ip6C)
			return ser(t, eth(layers.EthernetTypeIPv6), ip, icmp6(ip, 128, 0), &layers.ICMPv6Echo{Identifier: 1, SeqNumber: 2}, data)
		}},
		{"ipv6_label_tc_hlimit", []odp.Action{
			odp.Set(odp.FieldIPv6Label, u32(0xabcde)),
			odp.Set(odp.FieldIPv6TC, []byte{0xb8}),
			odp.Set(odp.FieldIPv6HopLimit, []byte{1}),
		}, func(t testing.TB, after bool) []byte {
			ip := ip6(layers.IPProtocolUDP)
			if after {
				ip.FlowLabel, ip.TrafficClass, ip.HopLimit = 0xabcde, 0xb8, 1
			}
			return ser(t, eth(layers.EthernetTypeIPv6), ip, udp(ip), data)
		}},
		{"nd_target_sll", []odp.Action{odp.Set(odp.FieldNdTarget, ip6C), odp.Set(odp.FieldNdSLL, macC)}, func(t testing.TB, after bool) []byte {
			ip := ip6(layers.IPProtocolICMPv6)
			ns := &layers.ICMPv6NeighborSolicitation{TargetAddress: ip6B,
				Options: layers.ICMPv6Options{{Type: layers.ICMPv6OptSourceAddress, Data: macA}}}
			if after {
				ns.TargetAddress, ns.Options[0].Data = ip6C, macC
			}
			return ser(t, eth(layers.EthernetTypeIPv6), ip, icmp6(ip, 135, 0), ns)
		}},
		{"nd_tll", []odp.Action{odp.Set(odp.FieldNdTLL, macC), odp.Set(odp.FieldNdSLL, macB)}, func(t testing.TB, after bool) []byte {
			ip := ip6(layers.IPProtocolICMPv6)
			na := &layers.ICMPv6NeighborAdvertisement{Flags: 0x60, TargetAddress: ip6B,
				Options: layers.ICMPv6Options{{Type: layers.ICMPv6OptTargetAddress, Data: macA}}}
			if after {
				na.Options[0].Data = macC // an NA has no SLL: that set is skipped
			}
			return ser(t, eth(layers.EthernetTypeIPv6), ip, icmp6(ip, 136, 0), na)
		}},
		{"arp_all", []odp.Action{
			odp.Set(odp.FieldArpOp, u16(2)),
			odp.Set(odp.FieldArpSPA, ip4C),
			odp.Set(odp.FieldArpTPA, ip4A),
			odp.Set(odp.FieldArpSHA, macC),
			odp.Set(odp.FieldArpTHA, macA),
		}, func(t testing.TB, after bool) []byte {
			a := &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6,
				ProtAddressSize: 4, Operation: 1, SourceHwAddress: macA, SourceProtAddress: ip4A,
				DstHwAddress: make(net.HardwareAddr, 6), DstProtAddress: ip4B}
			if after {
				a.Operation, a.SourceProtAddress, a.DstProtAddress = 2, ip4C, ip4A
				a.SourceHwAddress, a.DstHwAddress = macC, macA
			}
			return ser(t, eth(layers.EthernetTypeARP), a)
		}},
		{"vlan_tci", []odp.Action{odp.SetMasked(odp.FieldVLANTCI, u16(0xa064), u16(0xefff))}, func(t testing.TB, after bool) []byte {
			q := &layers.Dot1Q{VLANIdentifier: 10, Priority: 0, Type: layers.EthernetTypeIPv4}
			if after {
				q.VLANIdentifier, q.Priority = 100, 5
			}
			ip := ip4(layers.IPProtocolUDP)
			return ser(t, eth(layers.EthernetTypeDot1Q), q, ip, udp(ip), data)
		}},
		{"push_vlan", []odp.Action{odp.PushVLAN(0x8100, 3<<13|42), odp.Set(odp.FieldIPv4Dst, ip4C)}, func(t testing.TB, after bool) []byte {
			ip := ip4(layers.IPProtocolTCP)
			if !after {
				return ser(t, eth(layers.EthernetTypeIPv4), ip, tcp(ip), data)
			}
			ip.DstIP = ip4C
			return ser(t, eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 42, Priority: 3, Type: layers.EthernetTypeIPv4},
				ip, tcp(ip), data)
		}},
		{"push_qinq", []odp.Action{odp.PushVLAN(0x88a8, 7)}, func(t testing.TB, after bool) []byte {
			ip := ip4(layers.IPProtocolUDP)
			inner := &layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeIPv4}
			if !after {
				return ser(t, eth(layers.EthernetTypeDot1Q), inner, ip, udp(ip), data)
			}
			return ser(t, eth(layers.EthernetTypeQinQ), &layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeDot1Q},
				inner, ip, udp(ip), data)
		}},
		{"pop_vlan_then_set_port", []odp.Action{odp.PopVLAN(), odp.Set(odp.FieldTpSrc, u16(1))}, func(t testing.TB, after bool) []byte {
			ip := ip4(layers.IPProtocolUDP)
			l := udp(ip)
			if after {
				l.SrcPort = 1
				return ser(t, eth(layers.EthernetTypeIPv4), ip, l, data)
			}
			return ser(t, eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeIPv4},
				ip, l, data)
		}},
		{"pop_vlan_untagged", []odp.Action{odp.PopVLAN()}, func(t testing.TB, after bool) []byte {
			ip := ip4(layers.IPProtocolUDP)
			return ser(t, eth(layers.EthernetTypeIPv4), ip, udp(ip), data)
		}},
		{"push_mpls", []odp.Action{odp.PushMPLS(0x8847, 100<<12|packet.MPLSBOS|64)}, func(t testing.TB, after bool) []byte {
			ip := ip4(layers.IPProtocolUDP)
			if !after {
				return ser(t, eth(layers.EthernetTypeIPv4), ip, udp(ip), data)
			}
			return ser(t, eth(layers.EthernetTypeMPLSUnicast), &layers.MPLS{Label: 100, StackBottom: true, TTL: 64},
				ip, udp(ip), data)
		}},
		{"push_mpls_behind_vlan", []odp.Action{odp.PushMPLS(0x8847, 5<<12|packet.MPLSBOS|9)}, func(t testing.TB, after bool) []byte {
			ip := ip4(layers.IPProtocolUDP)
			q := &layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeIPv4}
			if !after {
				return ser(t, eth(layers.EthernetTypeDot1Q), q, ip, udp(ip), data)
			}
			q.Type = layers.EthernetTypeMPLSUnicast
			return ser(t, eth(layers.EthernetTypeDot1Q), q, &layers.MPLS{Label: 5, StackBottom: true, TTL: 9}, ip, udp(ip), data)
		}},
		{"set_mpls_ttl", []odp.Action{odp.SetMasked(odp.FieldMPLSLSE, u32(63), u32(0xff))}, func(t testing.TB, after bool) []byte {
			ip := ip4(layers.IPProtocolUDP)
			m := &layers.MPLS{Label: 100, StackBottom: true, TTL: 64}
			if after {
				m.TTL = 63
			}
			return ser(t, eth(layers.EthernetTypeMPLSUnicast), m, ip, udp(ip), data)
		}},
		{"pop_mpls_then_set_ipv4", []odp.Action{odp.PopMPLS(0x0800), odp.Set(odp.FieldIPv4Src, ip4C), odp.Set(odp.FieldTpDst, u16(7))}, func(t testing.TB, after bool) []byte {
			ip := ip4(layers.IPProtocolUDP)
			l := udp(ip)
			if after {
				ip.SrcIP, l.DstPort = ip4C, 7
				return ser(t, eth(layers.EthernetTypeIPv4), ip, l, data)
			}
			return ser(t, eth(layers.EthernetTypeMPLSUnicast), &layers.MPLS{Label: 100, StackBottom: true, TTL: 64}, ip, l, data)
		}},
		{"pop_mpls_inner_label", []odp.Action{odp.PopMPLS(0x8847)}, func(t testing.TB, after bool) []byte {
			ip := ip4(layers.IPProtocolUDP)
			inner := &layers.MPLS{Label: 200, StackBottom: true, TTL: 64}
			if after {
				return ser(t, eth(layers.EthernetTypeMPLSUnicast), inner, ip, udp(ip), data)
			}
			return ser(t, eth(layers.EthernetTypeMPLSUnicast), &layers.MPLS{Label: 100, TTL: 64}, inner, ip, udp(ip), data)
		}},
		{"later_fragment_port_skipped", []odp.Action{odp.Set(odp.FieldTpSrc, u16(1)), odp.Set(odp.FieldIPv4Dst, ip4C)}, func(t testing.TB, after bool) []byte {
			ip := ip4(layers.IPProtocolTCP)
			ip.FragOffset = 100
			ip.DstIP = pick(after, ip4B, ip4C)
			return ser(t, eth(layers.EthernetTypeIPv4), ip, data)
		}},
		{"ipv4_set_on_ipv6_skipped", []odp.Action{odp.Set(odp.FieldIPv4Src, ip4C)}, func(t testing.TB, after bool) []byte {
			ip := ip6(layers.IPProtocolUDP)
			return ser(t, eth(layers.EthernetTypeIPv6), ip, udp(ip), data)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, want := c.build(t, false), c.build(t, true)
			b := bufferOf(in)
			for i := range c.acts {
				if !Execute(b, &c.acts[i]) {
					t.Fatalf("action %v dropped the packet", c.acts[i])
				}
			}
			if got := b.Data(); !bytes.Equal(got, want) {
				t.Fatalf("after %v:\ngot  %s\nwant %s", odp.Actions(c.acts), hex.EncodeToString(got), hex.EncodeToString(want))
			}
			checkOffsets(t, b)
			verifyChecksums(t, b.Data())
		})
	}
}

// Execute runs one action with no pool (the cases need none).
func Execute(b *packet.Buffer, a *odp.Action) bool { return odp.Execute(b, a, nil) }

// checkOffsets requires L3Off/L4Off to be what the parser finds on the
// bytes as they are now.
func checkOffsets(t *testing.T, b *packet.Buffer) {
	t.Helper()
	var k flow.Key
	l3, l4 := flow.ParseBytes(b.Data(), &k)
	if int(b.L3Off) != l3 || int(b.L4Off) != l4 {
		t.Errorf("offsets L3Off=%d L4Off=%d, parser finds %d %d", b.L3Off, b.L4Off, l3, l4)
	}
}

// verifyChecksums checks every checksum gopacket finds layers for.
func verifyChecksums(t *testing.T, d []byte) {
	t.Helper()
	p := gopacket.NewPacket(d, layers.LayerTypeEthernet, gopacket.Default)
	var pseudo uint16
	var l4Len int
	for _, l := range p.Layers() {
		switch l := l.(type) {
		case *layers.IPv4:
			if c := packet.IPv4(l.Contents).CalculateChecksum(); c != l.Checksum {
				t.Errorf("IPv4 checksum %#x, should be %#x", l.Checksum, c)
			}
			pseudo = packet.PseudoHeaderSumIPv4([4]byte(l.SrcIP.To4()), [4]byte(l.DstIP.To4()), uint8(l.Protocol), uint16(len(l.Payload)))
			l4Len = len(l.Payload)
		case *layers.IPv6:
			pseudo = packet.PseudoHeaderSumIPv6((*[16]byte)(l.SrcIP.To16()), (*[16]byte)(l.DstIP.To16()), uint8(l.NextHeader), uint32(len(l.Payload)))
			l4Len = len(l.Payload)
		case *layers.TCP, *layers.UDP, *layers.ICMPv6:
			seg := d[len(d)-l4Len:]
			if u, ok := l.(*layers.UDP); ok && u.Checksum == 0 {
				continue
			}
			if s := packet.Checksum(seg, pseudo); s != 0xffff {
				t.Errorf("%v checksum does not verify (sum %#x)", l.LayerType(), s)
			}
		case *layers.ICMPv4:
			if s := packet.Checksum(d[len(d)-l4Len:], 0); s != 0xffff {
				t.Errorf("ICMPv4 checksum does not verify (sum %#x)", s)
			}
		case *layers.SCTP:
			seg := d[len(d)-l4Len:]
			if got, want := packet.SCTP(seg).Checksum(), packet.SCTPChecksum(seg); got != want {
				t.Errorf("SCTP CRC %#x, should be %#x", got, want)
			}
		}
	}
}
