package flow

import (
	"math/rand/v2"
	"testing"

	"github.com/govs/govs/internal/packet"
	"github.com/govs/govs/internal/race"
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

// TestParseWritesOnlyParsedWords checks the promise of ParsedWordsStart:
// Parse writes InPort and words from ParsedWordsStart on, nothing else.
func TestParseWritesOnlyParsedWords(t *testing.T) {
	for name, pkt := range seedPackets() {
		var b packet.Buffer
		b.Reset(pkt, 0, len(pkt))
		b.InPort = 5
		var k Key
		for i := range k.Words() {
			k.Words()[i] = ^uint64(0)
		}
		Parse(&b, &k)
		if !k.OnlyParsed() || k.InPort != 5 {
			t.Errorf("%s: Parse left metadata outside the parsed words: %+v", name, k)
		}
		var p Key
		*p.Parsed() = *k.Parsed()
		p.InPort = k.InPort
		if !p.Equal(&k) {
			t.Errorf("%s: the parsed words and InPort do not make up the key", name)
		}
	}
}

func TestParseBatchMatchesParse(t *testing.T) {
	var pkts []*packet.Buffer
	for _, pkt := range seedPackets() {
		b := &packet.Buffer{}
		b.Reset(pkt, 0, len(pkt))
		b.InPort = uint32(len(pkts))
		pkts = append(pkts, b)
	}
	keys := make([]Key, len(pkts)+1)
	keys[len(pkts)].Metadata = 9 // beyond the batch: untouched
	simple := ParseBatch(pkts, keys)
	for i, b := range pkts {
		var want Key
		c := *b
		Parse(&c, &want)
		if !keys[i].Equal(&want) || b.L3Off != c.L3Off || b.L4Off != c.L4Off {
			t.Errorf("packet %d: ParseBatch differs from Parse:%s", i, keyDiff(&keys[i], &want))
		}
		isTCPUDP4 := want.EthType == ethIPv4 && want.VLANs[0].TCI == 0 && (want.NwProto == protoTCP || want.NwProto == protoUDP) &&
			want.NwFrag == 0 && b.L4Off == ethHeaderLen+ipv4MinLen
		if got := simple&(1<<i) != 0; got != isTCPUDP4 {
			t.Errorf("packet %d (%+v): simple %v, want %v", i, want, got, isTCPUDP4)
		}
	}
	if keys[len(pkts)].Metadata != 9 {
		t.Error("ParseBatch wrote past the batch")
	}
}

func TestParseAllocs(t *testing.T) {
	race.SkipAllocs(t)
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
		checkFastPath(t, data)
		checkSimple(t, data)
	})
}

// BenchmarkParseBatch parses batches of 32 packets of one kind, as the
// datapath does (ParseBatch); ns/op is per packet.
func BenchmarkParseBatch(b *testing.B) {
	for _, name := range []string{"tcp4", "qinq", "tcp6", "exthdr6", "ns6", "arp"} {
		pkt := seedPackets()[name]
		b.Run(name, func(b *testing.B) {
			const n = packet.BatchSize
			bufs := make([]packet.Buffer, n)
			pkts := make([]*packet.Buffer, n)
			for i := range bufs {
				bufs[i].Reset(pkt, 0, len(pkt))
				pkts[i] = &bufs[i]
			}
			keys := make([]Key, n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += n {
				ParseBatch(pkts, keys)
			}
		})
	}
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

// checkFastPath checks that ParseBytes (which tries the fast path first)
// and parseGeneral alone agree on data.
func checkFastPath(t *testing.T, data []byte) {
	t.Helper()
	var fast, gen Key
	l3, l4 := ParseBytes(data, &fast)
	l3g, l4g := parseGeneral(data, &gen)
	if l3 != l3g || l4 != l4g || !fast.Equal(&gen) {
		t.Errorf("% x: offsets %d,%d, general path %d,%d:%s", data, l3, l4, l3g, l4g, keyDiff(&fast, &gen))
	}
}

// checkSimple checks that a key ParseBatch calls simple has nothing
// outside InPort and the SimpleWords.
func checkSimple(t *testing.T, data []byte) {
	t.Helper()
	var b packet.Buffer
	b.Reset(data, 0, len(data))
	b.InPort = 3
	keys := make([]Key, 1)
	if ParseBatch([]*packet.Buffer{&b}, keys) == 0 {
		return
	}
	for i, w := range keys[0].Words() {
		switch i {
		case InPortWord, SimpleWordEth0, SimpleWordEth1, SimpleWordNw, SimpleWordProto, SimpleWordFlags, SimpleWordTp:
		default:
			if w != 0 {
				t.Errorf("% x: simple key has word %d = %#x", data, i, w)
			}
		}
	}
}

// TestParseFastPathMatchesGeneral mutates the header bytes the fast path
// tests (ethertype, IHL, total length, fragment word, protocol) and the
// frame length of TCP and UDP frames: the fast path must give exactly what
// the general path gives, whether it takes the frame or not.
func TestParseFastPathMatchesGeneral(t *testing.T) {
	bases := [][]byte{
		seedPackets()["tcp4"],
		eth(ethIPv4, ipv4(protoUDP, 0x0a000001, 0xc0a80102, ipv4Opts{tos: 0xb8, ttl: 9}, udp(53, 4444))),
		eth(ethIPv4, ipv4(protoTCP, 1, 2, ipv4Opts{ttl: 1}, tcp(1, 2, 0x0fff))),
		append(eth(ethIPv4, ipv4(protoUDP, 1, 2, ipv4Opts{}, udp(1, 2))), make([]byte, 18)...), // padded
	}
	interesting := []int{12, 13, 14, 16, 17, 20, 21, 23, 46, 47}
	values := []byte{0, 1, 2, 4, 5, 6, 8, 0x11, 0x14, 0x1c, 0x20, 0x28, 0x3f, 0x40, 0x45, 0x46, 0x80, 0x84, 0x86, 0xdd, 0xff}
	r := rand.New(rand.NewPCG(7, 9))
	n := 0
	for _, base := range bases {
		for range 4000 {
			d := append([]byte(nil), base...)
			for range 1 + r.IntN(3) {
				if i := interesting[r.IntN(len(interesting))]; i < len(d) {
					d[i] = values[r.IntN(len(values))]
				}
			}
			if r.IntN(2) == 0 {
				d = d[:len(d)-r.IntN(min(len(d), 30))]
			}
			var k Key
			if l3, l4 := ParseBytes(d, &k); l3 == ethHeaderLen && l4 == ethHeaderLen+ipv4MinLen &&
				(k.NwProto == protoTCP || k.NwProto == protoUDP) {
				n++ // the fast path's kind of frame
			}
			checkFastPath(t, d)
			checkSimple(t, d)
		}
	}
	if n < 1000 {
		t.Fatalf("fast path taken only %d times: the test does not exercise it", n)
	}
}
