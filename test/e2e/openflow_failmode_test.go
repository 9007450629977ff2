package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestOpenFlowControllerFlush: the flow flushes OVS does on controller
// and fail-mode changes (bridge.c, connmgr.c), checked with ovs-ofctl.
func TestOpenFlowControllerFlush(t *testing.T) {
	s := startOFSwitch(t)
	mustHave(t, s.ofctl(t, "dump-flows", "br0"), "priority=0 actions=NORMAL")
	s.ofctl(t, "add-flow", "br0", "priority=5,udp,actions=drop")

	// The first controller: every flow goes, the switch waits for it.
	s.g.Vsctl(t, "set-controller", "br0", "tcp:127.0.0.1:1", "--", "set", "controller", "br0", "inactivity_probe=1000")
	WaitFor(t, 5*time.Second, "flows flushed", func() bool { _, n := s.aggregate(t); return n == 0 })
	start := time.Now()
	// ... and, standalone and unconnected, fails open after three probe
	// intervals as OVS counts them (1000 ms is rounded up to OVS's
	// minimum of 5 s: 15 s), through OVS's hidden rule, which
	// ofproto/trace shows at OVS's priority 0xf0f0f0: packets go NORMAL
	// while OpenFlow sees no flow.
	trace := func() string {
		return mustAppctl(t, s.g, "ofproto/trace", "br0", "in_port="+strconv.Itoa(s.pa))
	}
	WaitFor(t, 25*time.Second, "fail-open rule in ofproto/trace", func() bool {
		return strings.Contains(trace(), " 0. priority 15790320\n    NORMAL\n")
	})
	if d := time.Since(start); d < 14*time.Second {
		t.Errorf("failed open after %v, want 15 s (3 x OVS's 5 s minimum probe interval)", d)
	}
	s.ping(t)
	if st := s.g.Get(t, "controller", "br0", "status"); !strings.Contains(st, "last_error") {
		t.Logf("Controller status: %s", st)
	}
	hidden := func(what string) {
		t.Helper()
		if _, n := s.aggregate(t); n != 0 {
			t.Fatalf("%s: aggregate counts %d flows, want the fail-open rule hidden", what, n)
		}
		if out := s.ofctl(t, "dump-flows", "br0"); strings.Contains(out, "priority=") {
			t.Fatalf("%s: dump-flows shows a rule:\n%s", what, out)
		}
	}
	hidden("open")
	// It outranks OpenFlow's highest priority and survives del-flows.
	s.ofctl(t, "add-flow", "br0", "priority=65535,actions=drop")
	s.l.MustRun(s.a.NS, "ip", "neigh", "flush", "all")
	s.ping(t)
	s.ofctl(t, "del-flows", "br0")
	s.ping(t)
	hidden("after del-flows")

	// Secure: the fail-open rule goes, nothing forwards.
	s.g.Vsctl(t, "set-fail-mode", "br0", "secure")
	WaitFor(t, 5*time.Second, "fail-open rule removed", func() bool {
		return !strings.Contains(trace(), "NORMAL")
	})
	s.l.MustRun(s.a.NS, "ip", "neigh", "flush", "all")
	s.a.NoPing(t, s.b.IP)

	// No controller, standalone again: OVS's default rule comes back.
	s.g.Vsctl(t, "del-controller", "br0", "--", "set-fail-mode", "br0", "standalone")
	WaitFor(t, 5*time.Second, "default NORMAL rule", func() bool {
		return strings.Contains(s.ofctl(t, "dump-flows", "br0"), "priority=0 actions=NORMAL")
	})
	s.ping(t)
}
