package ofagent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govs/govs/internal/ofproto"
)

// Real ovs-ofctl against an in-process bridge on the management socket,
// with the default protocol (OpenFlow 1.0 + Nicira) and OpenFlow 1.3.

var ofctlProtocols = []struct {
	name string
	args []string
}{
	{"default", nil},
	{"OpenFlow13", []string{"-O", "OpenFlow13"}},
}

func forProtocols(t *testing.T, fn func(t *testing.T, ts *testSwitch, run func(args ...string) string)) {
	for _, p := range ofctlProtocols {
		t.Run(p.name, func(t *testing.T) {
			ts := newTestSwitch(t)
			run := func(args ...string) string {
				t.Helper()
				return ts.ofctl(t, append(append([]string{}, p.args...), args...)...)
			}
			fn(t, ts, run)
		})
	}
}

func mustContain(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Fatalf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestOfctlShow(t *testing.T) {
	forProtocols(t, func(t *testing.T, ts *testSwitch, run func(...string) string) {
		mustContain(t, run("show", "SW"), "dpid:0000000000001234", "n_tables:254", "1(p1): addr:00:00:00:00:00:01", "2(p2)")
	})
}

func TestOfctlFlows(t *testing.T) {
	forProtocols(t, func(t *testing.T, ts *testSwitch, run func(...string) string) {
		run("add-flow", "SW", "priority=100,in_port=1,ip,nw_dst=10.0.0.1,actions=output:2")
		run("add-flow", "SW", "table=1,priority=7,reg0=5,tcp,tp_dst=80,cookie=0x77,actions=load:0x5->NXM_NX_REG2[0..15],resubmit(,3),output:1")
		file := filepath.Join(ts.dir, "flows.txt")
		os.WriteFile(file, []byte("priority=5,dl_dst=00:00:00:00:00:02,actions=output:2\npriority=6,arp,actions=NORMAL\n"), 0o644)
		run("add-flows", "SW", file)
		out := run("dump-flows", "SW")
		mustContain(t, out, "priority=100,ip,in_port=1,nw_dst=10.0.0.1 actions=output:2",
			"cookie=0x77", "table=1", "actions=load:0x5->NXM_NX_REG2[0..15],resubmit(,3),output:1",
			"priority=5,dl_dst=00:00:00:00:00:02 actions=output:2", "priority=6,arp actions=NORMAL")
		mustContain(t, run("dump-aggregate", "SW"), "flow_count=4")

		run("mod-flows", "SW", "priority=100,in_port=1,ip,nw_dst=10.0.0.1,actions=output:1")
		mustContain(t, run("dump-flows", "SW"), "nw_dst=10.0.0.1 actions=output:1")
		run("--strict", "del-flows", "SW", "priority=5,dl_dst=00:00:00:00:00:02")
		mustContain(t, run("dump-aggregate", "SW"), "flow_count=3")
		out = run("dump-flows", "SW", "table=1")
		mustContain(t, out, "reg0=0x5")
		if strings.Contains(out, "priority=100") {
			t.Fatalf("table filter ignored:\n%s", out)
		}
		run("del-flows", "SW")
		mustContain(t, run("dump-aggregate", "SW"), "flow_count=0")
	})
}

func TestOfctlRefusesBadFlow(t *testing.T) {
	forProtocols(t, func(t *testing.T, ts *testSwitch, run func(...string) string) {
		// An unknown group: OFPBAC_BAD_OUT_GROUP from the model.
		args := []string{"add-flow", "SW", "priority=1,actions=group:99"}
		out, err := ts.ofctlErr(t, append(ofctlArgsFor(t), args...)...)
		if err == nil {
			t.Fatalf("add-flow with an unknown group succeeded:\n%s", out)
		}
		mustContain(t, out, "OFPT_ERROR")
		run("add-flow", "SW", "priority=2,actions=drop") // the connection machinery still works
	})
}

func ofctlArgsFor(t *testing.T) []string {
	if strings.HasSuffix(t.Name(), "OpenFlow13") {
		return []string{"-O", "OpenFlow13"}
	}
	return nil
}

func TestOfctlPortsAndTables(t *testing.T) {
	forProtocols(t, func(t *testing.T, ts *testSwitch, run func(...string) string) {
		mustContain(t, run("dump-ports", "SW"), "port  1: rx pkts=10", "port  2: rx pkts=20")
		mustContain(t, run("dump-ports", "SW", "2"), "port  2: rx pkts=20")
		mustContain(t, run("dump-ports-desc", "SW"), "1(p1): addr:00:00:00:00:00:01")
		mustContain(t, run("dump-tables", "SW"), "table 0", "active=0")
		run("mod-port", "SW", "p1", "down")
		run("mod-port", "SW", "p2", "no-packet-in")
		want2 := ofproto.PortNoPacketIn
		if !strings.HasSuffix(t.Name(), "OpenFlow13") { // OF1.1+ has no NO_FLOOD bit on the wire
			run("mod-port", "SW", "p2", "no-flood")
			want2 |= ofproto.PortNoFlood
		}
		ts.b.RLock()
		c1, c2 := ts.b.Port(1).Config, ts.b.Port(2).Config
		ts.b.RUnlock()
		if c1&ofproto.PortDown == 0 || c2&want2 != want2 {
			t.Fatalf("port config %#x %#x", c1, c2)
		}
		mustContain(t, run("dump-ports-desc", "SW"), "PORT_DOWN")
		run("mod-port", "SW", "p1", "up")
	})
}

func TestOfctlGroupsMeters(t *testing.T) {
	ts := newTestSwitch(t)
	run := func(args ...string) string { return ts.ofctl(t, append([]string{"-O", "OpenFlow13"}, args...)...) }
	run("add-group", "SW", "group_id=1,type=select,bucket=weight:10,output:1,bucket=weight:20,output:2")
	run("add-group", "SW", "group_id=2,type=all,bucket=output:1,bucket=set_field:10.0.0.9->ip_dst,output:2")
	mustContain(t, run("dump-groups", "SW"), "group_id=1,type=select,bucket=weight:10,actions=output:1,bucket=weight:20,actions=output:2",
		"group_id=2,type=all")
	mustContain(t, run("dump-group-stats", "SW"), "group_id=1")
	mustContain(t, run("dump-group-features", "SW"), "select")
	run("add-meter", "SW", "meter=1,kbps,burst,band=type=drop,rate=1000,burst_size=100")
	mustContain(t, run("dump-meters", "SW"), "meter=1 kbps burst", "type=drop rate=1000 burst_size=100")
	mustContain(t, run("meter-stats", "SW"), "meter:1")
	mustContain(t, run("meter-features", "SW"), "max_meter")
	run("add-flow", "SW", "priority=1,actions=meter:1,group:1")
	mustContain(t, run("dump-flows", "SW"), "actions=meter:1,group:1")
	run("del-groups", "SW", "group_id=2")
	if out := run("dump-groups", "SW"); strings.Contains(out, "group_id=2") {
		t.Fatalf("group 2 not deleted:\n%s", out)
	}
}

func TestOfctlPacketOut(t *testing.T) {
	forProtocols(t, func(t *testing.T, ts *testSwitch, run func(...string) string) {
		pkt := "ffffffffffff00000000000108004500001c0000000040110000c0a80001c0a800020001000200080000"
		run("packet-out", "SW", "CONTROLLER", "output:2", pkt)
		ts.mu.Lock()
		n := len(ts.execs)
		ts.mu.Unlock()
		if n != 1 {
			t.Fatalf("%d executions, want 1", n)
		}
	})
}

func TestOfctlBundleReplaceFlows(t *testing.T) {
	ts := newTestSwitch(t)
	run := func(args ...string) string { return ts.ofctl(t, append([]string{"-O", "OpenFlow13"}, args...)...) }
	run("add-flow", "SW", "priority=1,actions=output:1")
	run("add-flow", "SW", "priority=2,ip,actions=output:2")
	file := filepath.Join(ts.dir, "flows.txt")
	os.WriteFile(file, []byte("priority=1,actions=output:2\npriority=3,arp,actions=NORMAL\n"), 0o644)
	run("--bundle", "replace-flows", "SW", file)
	out := run("dump-flows", "SW")
	mustContain(t, out, "priority=1 actions=output:2", "priority=3,arp actions=NORMAL")
	if strings.Contains(out, "priority=2") {
		t.Fatalf("replace-flows kept an old flow:\n%s", out)
	}
	// A bundle whose second flow-mod fails leaves the table as it was.
	os.WriteFile(file, []byte("priority=9,actions=output:1\npriority=10,actions=group:77\n"), 0o644)
	if out, err := ts.ofctlErr(t, "-O", "OpenFlow13", "--bundle", "add-flows", "SW", file); err == nil {
		t.Fatalf("failing bundle committed:\n%s", out)
	}
	out = run("dump-flows", "SW")
	if strings.Contains(out, "priority=9") {
		t.Fatalf("failed bundle was not rolled back:\n%s", out)
	}
	mustContain(t, out, "priority=1 actions=output:2", "priority=3,arp actions=NORMAL")
}
