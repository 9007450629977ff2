package flow

import (
	"testing"

	"github.com/govs/govs/internal/packet"
)

// seedPackets are packets of every kind the table tests build, used as the
// base of the truncation test, the fuzz corpus and the benchmarks.
func seedPackets() map[string][]byte {
	target := [16]byte{0xfe, 0x80, 15: 1}
	mac := [6]byte{2, 0, 0, 0, 0, 9}
	return map[string][]byte{
		"tcp4":     eth(ethIPv4, ipv4(protoTCP, 0x0a000001, 0x0a000002, ipv4Opts{ttl: 64}, tcp(1234, 80, TCPSyn))),
		"udp4opts": eth(ethIPv4, ipv4(protoUDP, 1, 2, ipv4Opts{ttl: 1, options: []byte{1, 1, 1, 0}}, udp(1, 2))),
		"frag4":    eth(ethIPv4, ipv4(protoUDP, 1, 2, ipv4Opts{frag: ipv4MF}, udp(1, 2))),
		"icmp4":    eth(ethIPv4, ipv4(protoICMP, 1, 2, ipv4Opts{}, icmp(8, 0))),
		"sctp4":    eth(ethIPv4, ipv4(protoSCTP, 1, 2, ipv4Opts{}, sctp(1, 2))),
		"qinq":     eth(ethQinQ, tag(1, ethVLAN), tag(2, ethIPv4), ipv4(protoTCP, 1, 2, ipv4Opts{}, tcp(1, 2, TCPAck))),
		"mpls":     eth(ethMPLS, lse(1, 0, false, 1), lse(2, 0, true, 2), ipv4(protoTCP, 1, 2, ipv4Opts{}, tcp(1, 2, 0))),
		"arp":      eth(ethARP, arp(1, ethIPv4, 1, mac, 1, mac, 2)),
		"snap":     eth(0x0030, []byte{0xaa, 0xaa, 0x03, 0, 0, 0}, be16(ethIPv4), ipv4(protoUDP, 1, 2, ipv4Opts{}, udp(1, 2))),
		"tcp6":     eth(ethIPv6, ipv6(protoTCP, tcp(1, 2, TCPSyn))),
		"exthdr6": eth(ethIPv6, ipv6(protoHopOpts, opts6(protoDstOpts, 1, opts6(protoRouting, 1, opts6(protoFragment, 1,
			frag6(protoAH, 0, true, ah6(protoUDP, udp(1, 2)))))))),
		"frag6": eth(ethIPv6, ipv6(protoFragment, frag6(protoUDP, 9, false, udp(1, 2)))),
		"esp6":  eth(ethIPv6, ipv6(protoESP, be32(1), be32(2))),
		"ns6":   eth(ethIPv6, ipv6(protoICMPv6, icmp6(135, 0, nd(target, ndOpt(ndOptSLL, 1, mac))))),
		"na6":   eth(ethVLAN, tag(5, ethIPv6), ipv6(protoICMPv6, icmp6(136, 0, nd(target, ndOpt(ndOptTLL, 1, mac), ndOpt(ndOptSLL, 1, mac))))),
	}
}

// checkOffsets checks what ParseBytes promises about its offsets.
func checkOffsets(t *testing.T, data []byte, k *Key, l3, l4 int) {
	t.Helper()
	if l3 != none && (l3 < ethHeaderLen || l3 > len(data)) {
		t.Errorf("l3Off %d outside the %d-byte packet", l3, len(data))
	}
	if l4 != none && (l3 == none || l4 <= l3 || l4 > len(data)) {
		t.Errorf("l4Off %d with l3Off %d in a %d-byte packet", l4, l3, len(data))
	}
	if len(data) < ethHeaderLen && !k.IsZero() {
		t.Errorf("%d-byte packet gave a non-zero key", len(data))
	}
}

// TestParseTruncatedAtEveryLength parses every prefix of every seed packet:
// none may panic, offsets stay inside the prefix, and a prefix never yields
// a field the whole packet does not have (it can only lose fields).
func TestParseTruncatedAtEveryLength(t *testing.T) {
	for name, pkt := range seedPackets() {
		t.Run(name, func(t *testing.T) {
			var full Key
			ParseBytes(pkt, &full)
			for n := range len(pkt) + 1 {
				// A copy of exactly n bytes, so reading past it faults
				// in the race detector's and the bounds checker's eyes.
				data := append([]byte(nil), pkt[:n]...)
				var k Key
				l3, l4 := ParseBytes(data, &k)
				checkOffsets(t, data, &k, l3, l4)
				// A cut header can change what the key says the packet
				// is (a cut VLAN tag leaves EthType 0x8100, a cut IPv6
				// extension header leaves its own NwProto); otherwise a
				// prefix only loses fields.
				if k.EthType != full.EthType || k.NwProto != full.NwProto {
					continue
				}
				fw, kw := full.Words(), k.Words()
				for i := range kw {
					if extra := kw[i] &^ fw[i]; extra != 0 {
						t.Errorf("%d bytes: word %d has bits %#x the whole packet lacks", n, i, extra)
					}
				}
			}
		})
	}
}

func TestParseSetsBufferOffsetsAndInPort(t *testing.T) {
	pkt := seedPackets()["qinq"]
	frame := make([]byte, 256)
	copy(frame[packet.Headroom:], pkt)
	var b packet.Buffer
	b.Reset(frame, packet.Headroom, len(pkt))
	b.InPort = 7
	var k Key
	k.RecircID = 3
	Parse(&b, &k)
	if k.InPort != 7 || k.RecircID != 0 {
		t.Errorf("InPort = %d, RecircID = %d; want 7 and 0", k.InPort, k.RecircID)
	}
	if b.L3Off != 22 || b.L4Off != 42 {
		t.Errorf("L3Off, L4Off = %d, %d; want 22, 42", b.L3Off, b.L4Off)
	}
	if k.TpSrc != 1 || k.TpDst != 2 || k.VLANs[1].TCI != 2|VLANCFI {
		t.Errorf("key fields wrong: %+v", k)
	}

	b.Reset(frame, packet.Headroom, 10)
	Parse(&b, &k)
	if b.L3Off != packet.NoOffset || b.L4Off != packet.NoOffset {
		t.Errorf("runt: L3Off, L4Off = %d, %d; want NoOffset", b.L3Off, b.L4Off)
	}
}

func TestParseAllocs(t *testing.T) {
	pkts := seedPackets()
	var b packet.Buffer
	var k Key
	for name, pkt := range pkts {
		b.Reset(pkt, 0, len(pkt))
		if n := testing.AllocsPerRun(100, func() { Parse(&b, &k) }); n != 0 {
			t.Errorf("%s: %v allocations per Parse, want 0", name, n)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, pkt := range seedPackets() {
		f.Add(pkt)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var k Key
		l3, l4 := ParseBytes(data, &k)
		checkOffsets(t, data, &k, l3, l4)
		// Parsing is a function of the bytes alone.
		var again Key
		again.Metadata = 1
		if l3b, l4b := ParseBytes(data, &again); l3b != l3 || l4b != l4 || !again.Equal(&k) {
			t.Errorf("second parse differs:%s", keyDiff(&again, &k))
		}
	})
}

func BenchmarkParse(b *testing.B) {
	for _, name := range []string{"tcp4", "qinq", "tcp6", "exthdr6", "ns6", "arp"} {
		pkt := seedPackets()[name]
		b.Run(name, func(b *testing.B) {
			var buf packet.Buffer
			var k Key
			buf.Reset(pkt, 0, len(pkt))
			b.ReportAllocs()
			for b.Loop() {
				Parse(&buf, &k)
			}
		})
	}
}
