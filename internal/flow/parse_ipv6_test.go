package flow

import "testing"

// v6 is the expected key of a test IPv6 packet with final protocol proto.
func v6(proto uint8, set func(k *Key)) Key {
	return key(ethIPv6, func(k *Key) {
		k.IPv6Src, k.IPv6Dst = testIP6Src, testIP6Dst
		k.NwTOS, k.IPv6Label, k.NwTTL, k.NwProto = 0xb9, 0x12345, 64, proto
		if set != nil {
			set(k)
		}
	})
}

func TestParseIPv6(t *testing.T) {
	badVersion := ipv6(protoUDP, udp(1, 2))
	badVersion[0] = 0x45
	runParseCases(t, []parseCase{
		{
			name: "TCP",
			pkt:  eth(ethIPv6, ipv6(protoTCP, tcp(5000, 22, TCPAck|TCPPsh))),
			want: v6(protoTCP, func(k *Key) { k.TpSrc, k.TpDst, k.TCPFlags = 5000, 22, TCPAck|TCPPsh }),
			l3:   14, l4: 54,
		},
		{
			name: "UDP with Ethernet padding",
			pkt:  eth(ethIPv6, ipv6(protoUDP, udp(546, 547)), make([]byte, 10)),
			want: v6(protoUDP, func(k *Key) { k.TpSrc, k.TpDst = 546, 547 }),
			l3:   14, l4: 54,
		},
		{
			name: "SCTP",
			pkt:  eth(ethIPv6, ipv6(protoSCTP, sctp(9, 10))),
			want: v6(protoSCTP, func(k *Key) { k.TpSrc, k.TpDst = 9, 10 }),
			l3:   14, l4: 54,
		},
		{
			name: "ICMP number is not parsed over IPv6",
			pkt:  eth(ethIPv6, ipv6(protoICMP, icmp(8, 0))),
			want: v6(protoICMP, nil), l3: 14, l4: 54,
		},
		{name: "header truncated", pkt: eth(ethIPv6, ipv6(protoUDP)[:39]), want: key(ethIPv6, nil), l3: 14, l4: none},
		{name: "payload length beyond packet", pkt: eth(ethIPv6, ipv6(protoUDP, udp(1, 2))[:47]), want: key(ethIPv6, nil), l3: 14, l4: none},
		{name: "version 4 in an IPv6 ethertype", pkt: eth(ethIPv6, badVersion), want: key(ethIPv6, nil), l3: 14, l4: none},
		{
			name: "hop-by-hop",
			pkt:  eth(ethIPv6, ipv6(protoHopOpts, opts6(protoTCP, 1, tcp(1, 2, TCPFin)))),
			want: v6(protoTCP, func(k *Key) { k.IPv6Exthdr, k.TpSrc, k.TpDst, k.TCPFlags = ExthdrHop, 1, 2, TCPFin }),
			l3:   14, l4: 62,
		},
		{
			name: "every header in the recommended order",
			pkt: eth(ethIPv6, ipv6(protoHopOpts, opts6(protoDstOpts, 2, opts6(protoRouting, 1, opts6(protoFragment, 3,
				frag6(protoAH, 0, true, ah6(protoDstOpts, opts6(protoUDP, 1, udp(7, 8))))))))),
			want: v6(protoUDP, func(k *Key) {
				k.IPv6Exthdr = ExthdrHop | ExthdrDest | ExthdrRouter | ExthdrFrag | ExthdrAuth
				k.NwFrag, k.TpSrc, k.TpDst = FragAny, 7, 8
			}),
			l3: 14, l4: 14 + 40 + 16 + 8 + 24 + 8 + 24 + 8,
		},
		{
			name: "atomic fragment is not a fragment",
			pkt:  eth(ethIPv6, ipv6(protoFragment, frag6(protoUDP, 0, false, udp(1, 2)))),
			want: v6(protoUDP, func(k *Key) { k.IPv6Exthdr, k.TpSrc, k.TpDst = ExthdrFrag, 1, 2 }),
			l3:   14, l4: 62,
		},
		{
			name: "later fragment",
			pkt:  eth(ethIPv6, ipv6(protoFragment, frag6(protoUDP, 100, true, udp(1, 2)))),
			want: v6(protoFragment, func(k *Key) { k.IPv6Exthdr, k.NwFrag = ExthdrFrag, FragAny|FragLater }),
			l3:   14, l4: none,
		},
		{
			name: "last fragment",
			pkt:  eth(ethIPv6, ipv6(protoFragment, frag6(protoTCP, 100, false, make([]byte, 8)))),
			want: v6(protoFragment, func(k *Key) { k.IPv6Exthdr, k.NwFrag = ExthdrFrag, FragAny|FragLater }),
			l3:   14, l4: none,
		},
		{
			name: "ESP ends the walk",
			pkt:  eth(ethIPv6, ipv6(protoHopOpts, opts6(protoESP, 1, be32(0x1000), be32(1), make([]byte, 16)))),
			want: v6(protoESP, func(k *Key) { k.IPv6Exthdr = ExthdrHop | ExthdrESP }),
			l3:   14, l4: 62,
		},
		{
			name: "no next header",
			pkt:  eth(ethIPv6, ipv6(protoDstOpts, opts6(protoNoNext, 1, make([]byte, 8)))),
			want: v6(protoNoNext, func(k *Key) { k.IPv6Exthdr = ExthdrDest | ExthdrNoNext }),
			l3:   14, l4: none,
		},
		{
			name: "no next header right after IPv6",
			pkt:  eth(ethIPv6, ipv6(protoNoNext)),
			want: v6(protoNoNext, func(k *Key) { k.IPv6Exthdr = ExthdrNoNext }),
			l3:   14, l4: none,
		},
		{
			name: "hop-by-hop not first is unsequenced",
			pkt:  eth(ethIPv6, ipv6(protoDstOpts, opts6(protoHopOpts, 1, opts6(protoUDP, 1, udp(1, 2))))),
			want: v6(protoUDP, func(k *Key) { k.IPv6Exthdr, k.TpSrc, k.TpDst = ExthdrDest|ExthdrHop|ExthdrUnseq, 1, 2 }),
			l3:   14, l4: 70,
		},
		{
			name: "routing after fragment is unsequenced",
			pkt:  eth(ethIPv6, ipv6(protoFragment, frag6(protoRouting, 0, true, opts6(protoUDP, 1, udp(1, 2))))),
			want: v6(protoUDP, func(k *Key) {
				k.IPv6Exthdr, k.NwFrag, k.TpSrc, k.TpDst = ExthdrFrag|ExthdrRouter|ExthdrUnseq, FragAny, 1, 2
			}),
			l3: 14, l4: 70,
		},
		{
			name: "destination options before fragment is unsequenced",
			pkt:  eth(ethIPv6, ipv6(protoDstOpts, opts6(protoFragment, 1, frag6(protoUDP, 0, true, udp(1, 2))))),
			want: v6(protoUDP, func(k *Key) {
				k.IPv6Exthdr, k.NwFrag, k.TpSrc, k.TpDst = ExthdrDest|ExthdrFrag|ExthdrUnseq, FragAny, 1, 2
			}),
			l3: 14, l4: 70,
		},
		{
			name: "two hop-by-hop headers repeat",
			pkt:  eth(ethIPv6, ipv6(protoHopOpts, opts6(protoHopOpts, 1, opts6(protoUDP, 1, udp(1, 2))))),
			want: v6(protoUDP, func(k *Key) { k.IPv6Exthdr, k.TpSrc, k.TpDst = ExthdrHop|ExthdrUnrep, 1, 2 }),
			l3:   14, l4: 70,
		},
		{
			name: "destination options twice around routing is expected",
			pkt:  eth(ethIPv6, ipv6(protoDstOpts, opts6(protoRouting, 1, opts6(protoDstOpts, 1, opts6(protoUDP, 1, udp(1, 2)))))),
			want: v6(protoUDP, func(k *Key) { k.IPv6Exthdr, k.TpSrc, k.TpDst = ExthdrDest|ExthdrRouter, 1, 2 }),
			l3:   14, l4: 78,
		},
		{
			name: "destination options twice in a row repeat",
			pkt:  eth(ethIPv6, ipv6(protoDstOpts, opts6(protoDstOpts, 1, opts6(protoUDP, 1, udp(1, 2))))),
			want: v6(protoUDP, func(k *Key) { k.IPv6Exthdr, k.TpSrc, k.TpDst = ExthdrDest|ExthdrUnrep, 1, 2 }),
			l3:   14, l4: 70,
		},
		{
			name: "truncated hop-by-hop",
			pkt:  eth(ethIPv6, ipv6(protoHopOpts, opts6(protoUDP, 2)[:12])),
			want: v6(protoHopOpts, nil), l3: 14, l4: none,
		},
		{
			name: "truncated fragment header keeps earlier headers",
			pkt:  eth(ethIPv6, ipv6(protoRouting, opts6(protoFragment, 1, []byte{protoUDP, 0, 0}))),
			want: v6(protoFragment, func(k *Key) { k.IPv6Exthdr = ExthdrRouter }),
			l3:   14, l4: none,
		},
		{
			name: "truncated AH",
			pkt:  eth(ethIPv6, ipv6(protoAH, ah6(protoUDP)[:20])),
			want: v6(protoAH, nil), l3: 14, l4: none,
		},
		{
			name: "extension header cut by payload length",
			pkt:  cat(eth(ethIPv6, ipv6(protoHopOpts, opts6(protoUDP, 2)[:8])), make([]byte, 8)),
			want: v6(protoHopOpts, nil), l3: 14, l4: none,
		},
	})
}

func TestParseICMPv6(t *testing.T) {
	target := [16]byte{0xfe, 0x80, 15: 0x99}
	sll := [6]byte{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}
	tll := [6]byte{0x02, 0x66, 0x77, 0x88, 0x99, 0xaa}
	icmpKey := func(typ, code uint8, set func(k *Key)) Key {
		return v6(protoICMPv6, func(k *Key) {
			k.TpSrc, k.TpDst = uint16(typ), uint16(code)
			if set != nil {
				set(k)
			}
		})
	}
	pkt := func(msg []byte) []byte { return eth(ethIPv6, ipv6(protoICMPv6, msg)) }
	runParseCases(t, []parseCase{
		{name: "echo request", pkt: pkt(icmp6(128, 0, be32(0x00010002))), want: icmpKey(128, 0, nil), l3: 14, l4: 54},
		{name: "destination unreachable", pkt: pkt(icmp6(1, 4, be32(0))), want: icmpKey(1, 4, nil), l3: 14, l4: 54},
		{name: "shorter than 8 bytes", pkt: pkt(icmp6(128, 0, []byte{0, 0, 0})), want: v6(protoICMPv6, nil), l3: 14, l4: 54},
		{
			name: "NS with SLL",
			pkt:  pkt(icmp6(135, 0, nd(target, ndOpt(ndOptSLL, 1, sll)))),
			want: icmpKey(135, 0, func(k *Key) { k.NdTarget, k.ArpSHA = target, sll }),
			l3:   14, l4: 54,
		},
		{
			name: "NA with TLL",
			pkt:  pkt(icmp6(136, 0, nd(target, ndOpt(ndOptTLL, 1, tll)))),
			want: icmpKey(136, 0, func(k *Key) { k.NdTarget, k.ArpTHA = target, tll }),
			l3:   14, l4: 54,
		},
		{
			name: "NS without options",
			pkt:  pkt(icmp6(135, 0, nd(target))),
			want: icmpKey(135, 0, func(k *Key) { k.NdTarget = target }),
			l3:   14, l4: 54,
		},
		{
			name: "both options and an unknown one",
			pkt:  pkt(icmp6(136, 0, nd(target, ndOpt(14, 1, [6]byte{1}), ndOpt(ndOptTLL, 1, tll), ndOpt(ndOptSLL, 1, sll)))),
			want: icmpKey(136, 0, func(k *Key) { k.NdTarget, k.ArpSHA, k.ArpTHA = target, sll, tll }),
			l3:   14, l4: 54,
		},
		{
			name: "long SLL option is not an Ethernet address",
			pkt:  pkt(icmp6(135, 0, nd(target, ndOpt(ndOptSLL, 2, sll)))),
			want: icmpKey(135, 0, func(k *Key) { k.NdTarget = target }),
			l3:   14, l4: 54,
		},
		{
			name: "trailing bytes shorter than an option",
			pkt:  pkt(icmp6(135, 0, nd(target, ndOpt(ndOptSLL, 1, sll), []byte{1, 1, 0, 0}))),
			want: icmpKey(135, 0, func(k *Key) { k.NdTarget, k.ArpSHA = target, sll }),
			l3:   14, l4: 54,
		},
		{
			name: "duplicate SLL drops both addresses",
			pkt:  pkt(icmp6(135, 0, nd(target, ndOpt(ndOptTLL, 1, tll), ndOpt(ndOptSLL, 1, sll), ndOpt(ndOptSLL, 1, sll)))),
			want: icmpKey(135, 0, func(k *Key) { k.NdTarget = target }),
			l3:   14, l4: 54,
		},
		{
			name: "duplicate TLL drops both addresses",
			pkt:  pkt(icmp6(136, 0, nd(target, ndOpt(ndOptSLL, 1, sll), ndOpt(ndOptTLL, 1, tll), ndOpt(ndOptTLL, 1, tll)))),
			want: icmpKey(136, 0, func(k *Key) { k.NdTarget = target }),
			l3:   14, l4: 54,
		},
		{
			name: "zero-length option",
			pkt:  pkt(icmp6(135, 0, nd(target, ndOpt(ndOptSLL, 1, sll), ndOpt(ndOptTLL, 0, tll), make([]byte, 8)))),
			want: icmpKey(135, 0, func(k *Key) { k.NdTarget = target }),
			l3:   14, l4: 54,
		},
		{
			name: "option running past the packet",
			pkt:  pkt(icmp6(135, 0, nd(target, ndOpt(ndOptSLL, 1, sll), ndOpt(ndOptTLL, 2, tll)[:8]))),
			want: icmpKey(135, 0, func(k *Key) { k.NdTarget = target }),
			l3:   14, l4: 54,
		},
		{
			name: "truncated target",
			pkt:  pkt(icmp6(135, 0, nd(target)[:19])),
			want: icmpKey(135, 0, nil), l3: 14, l4: 54,
		},
		{
			name: "NS with a non-zero code is not ND",
			pkt:  pkt(icmp6(135, 1, nd(target, ndOpt(ndOptSLL, 1, sll)))),
			want: icmpKey(135, 1, nil), l3: 14, l4: 54,
		},
		{
			name: "router solicitation options are not read",
			pkt:  pkt(icmp6(133, 0, be32(0), ndOpt(ndOptSLL, 1, sll))),
			want: icmpKey(133, 0, nil), l3: 14, l4: 54,
		},
		{
			name: "NS after extension headers",
			pkt:  eth(ethIPv6, ipv6(protoHopOpts, opts6(protoICMPv6, 1, icmp6(135, 0, nd(target, ndOpt(ndOptSLL, 1, sll)))))),
			want: icmpKey(135, 0, func(k *Key) { k.IPv6Exthdr, k.NdTarget, k.ArpSHA = ExthdrHop, target, sll }),
			l3:   14, l4: 62,
		},
	})
}
