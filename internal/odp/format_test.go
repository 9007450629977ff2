package odp

import (
	"net"
	"testing"
)

func TestActionsString(t *testing.T) {
	ip := func(s string) []byte {
		a := net.ParseIP(s)
		if v4 := a.To4(); v4 != nil {
			return v4
		}
		return a
	}
	mac, _ := net.ParseMAC("00:11:22:33:44:55")
	cases := []struct {
		name string
		acts Actions
		want string
	}{
		{"empty_is_drop", nil, "drop"},
		{"output", Actions{Output(2)}, "2"},
		{"explicit_drop", Actions{{Op: OpDrop}}, "drop"},
		{"push_pop_vlan", Actions{PushVLAN(0x8100, 10), PopVLAN()}, "push_vlan(vid=10,pcp=0),pop_vlan"},
		{"push_vlan_qinq_pcp", Actions{PushVLAN(0x88a8, 5<<13|100)}, "push_vlan(tpid=0x88a8,vid=100,pcp=5)"},
		{"set_eth_merged", Actions{Set(FieldEthSrc, mac), Set(FieldEthDst, mac), Output(1)},
			"set(eth(src=00:11:22:33:44:55,dst=00:11:22:33:44:55)),1"},
		{"set_ipv4", Actions{Set(FieldIPv4Src, ip("10.0.0.1"))}, "set(ipv4(src=10.0.0.1))"},
		{"set_ipv4_masked", Actions{SetMasked(FieldIPv4Src, ip("10.0.0.1"), ip("255.255.255.0"))},
			"set(ipv4(src=10.0.0.0/255.255.255.0))"},
		{"set_ipv4_tos_ttl", Actions{Set(FieldIPv4TOS, []byte{0xb8}), Set(FieldIPv4TTL, []byte{63})},
			"set(ipv4(tos=0xb8,ttl=63))"},
		{"set_ipv6", Actions{Set(FieldIPv6Dst, ip("2001:db8::1")), Set(FieldIPv6Label, []byte{0, 1, 2, 3})},
			"set(ipv6(dst=2001:db8::1,label=0x10203))"},
		{"set_ports", Actions{Set(FieldTpSrc, []byte{0, 80}), Set(FieldTpDst, []byte{1, 0})}, "set(tp(src=80,dst=256))"},
		{"set_vlan", Actions{SetMasked(FieldVLANTCI, []byte{0x20, 0x0a}, []byte{0x0f, 0xff})}, "set(vlan(vid=10))"},
		{"set_mpls_ttl", Actions{SetMasked(FieldMPLSLSE, []byte{0, 0, 0, 63}, []byte{0, 0, 0, 0xff})}, "set(mpls(ttl=63))"},
		{"set_nd", Actions{Set(FieldNdTarget, ip("fe80::1")), Set(FieldNdSLL, mac)},
			"set(nd(target=fe80::1,sll=00:11:22:33:44:55))"},
		{"set_arp", Actions{Set(FieldArpOp, []byte{0, 2}), Set(FieldArpSPA, ip("1.2.3.4"))}, "set(arp(op=2,sip=1.2.3.4))"},
		{"skb_mark", Actions{SetMasked(FieldPktMark, []byte{0, 0, 0, 1}, []byte{0, 0, 0, 0xff})}, "set(skb_mark(0x1/0xff))"},
		{"mpls_push_pop", Actions{PushMPLS(0x8847, 100<<12|1<<8|64), PopMPLS(0x800)},
			"push_mpls(label=100,tc=0,ttl=64,bos=1,eth_type=0x8847),pop_mpls(eth_type=0x800)"},
		{"userspace", Actions{Userspace(7, 0xffff), Userspace(7, 128)}, "userspace(id=7),userspace(id=7,max_len=128)"},
		{"meter_trunc_recirc", Actions{MeterAction(0), Trunc(100), {Op: OpRecirc, Arg: 5}, Output(3)},
			"meter(0),trunc(100),recirc(0x5),3"},
		{"separate_headers_not_merged", Actions{Set(FieldIPv4TTL, []byte{1}), Set(FieldTpSrc, []byte{0, 1}), Set(FieldIPv4TTL, []byte{2})},
			"set(ipv4(ttl=1)),set(tp(src=1)),set(ipv4(ttl=2))"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.acts.String(); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
	if got := Output(4).String(); got != "4" {
		t.Errorf("Action.String = %q", got)
	}
}
