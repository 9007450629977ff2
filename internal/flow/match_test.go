package flow

import (
	"strings"
	"testing"
)

func TestParseMatch(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		k    Key
		m    Mask
	}{
		{"empty", "", Key{}, Mask{}},
		{"in_port", "in_port=3", Key{InPort: 3}, Mask{InPort: 0xffffffff}},
		{"in_port LOCAL", "in_port=LOCAL", Key{InPort: 0xfffffffe}, Mask{InPort: 0xffffffff}},
		{"tcp shorthand", "tcp,tp_dst=80", Key{EthType: 0x0800, NwProto: 6, TpDst: 80},
			Mask{EthType: 0xffff, NwProto: 0xff, TpDst: 0xffff}},
		{"cidr", "ip,nw_src=10.1.2.3/8", Key{EthType: 0x0800, NwSrc: 0x0a000000},
			Mask{EthType: 0xffff, NwSrc: 0xff000000}},
		{"dotted mask", "ip,nw_dst=10.1.2.3/255.0.255.0", Key{EthType: 0x0800, NwDst: 0x0a000200},
			Mask{EthType: 0xffff, NwDst: 0xff00ff00}},
		{"mac", "dl_src=00:11:22:33:44:55", Key{EthSrc: [6]byte{0, 0x11, 0x22, 0x33, 0x44, 0x55}},
			Mask{EthSrc: [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}},
		{"mac mask", "eth_dst=01:00:00:00:00:00/01:00:00:00:00:00", Key{EthDst: [6]byte{1}}, Mask{EthDst: [6]byte{1}}},
		{"dl_vlan", "dl_vlan=5", Key{VLANs: [2]VLAN{{TCI: 0x1005}}}, Mask{VLANs: [2]VLAN{{TCI: 0x1fff}}}},
		{"no vlan", "dl_vlan=0xffff", Key{}, Mask{VLANs: [2]VLAN{{TCI: 0xffff}}}},
		{"vlan_pcp implies tag", "dl_vlan_pcp=3", Key{VLANs: [2]VLAN{{TCI: 0x7000}}}, Mask{VLANs: [2]VLAN{{TCI: 0xf000}}}},
		{"reg hex mask", "reg3=0x10/0xf0", Key{Regs: [16]uint32{3: 0x10}}, Mask{Regs: [16]uint32{3: 0xf0}}},
		{"ipv6 prefix", "ipv6,ipv6_src=2001:db8::1/32",
			Key{EthType: 0x86dd, IPv6Src: [16]byte{0x20, 0x01, 0x0d, 0xb8}},
			Mask{EthType: 0xffff, IPv6Src: [16]byte{0xff, 0xff, 0xff, 0xff}}},
		{"icmp6 nd", "icmp6,icmpv6_type=135,nd_sll=00:00:00:00:00:01",
			Key{EthType: 0x86dd, NwProto: 58, TpSrc: 135, ArpSHA: [6]byte{5: 1}},
			Mask{EthType: 0xffff, NwProto: 0xff, TpSrc: 0xff, ArpSHA: [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}},
		{"frag later", "ip,ip_frag=later", Key{EthType: 0x0800, NwFrag: 3}, Mask{EthType: 0xffff, NwFrag: 3}},
		{"tcp flags", "tcp,tcp_flags=+syn-ack", Key{EthType: 0x0800, NwProto: 6, TCPFlags: TCPSyn},
			Mask{EthType: 0xffff, NwProto: 0xff, TCPFlags: TCPSyn | TCPAck}},
		{"ct_state", "ct_state=+trk+new", Key{CtState: 0x21}, Mask{CtState: 0x21}},
		{"arp fields", "arp,arp_spa=10.0.0.1,arp_op=1", Key{EthType: 0x0806, NwSrc: 0x0a000001, ArpOp: 1},
			Mask{EthType: 0xffff, NwSrc: 0xffffffff, ArpOp: 0xffff}},
		{"dscp", "ip,ip_dscp=46", Key{EthType: 0x0800, NwTOS: 46 << 2}, Mask{EthType: 0xffff, NwTOS: 0xfc}},
		{"nw_tos", "ip,nw_tos=184", Key{EthType: 0x0800, NwTOS: 184}, Mask{EthType: 0xffff, NwTOS: 0xfc}},
		{"mpls label", "mpls,mpls_label=17", Key{EthType: 0x8847, MPLS: [3]uint32{17 << 12}},
			Mask{EthType: 0xffff, MPLS: [3]uint32{0xfffff000}}},
		{"ct_label hex", "ct_label=0x1/0xff", Key{CtLabel: [16]byte{15: 1}}, Mask{CtLabel: [16]byte{15: 0xff}}},
		{"spaces", "udp, tp_src=53", Key{EthType: 0x0800, NwProto: 17, TpSrc: 53},
			Mask{EthType: 0xffff, NwProto: 0xff, TpSrc: 0xffff}},
	} {
		t.Run(c.name, func(t *testing.T) {
			k, m, err := ParseMatch(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if !k.Equal(&c.k) || !m.Equal(&c.m) {
				t.Fatalf("ParseMatch(%q):\n key %+v\nwant %+v\nmask %+v\nwant %+v", c.in, k, c.k, m, c.m)
			}
			s := FormatMatch(&k, &m)
			k2, m2, err := ParseMatch(s)
			if err != nil || !k2.Equal(&k) || !m2.Equal(&m) {
				t.Fatalf("round trip through %q failed: %v", s, err)
			}
		})
	}
}

func TestFormatMatch(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"tcp,in_port=1,nw_src=10.0.0.0/8,tp_dst=80", "tcp,in_port=1,nw_src=10.0.0.0/8,tp_dst=80"},
		{"nw_proto=17,dl_type=0x0800", "udp"},
		{"dl_type=0x0800", "ip"},
		{"dl_type=0x1234", "dl_type=0x1234"},
		{"dl_vlan=10,dl_vlan_pcp=2", "dl_vlan=10,dl_vlan_pcp=2"},
		{"vlan_tci=0x1000/0x1000", "vlan_tci=0x1000/0x1000"},
		{"icmp,icmp_type=8,icmp_code=0", "icmp,icmp_type=8,icmp_code=0"},
		{"ipv6,ipv6_dst=fe80::/10", "ipv6,ipv6_dst=fe80::/10"},
		{"tp_dst=0x50/0xfff0,tcp", "tcp,tp_dst=0x50/0xfff0"},
		{"ip,ip_frag=no", "ip,ip_frag=no"},
	} {
		t.Run(c.in, func(t *testing.T) {
			k, m, err := ParseMatch(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := FormatMatch(&k, &m); got != c.want {
				t.Fatalf("FormatMatch = %q, want %q", got, c.want)
			}
		})
	}
}

func TestParseMatchErrors(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"unknown field", "foo=1", "unknown field"},
		{"unknown keyword", "tcpx", "unknown keyword"},
		{"missing prereq", "nw_src=1.2.3.4", "prerequisites"},
		{"wrong proto", "udp,tcp_flags=+syn", "prerequisites"},
		{"mask on unmaskable", "ip,nw_proto=6/0xf", "not maskable"},
		{"too wide", "ip,ip_dscp=64", "bits"},
		{"bad mac", "dl_src=00:11:22", "MAC"},
		{"v6 in v4 field", "ip,nw_src=::1", "IPv4"},
		{"bad prefix", "ip,nw_src=1.2.3.4/33", "prefix"},
		{"vid too big", "dl_vlan=4096", "range"},
		{"ecn in nw_tos", "ip,nw_tos=1", "ECN"},
		{"bad flag", "tcp,tcp_flags=+foo", "unknown flag"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := ParseMatch(c.in)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("ParseMatch(%q) error = %v, want one mentioning %q", c.in, err, c.want)
			}
		})
	}
}

// FuzzParseMatch checks that whatever ParseMatch accepts is pre-masked,
// formats, and parses back to the same match.
func FuzzParseMatch(f *testing.F) {
	for _, s := range []string{
		"tcp,in_port=1,nw_src=10.0.0.0/8,tp_dst=80",
		"dl_vlan=5,dl_vlan_pcp=3,dl_src=00:11:22:33:44:55/ff:ff:ff:00:00:00",
		"ipv6,ipv6_src=2001:db8::/32,ipv6_label=0x12345",
		"icmp6,icmpv6_type=136,nd_target=fe80::1,nd_tll=00:00:00:00:00:02",
		"arp,arp_op=2,arp_sha=00:00:00:00:00:01",
		"ct_state=+trk-new,ct_mark=0x1/0x1,reg0=5,metadata=0x10/0xff",
		"mpls,mpls_label=100,mpls_bos=1",
		"ip,ip_frag=first,nw_ttl=64",
		"tcp,tcp_flags=0x2/0xfff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, m, err := ParseMatch(s)
		if err != nil {
			return
		}
		var km Key
		km.MaskFrom(&k, &m)
		if !km.Equal(&k) {
			t.Fatalf("%q: key not masked", s)
		}
		out := FormatMatch(&k, &m)
		k2, m2, err := ParseMatch(out)
		if err != nil {
			t.Fatalf("%q formatted as %q which does not parse: %v", s, out, err)
		}
		if !k2.Equal(&k) || !m2.Equal(&m) {
			t.Fatalf("%q formatted as %q parses differently", s, out)
		}
	})
}
