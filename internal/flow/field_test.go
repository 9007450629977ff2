package flow

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestFieldRegistryComplete(t *testing.T) {
	for id := FieldID(1); id < NumFieldIDs; id++ {
		f := FieldByID(id)
		if f == nil || f.ID != id || f.Name == "" || f.Bytes == 0 || f.Bits == 0 || f.Bits > 8*f.Bytes {
			t.Fatalf("field %d: bad entry %+v", id, f)
		}
		if FieldByName(f.Name) != f {
			t.Errorf("%s: FieldByName", f.Name)
		}
		for _, a := range f.Aliases {
			if FieldByName(a) != f {
				t.Errorf("%s: alias %s resolves to %v", f.Name, a, FieldByName(a))
			}
		}
		if f.OXMClass != 0 && FieldByOXM(f.OXMClass, f.OXMField) != f {
			t.Errorf("%s: FieldByOXM", f.Name)
		}
		if (f.NXMHeader != 0 || id == FieldInPort) && FieldByNXM(f.NXMHeader|0x100|uint32(f.Bytes)) != f {
			t.Errorf("%s: FieldByNXM", f.Name)
		}
	}
	if FieldByID(FieldNone) != nil || FieldByID(NumFieldIDs) != nil || FieldByName("nope") != nil {
		t.Error("lookups of nothing returned something")
	}
}

func TestFieldOXMCodes(t *testing.T) {
	for _, c := range []struct {
		name string
		code uint8
	}{
		{"in_port", 0}, {"metadata", 2}, {"eth_dst", 3}, {"vlan_vid", 6}, {"ip_dscp", 8},
		{"ipv4_src", 11}, {"tcp_dst", 14}, {"icmpv4_type", 19}, {"arp_tha", 25},
		{"ipv6_flabel", 28}, {"ipv6_nd_tll", 33}, {"mpls_bos", 36}, {"tunnel_id", 38}, {"ipv6_exthdr", 39},
	} {
		if f := FieldByOXM(OXMClassBasic, c.code); f == nil || f != FieldByName(c.name) {
			t.Errorf("OXM %d: got %v, want %s", c.code, f, c.name)
		}
	}
}

func val(b ...byte) [16]byte {
	var v [16]byte
	copy(v[:], b)
	return v
}

func TestFieldEncodings(t *testing.T) {
	for _, c := range []struct {
		name  string
		field string
		value [16]byte
		check func(k *Key) bool
	}{
		{"vlan_vid present", "vlan_vid", val(0x10, 0x05), func(k *Key) bool { return k.VLANs[0].TCI == 0x1005 }},
		{"vlan_pcp high bits", "vlan_pcp", val(5), func(k *Key) bool { return k.VLANs[0].TCI == 5<<13 }},
		{"ip_dscp shifted", "ip_dscp", val(46), func(k *Key) bool { return k.NwTOS == 46<<2 }},
		{"nw_ecn low bits", "nw_ecn", val(3), func(k *Key) bool { return k.NwTOS == 3 }},
		{"nw_tos keeps ecn clear", "nw_tos", val(0xff), func(k *Key) bool { return k.NwTOS == 0xfc }},
		{"mpls_label", "mpls_label", val(0, 0x01, 0x23, 0x45), func(k *Key) bool { return k.MPLS[0] == 0x12345<<12 }},
		{"mpls_tc", "mpls_tc", val(7), func(k *Key) bool { return k.MPLS[0] == 7<<9 }},
		{"mpls_bos", "mpls_bos", val(1), func(k *Key) bool { return k.MPLS[0] == 1<<8 }},
		{"mpls_ttl", "mpls_ttl", val(64), func(k *Key) bool { return k.MPLS[0] == 64 }},
		{"ipv4 host order", "nw_src", val(10, 0, 0, 1), func(k *Key) bool { return k.NwSrc == 0x0a000001 }},
		{"arp_tpa shares nw_dst", "arp_tpa", val(10, 0, 0, 2), func(k *Key) bool { return k.NwDst == 0x0a000002 }},
		{"icmp_type low byte", "icmp_type", val(8), func(k *Key) bool { return k.TpSrc == 8 }},
		{"icmpv6_code low byte", "icmpv6_code", val(1), func(k *Key) bool { return k.TpDst == 1 }},
		{"udp_dst", "udp_dst", val(0x12, 0x34), func(k *Key) bool { return k.TpDst == 0x1234 }},
		{"nd_sll in arp_sha", "nd_sll", val(1, 2, 3, 4, 5, 6), func(k *Key) bool { return k.ArpSHA == [6]byte{1, 2, 3, 4, 5, 6} }},
		{"ipv6_label 20 bits", "ipv6_label", val(0, 0x0f, 0xff, 0xff), func(k *Key) bool { return k.IPv6Label == 0xfffff }},
		{"ipv6_label drops high bits", "ipv6_label", val(0xff, 0xff, 0xff, 0xff), func(k *Key) bool { return k.IPv6Label == 0xfffff }},
		{"reg7", "reg7", val(0xde, 0xad, 0xbe, 0xef), func(k *Key) bool { return k.Regs[7] == 0xdeadbeef }},
		{"metadata", "metadata", val(1, 2, 3, 4, 5, 6, 7, 8), func(k *Key) bool { return k.Metadata == 0x0102030405060708 }},
		{"pbb_isid 24 bits", "pbb_isid", val(0xab, 0xcd, 0xef), func(k *Key) bool { return k.PbbISID == 0xabcdef }},
		{"ip_frag", "ip_frag", val(3), func(k *Key) bool { return k.NwFrag == 3 }},
		{"tun_id", "tunnel_id", val(0, 0, 0, 0, 0, 0, 0x10, 0x01), func(k *Key) bool { return k.TunID == 0x1001 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := FieldByName(c.field)
			var k Key
			f.Set(&k, c.value)
			if !c.check(&k) {
				t.Fatalf("Set(%x) gave key %+v", c.value[:f.Bytes], k)
			}
			got := f.Get(&k)
			want := c.value
			for i := range want {
				want[i] &= f.AllOnes()[i]
			}
			if got != want {
				t.Fatalf("Get = %x, want %x", got[:f.Bytes], want[:f.Bytes])
			}
		})
	}
}

// TestFieldSetTouchesOnlyItsBits checks every field against a random key:
// Set changes exactly the bits Unwildcard marks.
func TestFieldSetTouchesOnlyItsBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for id := FieldID(1); id < NumFieldIDs; id++ {
		f := FieldByID(id)
		var own Mask
		f.Unwildcard(&own)
		if own.IsZero() {
			t.Fatalf("%s: Unwildcard set nothing", f.Name)
		}
		if f.MaskValue(&own) != f.AllOnes() || !f.IsExact(&own) {
			t.Fatalf("%s: MaskValue of own mask is not all-ones", f.Name)
		}
		var k Key
		for i, w := range k.Words() {
			_ = w
			k.Words()[i] = rng.Uint64()
		}
		before := k
		var v [16]byte
		for i := range v {
			v[i] = byte(rng.Uint32())
		}
		f.Set(&k, v)
		kw, bw, ow := k.Words(), before.Words(), own.Words()
		for i := range kw {
			if (kw[i]^bw[i])&^ow[i] != 0 {
				t.Fatalf("%s: Set changed bits outside the field in word %d", f.Name, i)
			}
		}
		got, want := f.Get(&k), v
		for i := range want {
			want[i] &= f.AllOnes()[i]
		}
		if got != want {
			t.Fatalf("%s: Get after Set = %x, want %x", f.Name, got, want)
		}
		if a := f.AppendValue([]byte{0xee}, &k); !bytes.Equal(a, append([]byte{0xee}, got[:f.Bytes]...)) {
			t.Fatalf("%s: AppendValue = %x, want ee then %x", f.Name, a, got[:f.Bytes])
		}
	}
}

func TestFieldSetMasked(t *testing.T) {
	f := FieldByName("nw_dst")
	k := Key{NwDst: 0x0a0b0c0d}
	f.SetMasked(&k, val(192, 168, 0, 0), val(255, 255, 0, 0))
	if k.NwDst != 0xc0a80c0d {
		t.Fatalf("NwDst = %#x", k.NwDst)
	}
}

func TestPrereqs(t *testing.T) {
	ip := func(proto uint8) (Key, Mask) {
		return Key{EthType: EthTypeIPv4, NwProto: proto}, Mask{EthType: 0xffff, NwProto: 0xff}
	}
	for _, c := range []struct {
		name  string
		field string
		k     Key
		m     Mask
		ok    bool
	}{
		{"in_port needs nothing", "in_port", Key{}, Mask{}, true},
		{"nw_src without dl_type", "nw_src", Key{}, Mask{}, false},
		{"nw_src with ipv4", "nw_src", Key{EthType: EthTypeIPv4}, Mask{EthType: 0xffff}, true},
		{"nw_src with ipv6", "nw_src", Key{EthType: EthTypeIPv6}, Mask{EthType: 0xffff}, false},
		{"nw_src with partly masked dl_type", "nw_src", Key{EthType: EthTypeIPv4}, Mask{EthType: 0xff00}, false},
		{"nw_proto with ipv6", "nw_proto", Key{EthType: EthTypeIPv6}, Mask{EthType: 0xffff}, true},
		{"arp_spa with rarp", "arp_spa", Key{EthType: EthTypeRARP}, Mask{EthType: 0xffff}, true},
		{"tcp_dst with tcp", "tcp_dst", func() Key { k, _ := ip(6); return k }(), func() Mask { _, m := ip(6); return m }(), true},
		{"tcp_dst with udp", "tcp_dst", func() Key { k, _ := ip(17); return k }(), func() Mask { _, m := ip(17); return m }(), false},
		{"udp_src with udp", "udp_src", func() Key { k, _ := ip(17); return k }(), func() Mask { _, m := ip(17); return m }(), true},
		{"icmp_type with ipv6 icmp", "icmp_type", Key{EthType: EthTypeIPv6, NwProto: 1}, Mask{EthType: 0xffff, NwProto: 0xff}, false},
		{"vlan_pcp without tag", "vlan_pcp", Key{}, Mask{}, false},
		{"vlan_pcp with tag", "vlan_pcp", Key{VLANs: [2]VLAN{{TCI: VLANCFI}}}, Mask{VLANs: [2]VLAN{{TCI: VLANCFI}}}, true},
		{"nd_target with NS", "nd_target", Key{EthType: EthTypeIPv6, NwProto: 58, TpSrc: 135},
			Mask{EthType: 0xffff, NwProto: 0xff, TpSrc: 0xff}, true},
		{"nd_tll with NS", "nd_tll", Key{EthType: EthTypeIPv6, NwProto: 58, TpSrc: 135},
			Mask{EthType: 0xffff, NwProto: 0xff, TpSrc: 0xff}, false},
		{"mpls_label with mpls", "mpls_label", Key{EthType: EthTypeMPLS}, Mask{EthType: 0xffff}, true},
		{"in_phy_port without in_port", "in_phy_port", Key{}, Mask{}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := FieldByName(c.field)
			if got := f.PrereqsOK(&c.k, &c.m); got != c.ok {
				t.Fatalf("PrereqsOK = %v, want %v", got, c.ok)
			}
			var m Mask
			f.UnwildcardPrereqs(&m)
			if c.ok {
				// the bits that made it OK must be among those unwildcarded
				mm := c.m
				mw, w := mm.Words(), m.Words()
				for i := range mw {
					if mw[i]&^w[i] != 0 && c.field != "in_port" {
						t.Fatalf("UnwildcardPrereqs misses bits of word %d", i)
					}
				}
			}
		})
	}
}

func TestMatchPrereqsOKReportsField(t *testing.T) {
	k := Key{EthType: EthTypeIPv4, NwProto: 17, TpDst: 80}
	m := Mask{EthType: 0xffff, NwProto: 0xff, TpDst: 0xffff}
	if _, ok := MatchPrereqsOK(&k, &m); !ok {
		t.Fatal("udp tp_dst rejected")
	}
	k.NwProto, m.NwProto = 0, 0
	if bad, ok := MatchPrereqsOK(&k, &m); ok || bad == nil {
		t.Fatalf("tp_dst without nw_proto accepted (bad=%v)", bad)
	}
	m2 := Mask{}
	m2.VLANs[1].TCI = 0xffff
	if bad, ok := MatchPrereqsOK(&Key{}, &m2); ok || bad != nil {
		t.Fatalf("inner VLAN bits: ok=%v bad=%v, want no owning field", ok, bad)
	}
}
