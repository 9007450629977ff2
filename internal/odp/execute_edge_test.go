package odp_test

import (
	"bytes"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/govs/govs/internal/odp"
	"github.com/govs/govs/internal/packet"
	"github.com/govs/govs/internal/race"
)

func TestExecuteUDPZeroChecksumStaysZero(t *testing.T) {
	ip := ip4(layers.IPProtocolUDP)
	d := ser(t, eth(layers.EthernetTypeIPv4), ip, udp(ip), data)
	csum := packet.EthernetMinimumSize + packet.IPv4MinimumSize + 6
	d[csum], d[csum+1] = 0, 0
	b := bufferOf(d)
	for _, a := range []odp.Action{odp.Set(odp.FieldIPv4Src, ip4C), odp.Set(odp.FieldTpSrc, u16(99))} {
		if !odp.Execute(b, &a, nil) {
			t.Fatalf("%v dropped", a)
		}
	}
	if got := b.Data()[csum : csum+2]; got[0] != 0 || got[1] != 0 {
		t.Errorf("UDP checksum became %x, want it to stay 0", got)
	}
}

// TestExecuteUDPChecksumNeverZero picks a rewrite whose incremental result
// would be 0, which UDP must send as 0xffff.
func TestExecuteUDPChecksumNeverZero(t *testing.T) {
	ip := ip4(layers.IPProtocolUDP)
	d := ser(t, eth(layers.EthernetTypeIPv4), ip, udp(ip), data)
	off := packet.EthernetMinimumSize + packet.IPv4MinimumSize
	u := packet.UDP(d[off:])
	// Changing the source port by exactly the checksum's complement
	// makes the one's-complement sum all ones, i.e. a checksum of 0.
	c := u.Checksum()
	port := uint16(packet.ChecksumCombine(u.SourcePort(), c))
	b := bufferOf(d)
	a := odp.Set(odp.FieldTpSrc, u16(port))
	if !odp.Execute(b, &a, nil) {
		t.Fatal("dropped")
	}
	if got := packet.UDP(b.Data()[off:]).Checksum(); got != 0xffff {
		t.Fatalf("checksum %#x, want 0xffff", got)
	}
	verifyChecksums(t, b.Data())
}

func newPool(t *testing.T, n int) *packet.Pool {
	t.Helper()
	p, err := packet.NewPool(n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestExecuteReadOnlyIsCopied(t *testing.T) {
	ip := ip4(layers.IPProtocolTCP)
	orig := ser(t, eth(layers.EthernetTypeIPv4), ip, tcp(ip), data)
	b := bufferOf(orig)
	b.Flags |= packet.ReadOnly
	guest := b.Frame()
	a := odp.PushVLAN(0x8100, 5)
	if odp.Execute(b, &a, nil) {
		t.Fatal("a read-only packet was changed without a pool")
	}
	pool := newPool(t, 2)
	if !odp.Execute(b, &a, pool) {
		t.Fatal("dropped with a pool")
	}
	if b.Flags&packet.Copied == 0 || b.Flags&packet.ReadOnly != 0 {
		t.Errorf("flags %#x: want Copied, not ReadOnly", b.Flags)
	}
	if !bytes.Equal(guest[packet.Headroom:packet.Headroom+len(orig)], orig) {
		t.Error("the read-only bytes changed")
	}
	if b.Len != len(orig)+4 {
		t.Errorf("len %d, want %d", b.Len, len(orig)+4)
	}
	checkOffsets(t, b)
}

func TestExecutePushWithoutHeadroom(t *testing.T) {
	ip := ip4(layers.IPProtocolUDP)
	d := ser(t, eth(layers.EthernetTypeIPv4), ip, udp(ip), data)
	mk := func() *packet.Buffer {
		b := bufferOf(d)
		var nb packet.Buffer
		nb.Reset(b.Frame()[b.Off:], 0, b.Len) // no headroom at all
		nb.L3Off, nb.L4Off = b.L3Off, b.L4Off
		return &nb
	}
	a := odp.PushMPLS(0x8847, 1<<12|packet.MPLSBOS|64)
	if b := mk(); odp.Execute(b, &a, nil) {
		t.Error("push with no headroom and no pool succeeded")
	}
	pool := newPool(t, 1)
	b := mk()
	if !odp.Execute(b, &a, pool) {
		t.Fatal("push with a pool frame dropped")
	}
	if b.Flags&packet.Copied == 0 || pool.Available() != 0 {
		t.Errorf("packet not moved to the pool frame (flags %#x)", b.Flags)
	}
	checkOffsets(t, b)
	if b2 := mk(); odp.Execute(b2, &a, pool) {
		t.Error("push succeeded with the pool empty")
	}
}

func TestExecuteDrops(t *testing.T) {
	ip := ip4(layers.IPProtocolTCP)
	good := ser(t, eth(layers.EthernetTypeIPv4), ip, tcp(ip), data)
	cases := []struct {
		name string
		pkt  []byte
		a    odp.Action
	}{
		{"explicit_drop", good, odp.Action{Op: odp.OpDrop}},
		{"invalid_op", good, odp.Action{}},
		{"invalid_field", good, odp.Action{Op: odp.OpSet, Field: odp.NumFields}},
		{"short_frame_eth", good[:10], odp.Set(odp.FieldEthSrc, macC)},
		{"ipv4_cut_short", good[:packet.EthernetMinimumSize+30], odp.Set(odp.FieldIPv4TTL, []byte{1})},
		{"push_vlan_runt", good[:8], odp.PushVLAN(0x8100, 1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := bufferOf(c.pkt)
			if b.L3Off == packet.NoOffset {
				b.L3Off = packet.EthernetMinimumSize
			}
			if odp.Execute(b, &c.a, nil) {
				t.Errorf("%v on %d bytes was not dropped", c.a, len(c.pkt))
			}
		})
	}
}

func TestExecutePassThroughOps(t *testing.T) {
	ip := ip4(layers.IPProtocolTCP)
	d := ser(t, eth(layers.EthernetTypeIPv4), ip, tcp(ip), data)
	for _, a := range []odp.Action{odp.Output(1), odp.Userspace(1, 0xffff), odp.MeterAction(0),
		{Op: odp.OpRecirc}, {Op: odp.OpCT}} {
		b := bufferOf(d)
		if !odp.Execute(b, &a, nil) || !bytes.Equal(b.Data(), d) {
			t.Errorf("%v changed or dropped the packet", a)
		}
	}
}

func TestExecuteTruncAndMark(t *testing.T) {
	ip := ip4(layers.IPProtocolTCP)
	b := bufferOf(ser(t, eth(layers.EthernetTypeIPv4), ip, tcp(ip), data))
	for _, c := range []struct {
		n    uint32
		want int
	}{{100, b.Len}, {40, 40}, {3, packet.EthernetMinimumSize}, {1 << 20, b.Len}} {
		a := odp.Trunc(c.n)
		odp.Execute(b, &a, nil)
		if got := odp.OutputLen(b); got != c.want {
			t.Errorf("trunc(%d): OutputLen %d, want %d", c.n, got, c.want)
		}
	}
	b.Mark = 0xff00
	a := odp.SetMasked(odp.FieldPktMark, u32(0x12345678), u32(0x000000ff))
	odp.Execute(b, &a, nil)
	if b.Mark != 0xff78 {
		t.Errorf("mark %#x, want 0xff78", b.Mark)
	}
}

func TestExecuteAllocations(t *testing.T) {
	race.SkipAllocs(t)
	ip := ip6(layers.IPProtocolTCP)
	d := ser(t, eth(layers.EthernetTypeIPv6), ip, tcp(ip), data)
	acts := []odp.Action{
		odp.PushVLAN(0x8100, 10),
		odp.Set(odp.FieldIPv6Src, ip6C),
		odp.Set(odp.FieldTpDst, u16(443)),
		odp.Set(odp.FieldEthDst, macC),
		odp.PopVLAN(),
		odp.Set(odp.FieldIPv6Src, ip6A),
		odp.Set(odp.FieldTpDst, u16(80)),
	}
	b := bufferOf(d)
	allocs := testing.AllocsPerRun(100, func() {
		for i := range acts {
			if !odp.Execute(b, &acts[i], nil) {
				t.Fatal("dropped")
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per packet, want 0", allocs)
	}
}

func BenchmarkExecuteSetIPv4SrcTCP(b *testing.B) {
	ip := ip4(layers.IPProtocolTCP)
	buf := bufferOf(ser(b, eth(layers.EthernetTypeIPv4), ip, tcp(ip), data))
	acts := [2]odp.Action{odp.Set(odp.FieldIPv4Src, ip4C), odp.Set(odp.FieldIPv4Src, ip4A)}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		odp.Execute(buf, &acts[i&1], nil)
		i++
	}
}

func BenchmarkExecutePushPopVLAN(b *testing.B) {
	ip := ip4(layers.IPProtocolTCP)
	buf := bufferOf(ser(b, eth(layers.EthernetTypeIPv4), ip, tcp(ip), data))
	push, pop := odp.PushVLAN(0x8100, 10), odp.PopVLAN()
	b.ReportAllocs()
	for b.Loop() {
		odp.Execute(buf, &push, nil)
		odp.Execute(buf, &pop, nil)
	}
}
