package unixctl

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/govs/govs/internal/bridge"
	"github.com/govs/govs/internal/dpif"
	"github.com/govs/govs/internal/netdev/dummy"
	"github.com/govs/govs/internal/vswitchd"
)

// icmpFrame builds an Ethernet/IPv4/ICMP echo request.
func icmpFrame(src, dst [6]byte, srcIP, dstIP uint32, seq uint16) []byte {
	f := make([]byte, 14+20+8+56)
	copy(f[0:6], dst[:])
	copy(f[6:12], src[:])
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:34]
	ip[0], ip[8], ip[9] = 0x45, 64, 1
	binary.BigEndian.PutUint16(ip[2:], uint16(len(f)-14))
	binary.BigEndian.PutUint32(ip[12:], srcIP)
	binary.BigEndian.PutUint32(ip[16:], dstIP)
	binary.BigEndian.PutUint16(ip[10:], checksum(ip))
	icmp := f[34:]
	icmp[0] = 8
	binary.BigEndian.PutUint16(icmp[6:], seq)
	binary.BigEndian.PutUint16(icmp[2:], checksum(icmp))
	return f
}

func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// liveSwitch is a govs switch with bridge br0 and two dummy ports, p1 and
// p2, and a unixctl server on it.
type liveSwitch struct {
	sw     *bridge.Switch
	ports  map[string]*dummy.Port
	odp    map[string]uint32
	server *Server
	path   string
}

func newLiveSwitch(t *testing.T) *liveSwitch {
	t.Helper()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sw, err := bridge.New(bridge.Options{RunDir: dir, Log: log,
		Datapath: dpif.Config{PMDSleepMax: time.Millisecond, RevalidateInterval: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sw.Close)
	if err := sw.AddBridge(vswitchd.BridgeSpec{Name: "br0", DatapathType: "netdev"}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"p1", "p2"} {
		if _, err := sw.AddInterface("br0", vswitchd.PortSpec{Name: n}, vswitchd.InterfaceSpec{Name: n, Type: "dummy"}); err != nil {
			t.Fatal(err)
		}
	}
	ls := &liveSwitch{sw: sw, ports: map[string]*dummy.Port{}, odp: map[string]uint32{}}
	for _, p := range sw.Datapath().PortEntries() {
		ls.ports[p.Dev.Name()] = p.Dev.(*dummy.Port)
		ls.odp[p.Dev.Name()] = p.No
	}
	ls.server = New(Options{Log: log})
	RegisterSwitch(ls.server, sw)
	ls.path = filepath.Join(dir, "ovs-vswitchd.1.ctl")
	if err := ls.server.Listen(ls.path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ls.server.Close)
	return ls
}

// call runs a command over the socket as ovs-appctl would, returning the
// result text or the error text.
func (ls *liveSwitch) call(t *testing.T, method string, args ...string) (string, string) {
	t.Helper()
	c, err := net.Dial("unix", ls.path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if args == nil {
		args = []string{}
	}
	req, _ := json.Marshal(map[string]any{"method": method, "params": args, "id": 1})
	c.Write(req)
	var r testReply
	if err := json.NewDecoder(c).Decode(&r); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	res, e := "", ""
	if r.Result != nil {
		res = *r.Result
	}
	if r.Error != nil {
		e = *r.Error
	}
	return res, e
}

func (ls *liveSwitch) mustCall(t *testing.T, method string, args ...string) string {
	t.Helper()
	res, e := ls.call(t, method, args...)
	if e != "" {
		t.Fatalf("%s %v: error %q", method, args, e)
	}
	return res
}

var (
	mac1 = [6]byte{0x02, 0, 0, 0, 0, 1}
	mac2 = [6]byte{0x02, 0, 0, 0, 0, 2}
)

// pingPong sends n echo requests each way between p1 (mac1, 10.0.0.1) and
// p2 (mac2, 10.0.0.2) and waits until the other side transmitted them.
func (ls *liveSwitch) pingPong(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		if err := ls.ports["p1"].Inject(0, icmpFrame(mac1, mac2, 0x0a000001, 0x0a000002, uint16(i))); err != nil {
			t.Fatal(err)
		}
		if err := ls.ports["p2"].Inject(0, icmpFrame(mac2, mac1, 0x0a000002, 0x0a000001, uint16(i))); err != nil {
			t.Fatal(err)
		}
		// One at a time, so that learning from the first packets makes
		// the later ones unicast.
		deadline := time.Now().Add(5 * time.Second)
		for ls.ports["p1"].Stats().TxPackets < uint64(i+1) || ls.ports["p2"].Stats().TxPackets < uint64(i+1) {
			if time.Now().After(deadline) {
				t.Fatalf("packet %d not forwarded: p1 %+v p2 %+v", i, ls.ports["p1"].Stats(), ls.ports["p2"].Stats())
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// field returns the integer after "name: " in a pmd-stats-show block.
func field(t *testing.T, out, name string) uint64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(name) + `: (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %q in:\n%s", name, out)
	}
	v, _ := strconv.ParseUint(m[1], 10, 64)
	return v
}

func TestSwitchCommands(t *testing.T) {
	ls := newLiveSwitch(t)
	const n = 5
	ls.pingPong(t, n)
	p1, p2 := strconv.Itoa(int(ls.odp["p1"])), strconv.Itoa(int(ls.odp["p2"]))

	t.Run("pmd-stats-show", func(t *testing.T) {
		out := ls.mustCall(t, "dpif-netdev/pmd-stats-show")
		if !strings.HasPrefix(out, "pmd thread numa_id ") || !strings.Contains(out, "main thread:\n") {
			t.Errorf("layout:\n%s", out)
		}
		if got := field(t, out, "packets received"); got != 2*n {
			t.Errorf("packets received %d, want %d:\n%s", got, 2*n, out)
		}
		hits := field(t, out, "emc hits") + field(t, out, "megaflow hits") + field(t, out, "miss with success upcall")
		if hits != 2*n {
			t.Errorf("emc + megaflow + upcall = %d, want %d", hits, 2*n)
		}
	})
	t.Run("pmd-rxq-show", func(t *testing.T) {
		out := ls.mustCall(t, "dpif-netdev/pmd-rxq-show")
		for _, p := range []string{"p1", "p2"} {
			if !regexp.MustCompile(`(?m)^  port: ` + p + ` +queue-id:  0 \(enabled\)   pmd usage: NOT AVAIL$`).MatchString(out) {
				t.Errorf("no queue line for %s:\n%s", p, out)
			}
		}
	})
	t.Run("pmd-sleep-show", func(t *testing.T) {
		if out := ls.mustCall(t, "dpif-netdev/pmd-sleep-show"); !strings.HasPrefix(out, "Default max sleep: 1000 us\npmd thread numa_id 0 core_id ") {
			t.Errorf("before other_config:\n%s", out)
		}
		if err := ls.sw.SetOtherConfig(map[string]string{"pmd-sleep-max": "250"}); err != nil {
			t.Fatal(err)
		}
		if out := ls.mustCall(t, "dpif-netdev/pmd-sleep-show"); !strings.Contains(out, "Default max sleep:  250 us\n") || !strings.HasSuffix(out, ":\n  max sleep:  250 us\n") {
			t.Errorf("after pmd-sleep-max=250:\n%s", out)
		}
		if err := ls.sw.SetOtherConfig(map[string]string{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("pmd-perf-show", func(t *testing.T) {
		out := ls.mustCall(t, "dpif-netdev/pmd-perf-show")
		if !regexp.MustCompile(`(?m)^  Rx packets: +10  \(`).MatchString(out) {
			t.Errorf("pmd-perf-show:\n%s", out)
		}
	})
	t.Run("dpctl/show", func(t *testing.T) {
		out := ls.mustCall(t, "dpctl/show", "-s")
		for _, want := range []string{
			"netdev@ovs-netdev:\n",
			"  port " + p1 + ": p1 (dummy)\n    RX packets:5 errors:0 dropped:0 overruns:0 frame:0\n    TX packets:5 ",
			"  port " + p2 + ": p2 (dummy)\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("no %q in:\n%s", want, out)
			}
		}
		if !regexp.MustCompile(`lookups: hit:\d+ missed:\d+ lost:0\n  flows: 2\n`).MatchString(out) {
			t.Errorf("lookups/flows:\n%s", out)
		}
	})
	t.Run("dpctl/dump-flows", func(t *testing.T) {
		out := ls.mustCall(t, "dpctl/dump-flows")
		want := "recirc_id(0),in_port(" + p1 + "),eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02),"
		var line string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, want) {
				line = l
			}
		}
		if line == "" || !strings.HasSuffix(line, ", actions:"+p2) || !regexp.MustCompile(`packets:\d+, bytes:\d+, used:\d+\.\d{3}s`).MatchString(line) {
			t.Errorf("no megaflow p1 -> p2 in:\n%s", out)
		}
		named := ls.mustCall(t, "dpctl/dump-flows", "--names", "netdev@ovs-netdev")
		if !strings.Contains(named, "in_port(p1)") || !strings.Contains(named, "actions:p2") {
			t.Errorf("--names:\n%s", named)
		}
		filtered := ls.mustCall(t, "dpctl/dump-flows", "filter=in_port="+p2)
		if strings.Count(filtered, "\n") != 1 || !strings.Contains(filtered, "in_port("+p2+")") {
			t.Errorf("filter:\n%s", filtered)
		}
	})
	t.Run("ofproto/trace", func(t *testing.T) {
		out := ls.mustCall(t, "ofproto/trace", "br0", "in_port=p1,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02")
		for _, want := range []string{
			"Flow: in_port=1,vlan_tci=0x0000,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,dl_type=0x0000\n",
			"\nbridge(\"br0\")\n-------------\n 0. priority 0\n    NORMAL\n     -> forwarding to learned port\n",
			"\nFinal flow: unchanged\n",
			"Megaflow: recirc_id=0,eth,in_port=1,",
			"Datapath actions: " + p2 + "\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("no %q in:\n%s", want, out)
			}
		}
		flood := ls.mustCall(t, "ofproto/trace", "br0", "in_port=1,dl_dst=02:00:00:00:00:99")
		if !strings.Contains(flood, "-> no learned MAC for destination, flooding") || !strings.Contains(flood, "Datapath actions: "+p2+"\n") {
			t.Errorf("flood trace:\n%s", flood)
		}
		pkt := icmpFrame(mac1, mac2, 0x0a000001, 0x0a000002, 1)
		withPacket := ls.mustCall(t, "ofproto/trace", "br0", "in_port=1", strings.ToUpper(hexString(pkt)))
		if !strings.HasPrefix(withPacket, "Flow: icmp,in_port=1,vlan_tci=0x0000,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,") {
			t.Errorf("trace with packet:\n%s", withPacket)
		}
	})
	t.Run("fdb/show", func(t *testing.T) {
		out := ls.mustCall(t, "fdb/show", "br0")
		if !strings.HasPrefix(out, " port  VLAN  MAC                Age\n") {
			t.Errorf("header:\n%s", out)
		}
		for _, want := range []string{`(?m)^    1     0  02:00:00:00:00:01 +\d+$`, `(?m)^    2     0  02:00:00:00:00:02 +\d+$`} {
			if !regexp.MustCompile(want).MatchString(out) {
				t.Errorf("no %s in:\n%s", want, out)
			}
		}
	})
	t.Run("bridge/dump-flows", func(t *testing.T) {
		out := ls.mustCall(t, "bridge/dump-flows", "br0")
		if !regexp.MustCompile(`^duration=\d+s, n_packets=\d+, n_bytes=\d+, priority=0,actions=NORMAL\n$`).MatchString(out) {
			t.Errorf("bridge/dump-flows:\n%s", out)
		}
	})
	t.Run("memory/show", func(t *testing.T) {
		out := ls.mustCall(t, "memory/show")
		for _, want := range []string{"mac-entries:2", "megaflows:2", "ports:2", "rules:1"} {
			if !strings.Contains(out, want) {
				t.Errorf("no %s in %q", want, out)
			}
		}
	})
	t.Run("coverage/show", func(t *testing.T) {
		out := ls.mustCall(t, "coverage/show")
		if !regexp.MustCompile(`(?m)^netdev_received +\d+\.\d/sec +\d+\.\d{3}/sec +\d+\.\d{4}/sec   total: 10$`).MatchString(out) {
			t.Errorf("coverage/show:\n%s", out)
		}
	})
	t.Run("bad arguments", func(t *testing.T) {
		for _, tc := range []struct {
			cmd  []string
			want string
		}{
			{[]string{"fdb/show", "nobr"}, "no such bridge\n"},
			{[]string{"fdb/show"}, "\"fdb/show\" command requires at least 1 arguments\n"},
			{[]string{"fdb/flush", "nobr"}, "no such bridge\n"},
			{[]string{"bridge/dump-flows", "nobr"}, "Unknown bridge\n"},
			{[]string{"ofproto/trace", "nobr", "in_port=1"}, "nobr: unknown bridge\n"},
			{[]string{"ofproto/trace", "br0"}, "syntax error at br0 (or the bridge name was omitted)\n"},
			{[]string{"ofproto/trace", "br0", "in_port=1,foo=2"}, "Bad openflow flow syntax: in_port=1,foo=2: "},
			{[]string{"ofproto/trace", "br0", "in_port=1", "-bogus"}, "-bogus: unknown option\n"},
			{[]string{"dpctl/dump-flows", "-x"}, "Unrecognized option -x\n"},
			{[]string{"dpctl/dump-flows", "nodp"}, "ovs-vswitchd: datapath not found (Invalid argument)\n"},
			{[]string{"dpctl/show", "nodp"}, "ovs-vswitchd: opening datapath nodp failed (No such file or directory)\n"},
			{[]string{"dpif-netdev/pmd-stats-show", "nodp"}, "please specify an existing datapath\n"},
			{[]string{"dpif-netdev/pmd-rxq-rebalance", "nodp"}, "please specify an existing datapath\n"},
			{[]string{"dpif-netdev/pmd-stats-show", "-pmd", "x"}, "invalid core id \"x\"\n"},
		} {
			res, e := ls.call(t, tc.cmd[0], tc.cmd[1:]...)
			if !strings.HasPrefix(e, tc.want) || res != "" {
				t.Errorf("%v: result %q error %q, want error %q", tc.cmd, res, e, tc.want)
			}
		}
	})

	// State-changing commands last.
	t.Run("pmd-rxq-rebalance", func(t *testing.T) {
		if out := ls.mustCall(t, "dpif-netdev/pmd-rxq-rebalance"); out != "pmd rxq rebalance requested.\n" {
			t.Errorf("%q", out)
		}
	})
	t.Run("pmd-stats-clear", func(t *testing.T) {
		ls.mustCall(t, "dpif-netdev/pmd-stats-clear")
		out := ls.mustCall(t, "dpif-netdev/pmd-stats-show")
		if got := field(t, out, "packets received"); got != 0 {
			t.Errorf("after clear: packets received %d", got)
		}
	})
	t.Run("dpctl/del-flows", func(t *testing.T) {
		ls.mustCall(t, "dpctl/del-flows")
		if out := ls.mustCall(t, "dpctl/dump-flows"); out != "" {
			t.Errorf("flows after del-flows:\n%s", out)
		}
	})
	t.Run("fdb/flush", func(t *testing.T) {
		if out := ls.mustCall(t, "fdb/flush", "br0"); out != "table successfully flushed\n" {
			t.Errorf("%q", out)
		}
		if out := ls.mustCall(t, "fdb/show", "br0"); out != " port  VLAN  MAC                Age\n" {
			t.Errorf("fdb after flush:\n%s", out)
		}
	})
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, x := range b {
		out = append(out, digits[x>>4], digits[x&15])
	}
	return string(out)
}
