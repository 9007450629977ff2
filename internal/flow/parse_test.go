package flow

import (
	"testing"

	"github.com/govs/govs/internal/packet"
)

const none = packet.NoOffset

type parseCase struct {
	name   string
	pkt    []byte
	want   Key
	l3, l4 int
}

// key is the expected key of a test packet: the test MACs, ethertype typ,
// and whatever set adds.
func key(typ uint16, set func(k *Key)) Key {
	k := Key{EthDst: testDst, EthSrc: testSrc, EthType: typ}
	if set != nil {
		set(&k)
	}
	return k
}

func runParseCases(t *testing.T, cases []parseCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var k Key
			k.Metadata = 0xdead // ParseBytes must reset it
			l3, l4 := ParseBytes(c.pkt, &k)
			if d := keyDiff(&k, &c.want); d != "" {
				t.Errorf("key differs:%s", d)
			}
			if l3 != c.l3 || l4 != c.l4 {
				t.Errorf("offsets = (%d, %d), want (%d, %d)", l3, l4, c.l3, c.l4)
			}
		})
	}
}

func TestParseEthernet(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "empty", pkt: nil, want: Key{}, l3: none, l4: none},
		{name: "13 bytes", pkt: eth(0x0800)[:13], want: Key{}, l3: none, l4: none},
		{name: "header only", pkt: eth(0x0800), want: key(ethIPv4, nil), l3: 14, l4: none},
		{name: "unknown ethertype", pkt: eth(0x88cc, make([]byte, 30)), want: key(0x88cc, nil), l3: 14, l4: none},
		{
			name: "802.3 frame with plain LLC",
			pkt:  eth(0x0026, []byte{0x42, 0x42, 0x03}, make([]byte, 35)),
			want: key(EthTypeNone, nil), l3: 14, l4: none,
		},
		{name: "802.3 frame too short for SNAP", pkt: eth(0x0005, []byte{0xaa, 0xaa, 0x03, 0, 0}), want: key(EthTypeNone, nil), l3: 14, l4: none},
		{
			name: "LLC/SNAP carrying IPv4",
			pkt:  eth(0x0030, []byte{0xaa, 0xaa, 0x03, 0, 0, 0}, be16(0x0800), ipv4(protoUDP, 1, 2, ipv4Opts{ttl: 9}, udp(5, 6))),
			want: key(ethIPv4, func(k *Key) {
				k.NwSrc, k.NwDst, k.NwTTL, k.NwProto, k.TpSrc, k.TpDst = 1, 2, 9, protoUDP, 5, 6
			}),
			l3: 22, l4: 42,
		},
		{
			name: "LLC/SNAP with another OUI",
			pkt:  eth(0x0030, []byte{0xaa, 0xaa, 0x03, 0, 0, 0x0c}, be16(0x2000), make([]byte, 30)),
			want: key(EthTypeNone, nil), l3: 14, l4: none,
		},
		{
			name: "LLC/SNAP with a length for a type",
			pkt:  eth(0x0030, []byte{0xaa, 0xaa, 0x03, 0, 0, 0}, be16(0x0100), make([]byte, 30)),
			want: key(EthTypeNone, nil), l3: 22, l4: none,
		},
	})
}

func TestParseVLAN(t *testing.T) {
	runParseCases(t, []parseCase{
		{
			name: "802.1Q",
			pkt:  eth(ethVLAN, tag(0x6064, 0x88cc)),
			want: key(0x88cc, func(k *Key) { k.VLANs[0] = VLAN{ethVLAN, 0x7064} }),
			l3:   18, l4: none,
		},
		{
			name: "VLAN 0 priority 7",
			pkt:  eth(ethVLAN, tag(0xe000, 0x88cc)),
			want: key(0x88cc, func(k *Key) { k.VLANs[0] = VLAN{ethVLAN, 0xf000} }),
			l3:   18, l4: none,
		},
		{
			name: "DEI is not kept apart from CFI",
			pkt:  eth(ethVLAN, tag(0x1005, 0x88cc)),
			want: key(0x88cc, func(k *Key) { k.VLANs[0] = VLAN{ethVLAN, 0x1005} }),
			l3:   18, l4: none,
		},
		{
			name: "QinQ with IPv4/TCP",
			pkt:  eth(ethQinQ, tag(100, ethVLAN), tag(200, ethIPv4), ipv4(protoTCP, 1, 2, ipv4Opts{}, tcp(1000, 80, TCPSyn))),
			want: key(ethIPv4, func(k *Key) {
				k.VLANs = [2]VLAN{{ethQinQ, 100 | VLANCFI}, {ethVLAN, 200 | VLANCFI}}
				k.NwSrc, k.NwDst, k.NwProto = 1, 2, protoTCP
				k.TpSrc, k.TpDst, k.TCPFlags = 1000, 80, TCPSyn
			}),
			l3: 22, l4: 42,
		},
		{
			name: "third tag ends parsing",
			pkt:  eth(ethQinQ, tag(1, ethVLAN), tag(2, ethVLAN), tag(3, ethIPv4), ipv4(protoTCP, 1, 2, ipv4Opts{}, tcp(1, 2, 0))),
			want: key(ethVLAN, func(k *Key) {
				k.VLANs = [2]VLAN{{ethQinQ, 1 | VLANCFI}, {ethVLAN, 2 | VLANCFI}}
			}),
			l3: 22, l4: none,
		},
		{
			name: "truncated tag",
			pkt:  eth(ethVLAN, be16(5), []byte{0x08}),
			want: key(ethVLAN, nil), l3: 14, l4: none,
		},
		{
			name: "802.3 frame inside a tag",
			pkt:  eth(ethVLAN, tag(7, 0x0040), []byte{0xfe, 0xfe, 0x03}, make([]byte, 40)),
			want: key(EthTypeNone, func(k *Key) { k.VLANs[0] = VLAN{ethVLAN, 7 | VLANCFI} }),
			l3:   18, l4: none,
		},
	})
}

func TestParseMPLS(t *testing.T) {
	inner := ipv4(protoTCP, 1, 2, ipv4Opts{}, tcp(1, 2, 0))
	runParseCases(t, []parseCase{
		{
			name: "one label, payload not parsed",
			pkt:  eth(ethMPLS, lse(100, 5, true, 64), inner),
			want: key(ethMPLS, func(k *Key) { k.MPLS[0] = 100<<12 | 5<<9 | mplsBOS | 64 }),
			l3:   18, l4: none,
		},
		{
			name: "multicast ethertype",
			pkt:  eth(ethMPLSMcast, lse(16, 0, true, 1)),
			want: key(ethMPLSMcast, func(k *Key) { k.MPLS[0] = 16<<12 | mplsBOS | 1 }),
			l3:   18, l4: none,
		},
		{
			name: "three labels",
			pkt:  eth(ethMPLS, lse(1, 0, false, 1), lse(2, 0, false, 2), lse(3, 0, true, 3), inner),
			want: key(ethMPLS, func(k *Key) { k.MPLS = [3]uint32{1<<12 | 1, 2<<12 | 2, 3<<12 | mplsBOS | 3} }),
			l3:   26, l4: none,
		},
		{
			name: "four labels keep three",
			pkt:  eth(ethMPLS, lse(1, 0, false, 1), lse(2, 0, false, 2), lse(3, 0, false, 3), lse(4, 0, true, 4), inner),
			want: key(ethMPLS, func(k *Key) { k.MPLS = [3]uint32{1<<12 | 1, 2<<12 | 2, 3<<12 | 3} }),
			l3:   30, l4: none,
		},
		{
			name: "stack without bottom",
			pkt:  eth(ethMPLS, lse(1, 0, false, 1), lse(2, 0, false, 2), []byte{0, 0}),
			want: key(ethMPLS, func(k *Key) { k.MPLS = [3]uint32{1<<12 | 1, 2<<12 | 2} }),
			l3:   22, l4: none,
		},
		{
			name: "under a VLAN tag",
			pkt:  eth(ethVLAN, tag(10, ethMPLS), lse(7, 1, true, 9)),
			want: key(ethMPLS, func(k *Key) {
				k.VLANs[0] = VLAN{ethVLAN, 10 | VLANCFI}
				k.MPLS[0] = 7<<12 | 1<<9 | mplsBOS | 9
			}),
			l3: 22, l4: none,
		},
	})
}

func TestParseARP(t *testing.T) {
	sha := [6]byte{0x02, 0xaa, 0, 0, 0, 1}
	tha := [6]byte{0x02, 0xbb, 0, 0, 0, 2}
	arpKey := func(typ, op uint16) Key {
		return key(typ, func(k *Key) {
			k.ArpOp, k.ArpSHA, k.ArpTHA, k.NwSrc, k.NwDst = op, sha, tha, 0x0a000001, 0x0a000002
		})
	}
	runParseCases(t, []parseCase{
		{name: "request", pkt: eth(ethARP, arp(1, ethIPv4, 1, sha, 0x0a000001, tha, 0x0a000002)), want: arpKey(ethARP, 1), l3: 14, l4: none},
		{name: "reply with padding", pkt: eth(ethARP, arp(1, ethIPv4, 2, sha, 0x0a000001, tha, 0x0a000002), make([]byte, 18)), want: arpKey(ethARP, 2), l3: 14, l4: none},
		{name: "RARP", pkt: eth(ethRARP, arp(1, ethIPv4, 3, sha, 0x0a000001, tha, 0x0a000002)), want: arpKey(ethRARP, 3), l3: 14, l4: none},
		{name: "opcode above 255 kept whole", pkt: eth(ethARP, arp(1, ethIPv4, 0x1234, sha, 0x0a000001, tha, 0x0a000002)), want: arpKey(ethARP, 0x1234), l3: 14, l4: none},
		{name: "not Ethernet hardware", pkt: eth(ethARP, arp(6, ethIPv4, 1, sha, 1, tha, 2)), want: key(ethARP, nil), l3: 14, l4: none},
		{name: "not IPv4 protocol", pkt: eth(ethARP, arp(1, ethIPv6, 1, sha, 1, tha, 2)), want: key(ethARP, nil), l3: 14, l4: none},
		{name: "truncated", pkt: eth(ethARP, arp(1, ethIPv4, 1, sha, 1, tha, 2)[:27]), want: key(ethARP, nil), l3: 14, l4: none},
	})
}

func TestParseIPv4(t *testing.T) {
	v4 := func(proto uint8, set func(k *Key)) Key {
		return key(ethIPv4, func(k *Key) {
			k.NwSrc, k.NwDst, k.NwProto, k.NwTTL, k.NwTOS = 0xc0a80001, 0xc0a80002, proto, 64, 0xb9
			if set != nil {
				set(k)
			}
		})
	}
	o := ipv4Opts{ttl: 64, tos: 0xb9}
	withOpts := o
	withOpts.options = []byte{0x94, 0x04, 0, 0, 1, 0, 0, 0} // router alert, NOP padding
	first, later := o, o
	first.frag = ipv4MF
	later.frag = ipv4MF | 185
	lastFrag := o
	lastFrag.frag = 370
	df := o
	df.frag = 0x4000
	const src, dst = 0xc0a80001, 0xc0a80002
	runParseCases(t, []parseCase{
		{
			name: "TCP with every flag",
			pkt:  eth(ethIPv4, ipv4(protoTCP, src, dst, o, tcp(49152, 443, 0x1ff))),
			want: v4(protoTCP, func(k *Key) { k.TpSrc, k.TpDst, k.TCPFlags = 49152, 443, 0x1ff }),
			l3:   14, l4: 34,
		},
		{
			name: "TCP reserved bits kept",
			pkt:  eth(ethIPv4, ipv4(protoTCP, src, dst, o, tcp(1, 2, 0xe00|TCPAck))),
			want: v4(protoTCP, func(k *Key) { k.TpSrc, k.TpDst, k.TCPFlags = 1, 2, 0xe00|TCPAck }),
			l3:   14, l4: 34,
		},
		{
			name: "options skipped",
			pkt:  eth(ethIPv4, ipv4(protoUDP, src, dst, withOpts, udp(53, 5353))),
			want: v4(protoUDP, func(k *Key) { k.TpSrc, k.TpDst = 53, 5353 }),
			l3:   14, l4: 42,
		},
		{
			name: "SCTP",
			pkt:  eth(ethIPv4, ipv4(protoSCTP, src, dst, o, sctp(2905, 2906))),
			want: v4(protoSCTP, func(k *Key) { k.TpSrc, k.TpDst = 2905, 2906 }),
			l3:   14, l4: 34,
		},
		{
			name: "ICMP echo",
			pkt:  eth(ethIPv4, ipv4(protoICMP, src, dst, o, icmp(8, 0))),
			want: v4(protoICMP, func(k *Key) { k.TpSrc, k.TpDst = 8, 0 }),
			l3:   14, l4: 34,
		},
		{
			name: "ICMP unreachable",
			pkt:  eth(ethIPv4, ipv4(protoICMP, src, dst, o, icmp(3, 13))),
			want: v4(protoICMP, func(k *Key) { k.TpSrc, k.TpDst = 3, 13 }),
			l3:   14, l4: 34,
		},
		{
			name: "ICMP truncated",
			pkt:  eth(ethIPv4, ipv4(protoICMP, src, dst, o, icmp(8, 0)[:7])),
			want: v4(protoICMP, nil), l3: 14, l4: 34,
		},
		{
			name: "ICMPv6 number is not parsed over IPv4",
			pkt:  eth(ethIPv4, ipv4(protoICMPv6, src, dst, o, icmp6(135, 0, nd(testIP6Dst)))),
			want: v4(protoICMPv6, nil), l3: 14, l4: 34,
		},
		{
			name: "unknown protocol",
			pkt:  eth(ethIPv4, ipv4(47, src, dst, o, make([]byte, 8))),
			want: v4(47, nil), l3: 14, l4: 34,
		},
		{
			name: "TCP truncated",
			pkt:  eth(ethIPv4, ipv4(protoTCP, src, dst, o, tcp(1, 2, TCPSyn)[:19])),
			want: v4(protoTCP, nil), l3: 14, l4: 34,
		},
		{
			name: "UDP truncated",
			pkt:  eth(ethIPv4, ipv4(protoUDP, src, dst, o, udp(1, 2)[:7])),
			want: v4(protoUDP, nil), l3: 14, l4: 34,
		},
		{
			name: "SCTP truncated",
			pkt:  eth(ethIPv4, ipv4(protoSCTP, src, dst, o, sctp(1, 2)[:11])),
			want: v4(protoSCTP, nil), l3: 14, l4: 34,
		},
		{
			name: "Ethernet padding ignored",
			pkt:  eth(ethIPv4, ipv4(protoUDP, src, dst, o, udp(7, 9)), make([]byte, 18)),
			want: v4(protoUDP, func(k *Key) { k.TpSrc, k.TpDst = 7, 9 }),
			l3:   14, l4: 34,
		},
		{
			name: "total length cuts the transport header",
			pkt:  eth(ethIPv4, ipv4(protoTCP, src, dst, ipv4Opts{ttl: 64, tos: 0xb9, totLen: 30}, tcp(1, 2, 0))),
			want: v4(protoTCP, nil), l3: 14, l4: 34,
		},
		{
			name: "don't-fragment is not a fragment",
			pkt:  eth(ethIPv4, ipv4(protoUDP, src, dst, df, udp(1, 2))),
			want: v4(protoUDP, func(k *Key) { k.TpSrc, k.TpDst = 1, 2 }),
			l3:   14, l4: 34,
		},
		{
			name: "first fragment",
			pkt:  eth(ethIPv4, ipv4(protoUDP, src, dst, first, udp(1, 2))),
			want: v4(protoUDP, func(k *Key) { k.NwFrag, k.TpSrc, k.TpDst = FragAny, 1, 2 }),
			l3:   14, l4: 34,
		},
		{
			name: "later fragment",
			pkt:  eth(ethIPv4, ipv4(protoUDP, src, dst, later, udp(1, 2))),
			want: v4(protoUDP, func(k *Key) { k.NwFrag = FragAny | FragLater }),
			l3:   14, l4: none,
		},
		{
			name: "last fragment",
			pkt:  eth(ethIPv4, ipv4(protoTCP, src, dst, lastFrag, tcp(1, 2, 0))),
			want: v4(protoTCP, func(k *Key) { k.NwFrag = FragAny | FragLater }),
			l3:   14, l4: none,
		},
		{name: "header truncated", pkt: eth(ethIPv4, ipv4(protoTCP, src, dst, o)[:19]), want: key(ethIPv4, nil), l3: 14, l4: none},
		{name: "IHL below 5", pkt: eth(ethIPv4, ipv4(protoUDP, src, dst, ipv4Opts{ihl: 4}, udp(1, 2))), want: key(ethIPv4, nil), l3: 14, l4: none},
		{name: "IHL beyond total length", pkt: eth(ethIPv4, ipv4(protoUDP, src, dst, ipv4Opts{ihl: 15, totLen: 40}, udp(1, 2), make([]byte, 60))), want: key(ethIPv4, nil), l3: 14, l4: none},
		{name: "total length beyond packet", pkt: eth(ethIPv4, ipv4(protoUDP, src, dst, ipv4Opts{totLen: 29}, udp(1, 2))), want: key(ethIPv4, nil), l3: 14, l4: none},
		{name: "total length below header", pkt: eth(ethIPv4, ipv4(protoUDP, src, dst, ipv4Opts{totLen: 19}, udp(1, 2))), want: key(ethIPv4, nil), l3: 14, l4: none},
	})
}
