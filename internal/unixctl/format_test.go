package unixctl

import (
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/govs/govs/internal/dpif"
	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
	"github.com/govs/govs/internal/ofproto"
)

var (
	macA = [6]byte{0x12, 0x5d, 0xeb, 0x28, 0x6f, 0x0d}
	macB = [6]byte{0xce, 0x49, 0x25, 0xd2, 0xaf, 0x96}
	ones = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

// megaflow builds a FlowInfo from a key and mask (the key is masked as the
// datapath keeps it).
func megaflow(k, m flow.Key, acts odp.Actions) dpif.FlowInfo {
	var mk flow.Key
	mk.MaskFrom(&k, &m)
	return dpif.FlowInfo{InPort: k.InPort, Key: mk, Mask: m, Actions: acts}
}

func TestFormatODPFlow(t *testing.T) {
	now := time.Unix(1000, 0)
	// The L2 megaflow NORMAL installs, plus IPv4 fragment bits, as OVS's.
	ipv4 := func() (flow.Key, flow.Key) {
		k := flow.Key{InPort: 2, EthSrc: macA, EthDst: macB, EthType: flow.EthTypeIPv4,
			NwSrc: 0x0a090001, NwDst: 0x0a090002, NwProto: flow.IPProtoICMP, NwTTL: 64}
		m := flow.Key{InPort: ^uint32(0), RecircID: ^uint32(0), EthSrc: ones, EthDst: ones,
			EthType: 0xffff, NwFrag: flow.FragAny | flow.FragLater}
		return k, m
	}
	tests := []struct {
		name string
		f    func() dpif.FlowInfo
		o    odpFormat
		want string
	}{
		{"normal ipv4", func() dpif.FlowInfo {
			k, m := ipv4()
			f := megaflow(k, m, odp.Actions{odp.Output(3)})
			f.Packets, f.Bytes, f.Used = 4, 392, now.Add(-407*time.Millisecond).UnixNano()
			return f
		}, odpFormat{},
			"recirc_id(0),in_port(2),eth(src=12:5d:eb:28:6f:0d,dst=ce:49:25:d2:af:96),eth_type(0x0800),ipv4(frag=no), packets:4, bytes:392, used:0.407s, actions:3"},
		{"never used, flood", func() dpif.FlowInfo {
			k, m := ipv4()
			return megaflow(k, m, odp.Actions{odp.Output(1), odp.Output(3)})
		}, odpFormat{},
			"recirc_id(0),in_port(2),eth(src=12:5d:eb:28:6f:0d,dst=ce:49:25:d2:af:96),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, used:never, actions:1,3"},
		{"partial masks and tcp", func() dpif.FlowInfo {
			k := flow.Key{InPort: 1, EthType: flow.EthTypeIPv4, NwDst: 0x0a000005, NwProto: flow.IPProtoTCP, TpDst: 80}
			m := flow.Key{InPort: ^uint32(0), EthType: 0xffff, NwDst: 0xff000000, NwProto: 0xff, TpDst: 0xfff0,
				NwFrag: flow.FragAny | flow.FragLater}
			f := megaflow(k, m, nil)
			f.TCPFlags = flow.TCPSyn | flow.TCPAck
			return f
		}, odpFormat{},
			"recirc_id(0),in_port(1),eth_type(0x0800),ipv4(dst=10.0.0.0/255.0.0.0,proto=6,frag=no),tcp(dst=80/0xfff0), packets:0, bytes:0, used:never, flags:S., actions:drop"},
		{"arp", func() dpif.FlowInfo {
			k := flow.Key{InPort: 3, EthSrc: macB, EthDst: macA, EthType: flow.EthTypeARP,
				NwSrc: 0x0a090002, NwDst: 0x0a090001, ArpOp: 2}
			m := flow.Key{InPort: ^uint32(0), EthSrc: ones, EthDst: ones, EthType: 0xffff,
				NwSrc: ^uint32(0), NwDst: ^uint32(0), ArpOp: 0xffff}
			return megaflow(k, m, odp.Actions{odp.Output(2)})
		}, odpFormat{},
			"recirc_id(0),in_port(3),eth(src=ce:49:25:d2:af:96,dst=12:5d:eb:28:6f:0d),eth_type(0x0806),arp(sip=10.9.0.2,tip=10.9.0.1,op=2), packets:0, bytes:0, used:never, actions:2"},
		{"vlan", func() dpif.FlowInfo {
			k := flow.Key{InPort: 1, EthType: flow.EthTypeIPv4}
			k.VLANs[0] = flow.VLAN{TPID: 0x8100, TCI: flow.VLANCFI | 10}
			m := flow.Key{InPort: ^uint32(0), EthType: 0xffff}
			m.VLANs[0].TCI = 0xffff
			return megaflow(k, m, odp.Actions{odp.PopVLAN(), odp.Output(2)})
		}, odpFormat{},
			"recirc_id(0),in_port(1),eth_type(0x8100),vlan(vid=10,pcp=0),encap(eth_type(0x0800)), packets:0, bytes:0, used:never, actions:pop_vlan,2"},
		{"ipv6 icmpv6 nd", func() dpif.FlowInfo {
			k := flow.Key{InPort: 1, EthType: flow.EthTypeIPv6, NwProto: flow.IPProtoICMPv6, TpSrc: 135}
			k.NdTarget[0], k.NdTarget[1], k.NdTarget[15] = 0xfe, 0x80, 1
			m := flow.Key{InPort: ^uint32(0), EthType: 0xffff, NwProto: 0xff, TpSrc: 0xff, NwFrag: 3, NdTarget: allOnes16}
			return megaflow(k, m, odp.Actions{odp.Output(2)})
		}, odpFormat{},
			"recirc_id(0),in_port(1),eth_type(0x86dd),ipv6(proto=58,frag=no),icmpv6(type=135),nd(target=fe80::1), packets:0, bytes:0, used:never, actions:2"},
		{"verbose", func() dpif.FlowInfo {
			k, m := ipv4()
			return megaflow(k, m, odp.Actions{odp.Output(3)})
		}, odpFormat{verbose: true},
			"skb_mark(0/0),ct_state(0/0),ct_zone(0/0),ct_mark(0/0),ct_label(0/0),recirc_id(0),dp_hash(0/0),in_port(2)," +
				"eth(src=12:5d:eb:28:6f:0d,dst=ce:49:25:d2:af:96),eth_type(0x0800)," +
				"ipv4(src=0.0.0.0/0.0.0.0,dst=0.0.0.0/0.0.0.0,proto=0/0,tos=0/0,ttl=0/0,frag=no), packets:0, bytes:0, used:never, dp:ovs, actions:3"},
		{"offloaded, verbose", func() dpif.FlowInfo {
			f := megaflow(flow.Key{InPort: 1}, flow.Key{InPort: ^uint32(0)}, odp.Actions{odp.Output(2)})
			f.Offloaded, f.Packets, f.Bytes = true, 10, 600
			return f
		}, odpFormat{verbose: true},
			"skb_mark(0/0),ct_state(0/0),ct_zone(0/0),ct_mark(0/0),ct_label(0/0),recirc_id(0),dp_hash(0/0),in_port(1),eth(src=00:00:00:00:00:00/00:00:00:00:00:00,dst=00:00:00:00:00:00/00:00:00:00:00:00)" +
				", packets:10, bytes:600, used:never, offloaded:yes, dp:tc, actions:2"},
		{"offloaded", func() dpif.FlowInfo {
			f := megaflow(flow.Key{InPort: 1}, flow.Key{InPort: ^uint32(0)}, odp.Actions{odp.Output(2)})
			f.Offloaded = true
			return f
		}, odpFormat{},
			"recirc_id(0),in_port(1), packets:0, bytes:0, used:never, actions:2"},
		{"names", func() dpif.FlowInfo {
			k, m := ipv4()
			return megaflow(k, m, odp.Actions{odp.Set(odp.FieldEthDst, macA[:]), odp.Output(1), odp.Output(3)})
		}, odpFormat{portName: func(n uint32) string { return map[uint32]string{1: "br0", 2: "p1", 3: "p2"}[n] }},
			"recirc_id(0),in_port(p1),eth(src=12:5d:eb:28:6f:0d,dst=ce:49:25:d2:af:96),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, used:never, actions:set(eth(dst=12:5d:eb:28:6f:0d)),br0,p2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.f()
			tc.o.now = now
			if got := formatODPFlow(&f, tc.o); got != tc.want {
				t.Errorf("\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

func TestNameOutputs(t *testing.T) {
	name := func(n uint32) string { return map[uint32]string{1: "a", 2: "b"}[n] }
	for in, want := range map[string]string{
		"1,2":                         "a,b",
		"drop":                        "drop",
		"set(ipv4(ttl=1)),2":          "set(ipv4(ttl=1)),b",
		"push_vlan(vid=1,pcp=0),1":    "push_vlan(vid=1,pcp=0),a",
		"userspace(id=1,max_len=2),1": "userspace(id=1,max_len=2),a",
	} {
		if got := nameOutputs(in, name); got != want {
			t.Errorf("nameOutputs(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatPMDStats(t *testing.T) {
	p := dpif.PMDStats{PMD: 0, CPU: 1, Packets: 6, EMCHits: 1, MegaflowHits: 3, SubtableLookups: 3,
		LookupsPerHit: 1, Upcalls: 2, Lost: 0, BusyNs: 25, IdleNs: 75}
	var b strings.Builder
	formatPMDStats(&b, &p)
	want := `pmd thread numa_id 0 core_id 1:
  packets received: 6
  packet recirculations: 0
  avg. datapath passes per packet: 1.00
  phwol hits: 0
  mfex opt hits: 0
  simple match hits: 0
  emc hits: 1
  smc hits: 0
  megaflow hits: 3
  avg. subtable lookups per megaflow hit: 1.00
  miss with success upcall: 2
  miss with failed upcall: 0
  avg. packets per output batch: 0.00
  idle cycles: 75 (75.00%)
  processing cycles: 25 (25.00%)
  avg cycles per packet: 16.67 (100/6)
  avg processing cycles per packet: 4.17 (25/6)
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	formatPMDStats(&b, &dpif.PMDStats{PMD: dpif.NonPMD, CPU: -1})
	if !strings.HasPrefix(b.String(), "main thread:\n  packets received: 0\n") || strings.Contains(b.String(), "cycles") {
		t.Errorf("non-PMD block:\n%s", b.String())
	}
}

func TestParsePMDArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		secs bool
		ok   bool
		core int
	}{
		{nil, false, true, -1},
		{[]string{"-pmd", "3"}, false, true, 3},
		{[]string{"-pmd", "3", "netdev@ovs-netdev"}, false, true, 3},
		{[]string{"ovs-netdev"}, false, true, -1},
		{[]string{"-secs", "10"}, true, true, -1},
		{[]string{"-secs", "10"}, false, false, -1},
		{[]string{"-pmd"}, false, false, -1},
		{[]string{"-pmd", "x"}, false, false, -1},
		{[]string{"other-dp"}, false, false, -1},
		{[]string{"-x"}, false, false, -1},
	} {
		a, err := parsePMDArgs(tc.args, tc.secs)
		if (err == nil) != tc.ok || (err == nil && a.core != tc.core) {
			t.Errorf("parsePMDArgs(%q) = %+v, %v", tc.args, a, err)
		}
	}
}

func TestHumanSize(t *testing.T) {
	for v, want := range map[uint64]string{0: "", 1023: "", 1048: " (1.0 KiB)", 1474: " (1.4 KiB)",
		3 << 20: " (3.0 MiB)", 5 << 30: " (5.0 GiB)", 2 << 40: " (2.0 TiB)"} {
		if got := humanSize(v); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", v, got, want)
		}
	}
}

func setField(id flow.FieldID, v uint64) ofproto.Action {
	f := flow.FieldByID(id)
	return ofproto.Action{Type: ofproto.ActSetField, Field: id, Value: f.Value(v), Mask: f.AllOnes()}
}

func TestFormatAction(t *testing.T) {
	dst := ofproto.Action{Type: ofproto.ActSetField, Field: flow.FieldEthDst, Mask: flow.FieldByID(flow.FieldEthDst).AllOnes()}
	copy(dst.Value[:], []byte{0, 0, 0, 0, 0, 0x99})
	reg := ofproto.Action{Type: ofproto.ActSetField, Field: flow.FieldReg0,
		Value: flow.FieldByID(flow.FieldReg0).Value(1), Mask: flow.FieldByID(flow.FieldReg0).Value(0xf)}
	for _, tc := range []struct {
		a    ofproto.Action
		want string
	}{
		{ofproto.Action{Type: ofproto.ActOutput, Port: 2}, "output:2"},
		{ofproto.Action{Type: ofproto.ActOutput, Port: ofproto.PortNormal}, "NORMAL"},
		{ofproto.Action{Type: ofproto.ActOutput, Port: ofproto.PortFlood}, "FLOOD"},
		{ofproto.Action{Type: ofproto.ActOutput, Port: ofproto.PortLocal}, "LOCAL"},
		{ofproto.Action{Type: ofproto.ActOutput, Port: ofproto.PortController, MaxLen: 65535}, "CONTROLLER:65535"},
		{ofproto.Action{Type: ofproto.ActGroup, Group: 5}, "group:5"},
		{dst, "mod_dl_dst:00:00:00:00:00:99"},
		{setField(flow.FieldIPv4Dst, 0x0a000001), "mod_nw_dst:10.0.0.1"},
		{setField(flow.FieldTCPDst, 8080), "mod_tp_dst:8080"},
		{setField(flow.FieldTunID, 0x10), "set_field:0x10->tun_id"},
		{reg, "set_field:0x1/0xf->reg0"},
		{ofproto.Action{Type: ofproto.ActPushVLAN, Ethertype: 0x8100}, "push_vlan:0x8100"},
		{ofproto.Action{Type: ofproto.ActPopVLAN}, "pop_vlan"},
		{ofproto.Action{Type: ofproto.ActDecNwTTL}, "dec_ttl"},
		{ofproto.Action{Type: ofproto.ActDecNwTTL, Controllers: []uint16{1, 2}}, "dec_ttl(1,2)"},
		{ofproto.Action{Type: ofproto.ActResubmit, Port: ofproto.PortAny, Table: 1}, "resubmit(,1)"},
		{ofproto.Action{Type: ofproto.ActResubmit, Port: 3, Table: ofproto.TableAll}, "resubmit:3"},
		{ofproto.Action{Type: ofproto.ActResubmit, Port: ofproto.PortInPort, Table: 2}, "resubmit(,2)"},
		{setField(flow.FieldVLANVID, 0x100a), "mod_vlan_vid:10"},
		{ofproto.Action{Type: ofproto.ActController, Reason: 1, MaxLen: 128}, "CONTROLLER:128"},
		{ofproto.Action{Type: ofproto.ActController, Reason: 0, MaxLen: 65535, ControllerID: 3}, "controller(reason=no_match,id=3)"},
		{ofproto.Action{Type: ofproto.ActRegMove, SrcField: flow.FieldReg0, Field: flow.FieldReg1, NBits: 16}, "move:reg0[0..15]->reg1[0..15]"},
		{ofproto.Action{Type: ofproto.ActNote, Note: []byte{0xab, 0xcd}}, "note:ab.cd"},
		{ofproto.Action{Type: ofproto.ActMeter, Meter: 2}, "meter:2"},
	} {
		if got := formatAction(&tc.a); got != tc.want {
			t.Errorf("formatAction(%+v) = %q, want %q", tc.a.Type, got, tc.want)
		}
	}
}

func TestFormatRule(t *testing.T) {
	now := time.Unix(100, 0)
	k, m, err := flow.ParseMatch("ip,nw_dst=10.9.0.99")
	if err != nil {
		t.Fatal(err)
	}
	match := ofproto.NewMatch(&k, &m)
	r := &ofproto.Rule{Table: 0, Priority: 100, Match: match.Mini(), Created: now.Add(-3 * time.Second),
		Instructions: ofproto.Instructions{Apply: []ofproto.Action{{Type: ofproto.ActOutput, Port: 2}}, GotoTable: 1}}
	r.Packets.Store(5)
	r.Bytes.Store(500)
	if got, want := formatRule(new(ofproto.ViewOf(r)), now), "duration=3s, n_packets=5, n_bytes=500, priority=100,ip,nw_dst=10.9.0.99,actions=output:2,goto_table:1"; got != want {
		t.Errorf("\n got: %s\nwant: %s", got, want)
	}
	r2 := &ofproto.Rule{Table: 254, Priority: 0, Created: now, Instructions: ofproto.Instructions{GotoTable: -1}}
	if got, want := formatRule(new(ofproto.ViewOf(r2)), now), "table_id=254, duration=0s, n_packets=0, n_bytes=0, priority=0,actions=drop"; got != want {
		t.Errorf("\n got: %s\nwant: %s", got, want)
	}
}

func TestFlowString(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"in_port=1,dl_dst=00:11:22:33:44:55",
			"in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:11:22:33:44:55,dl_type=0x0000"},
		{"in_port=1,icmp,nw_src=10.9.0.1,nw_dst=10.9.0.2",
			"icmp,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=10.9.0.1,nw_dst=10.9.0.2,nw_tos=0,nw_ecn=0,nw_ttl=0,nw_frag=no,icmp_type=0,icmp_code=0"},
	} {
		k, _, err := flow.ParseMatch(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := flowString(&k); got != tc.want {
			t.Errorf("flowString(%s)\n got: %s\nwant: %s", tc.spec, got, tc.want)
		}
	}
	k, _, _ := flow.ParseMatch("in_port=1,dl_src=00:00:00:00:00:01,dl_dst=00:11:22:33:44:55")
	m := flow.Key{InPort: ^uint32(0), RecircID: ^uint32(0), EthSrc: ones, EthDst: ones}
	m.VLANs[0].TCI = 0xffff
	if got, want := megaflowString(&k, &m), "recirc_id=0,eth,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:01,dl_dst=00:11:22:33:44:55"; got != want {
		t.Errorf("megaflowString\n got: %s\nwant: %s", got, want)
	}
}

func TestVlogSet(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want slog.Level
		err  string
	}{
		{nil, slog.LevelDebug, ""},
		{[]string{"dbg"}, slog.LevelDebug, ""},
		{[]string{"info"}, slog.LevelInfo, ""},
		{[]string{"ANY:file:dbg"}, slog.LevelDebug, ""},
		{[]string{"ofproto:console:warn"}, slog.LevelWarn, ""},
		{[]string{"ofproto", "err"}, slog.LevelError, ""},
		{[]string{"ofproto"}, slog.LevelDebug, ""},
		{[]string{"any:any:off"}, slog.LevelError + 100, ""},
		{[]string{"xyz"}, 0, `no destination, level, or module "xyz"`},
		{[]string{"ANY:console:foo"}, 0, `no destination, level, or module "foo"`},
		{[]string{"dbg:info"}, 0, "cannot specify multiple levels"},
		{[]string{"PATTERN:file:%m"}, 0, "log patterns are not supported"},
	} {
		lv, err := vlogSet(tc.args)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("vlogSet(%q) error = %v, want %q", tc.args, err, tc.err)
		case tc.err == "" && (err != nil || lv != tc.want):
			t.Errorf("vlogSet(%q) = %v, %v; want %v", tc.args, lv, err, tc.want)
		}
	}
}

func TestVlogList(t *testing.T) {
	out := vlogList(slog.LevelInfo, true, false)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if lines[0] != "                 console    syslog    file" || lines[1] != "                 -------    ------    ------" {
		t.Errorf("header:\n%s", out)
	}
	// OVS's layout: "%-16s  %4s       %4s       %4s".
	if lines[2] != "bridge            INFO        OFF        OFF" {
		t.Errorf("module line %q", lines[2])
	}
}

func TestCoverageShow(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	var n uint64
	s.AddCounters(func(add func(string, uint64)) {
		add("test_hit", n)
		add("test_never", 0)
	})
	n = 10
	s.cov.record(s.collectCounters())
	n = 60
	out, err := s.coverageShow(nil)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if !regexp.MustCompile(`^Event coverage, avg rate over last: 5 seconds, last minute, last hour,  hash=[0-9a-f]{8}:$`).MatchString(lines[0]) {
		t.Errorf("header %q", lines[0])
	}
	// 50 more in one 5 s interval: 10/s; over a minute 50/60.
	want := "test_hit                  10.0/sec     0.833/sec        0.0139/sec   total: 60"
	found := false
	for _, l := range lines {
		found = found || l == want
	}
	if !found {
		t.Errorf("no line %q in:\n%s", want, out)
	}
	// test_never, unixctl_received and unixctl_replied are zero.
	if last := lines[len(lines)-1]; last != "3 events never hit" {
		t.Errorf("last line %q", last)
	}
}
