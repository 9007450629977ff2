package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLearnMACLearning builds a MAC-learning switch out of the learn
// action, as OVS recipes do: table 0 learns "dl_dst=<source MAC>
// actions=output:<in_port>" into table 1 and resubmits there; table 1
// floods what it has not learned. Real ovs-ofctl adds the flows (OpenFlow
// 1.0 with Nicira extensions) and dumps them (1.0 and 1.3), pings between
// two namespaces make the learned flows, more pings follow them, and their
// hard_timeout removes them.
func TestLearnMACLearning(t *testing.T) {
	s := startOFSwitch(t)
	const learn = "learn(table=1,hard_timeout=4,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[])"
	s.ofctl(t, "del-flows", "br0")
	s.ofctl(t, "add-flow", "br0", "table=0,actions="+learn+",resubmit(,1)")
	s.ofctl(t, "add-flow", "br0", "table=1,priority=0,actions=FLOOD")

	// dump-flows prints the learn action as OVS 3.1 prints it, in
	// either protocol (the expected text is OVS's own output for the
	// same add-flow).
	for _, p := range ofProtocols {
		out, err := ofctlIn(s.g.Env(), append(append([]string{}, p.args...), "dump-flows", "br0", "table=0")...)
		if err != nil {
			t.Fatal(err)
		}
		mustHave(t, out, "actions="+learn+",resubmit(,1)")
	}

	s.ping(t)
	macA, macB := s.hostMAC(t, s.a).String(), s.hostMAC(t, s.b).String()
	learned := func() string { return s.ofctl(t, "--no-stats", "dump-flows", "br0", "table=1") }
	want := []string{
		fmt.Sprintf("table=1, hard_timeout=4, dl_dst=%s actions=output:%d", macA, s.pa),
		fmt.Sprintf("table=1, hard_timeout=4, dl_dst=%s actions=output:%d", macB, s.pb),
	}
	WaitFor(t, 3*time.Second, "learned flows", func() bool {
		out := learned()
		return strings.Contains(out, want[0]) && strings.Contains(out, want[1])
	})

	// Traffic now follows the learned flows, not the flood rule.
	before := s.flowPackets(t, "table=1,dl_dst="+macB)
	s.a.PingAll(t, s.b.IP, 3)
	waitCounter(t, "learned flow to b n_packets", before+3, func() int {
		return s.flowPackets(t, "table=1,dl_dst="+macB)
	})

	// The learn path's megaflows are installed: more pings hit them in
	// the datapath while upcalls stay flat (a few are allowed for other
	// traffic the hosts send, such as IPv6 neighbour discovery; before
	// learn megaflows were cached, each of the 20 packets missed), and
	// revalidation replays their learns, refreshing the learned rules.
	hit0, missed0 := dpLookups(t, s)
	refreshed0 := coverageTotal(t, s, "learn_refreshed")
	s.a.PingAll(t, s.b.IP, 10)
	var hit, missed int
	WaitFor(t, 3*time.Second, "megaflow hits for 10 pings", func() bool {
		hit, missed = dpLookups(t, s)
		return hit-hit0 >= 20
	})
	t.Logf("10 pings through the learn flow: %d datapath hits, %d upcalls", hit-hit0, missed-missed0)
	if missed-missed0 > 3 {
		t.Errorf("10 pings through the learn flow made %d upcalls (hits %d)", missed-missed0, hit-hit0)
	}
	WaitFor(t, 3*time.Second, "learn replays refreshing the learned rules", func() bool {
		return coverageTotal(t, s, "learn_refreshed") > refreshed0
	})

	// coverage/show counts what the learn actions did: the first pings
	// made a rule per MAC, and replays refreshed them.
	cov := mustAppctl(t, s.g, "coverage/show")
	for _, name := range []string{"learn_queued", "learn_added", "learn_refreshed"} {
		m := regexp.MustCompile(`(?m)^` + name + ` +.*total: (\d+)$`).FindStringSubmatch(cov)
		if m == nil || m[1] == "0" {
			t.Errorf("coverage/show has no %s count:\n%s", name, cov)
		}
	}
	if n := coverageTotal(t, s, "learn_added"); n < 2 {
		t.Errorf("learn_added total %d, want at least 2 (one rule per MAC)", n)
	}

	// With no traffic, hard_timeout removes them (no megaflow sees
	// packets, so none replays its learn); the flood rule stays.
	WaitFor(t, 10*time.Second, "learned flows to expire", func() bool {
		out := learned()
		return !strings.Contains(out, "dl_dst=") && strings.Contains(out, "priority=0 actions=FLOOD")
	})
	// And traffic learns them again (at the next revalidation round, as
	// the megaflows are still installed).
	s.ping(t)
	WaitFor(t, 3*time.Second, "flows learned again", func() bool { return strings.Contains(learned(), want[1]) })
}

// TestLearnNeutronLike adds the learn action OpenStack Neutron's OVS agent
// installs (VLAN match, loads, output), in both protocols, and checks
// the flow dump and that a packet learns the flow it describes.
func TestLearnNeutronLike(t *testing.T) {
	const learn = "learn(table=20,hard_timeout=300,priority=1,cookie=0x1,NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:0->NXM_OF_VLAN_TCI[],load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],output:NXM_OF_IN_PORT[])"
	for _, p := range ofProtocols {
		t.Run(p.name, func(t *testing.T) {
			s := startOFSwitch(t)
			s.proto = p.args
			s.ofctl(t, "del-flows", "br0")
			s.ofctl(t, "add-flow", "br0", "table=0,priority=10,actions="+learn+",NORMAL")
			mustHave(t, s.ofctl(t, "dump-flows", "br0", "table=0"), "priority=10 actions="+learn+",NORMAL")
			s.ping(t)
			macA := s.hostMAC(t, s.a).String()
			// OVS 3.1 prints the same flow learned from a packet-out as
			// " cookie=0x1, table=20, hard_timeout=300, priority=1,
			// vlan_tci=0x0000/0x0fff,dl_dst=<mac> actions=load:0->
			// NXM_OF_VLAN_TCI[],load:0->NXM_NX_TUN_ID[],LOCAL".
			re := regexp.MustCompile(`cookie=0x1, table=20, hard_timeout=300, priority=1,vlan_tci=0x0000/0x0fff,dl_dst=` + macA +
				` actions=load:0->NXM_OF_VLAN_TCI\[\],load:0->NXM_NX_TUN_ID\[\],output:` + fmt.Sprint(s.pa))
			deadline := time.Now().Add(3 * time.Second)
			for out := ""; !re.MatchString(out); out = s.ofctl(t, "--no-stats", "dump-flows", "br0", "table=20") {
				if time.Now().After(deadline) {
					t.Fatalf("no learned flow matching %s in:\n%s", re, out)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// dpLookups returns dpctl/show's datapath lookup counters: packets that hit
// a cached flow, and packets that missed (took an upcall).
func dpLookups(t *testing.T, s *ofSwitch) (hit, missed int) {
	t.Helper()
	out := mustAppctl(t, s.g, "dpctl/show")
	m := regexp.MustCompile(`lookups: hit:(\d+) missed:(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("dpctl/show has no lookups:\n%s", out)
	}
	hit, _ = strconv.Atoi(m[1])
	missed, _ = strconv.Atoi(m[2])
	return hit, missed
}

// coverageTotal returns the total of counter name in coverage/show (0 if
// it is not listed).
func coverageTotal(t *testing.T, s *ofSwitch, name string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + name + ` +.*total: (\d+)$`).FindStringSubmatch(mustAppctl(t, s.g, "coverage/show"))
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestLearnDeleteLearned: with delete_learned, deleting the learning rule
// (ovs-ofctl del-flows) deletes the flows it learned (its table and
// cookie), and leaves the other flows of that table.
func TestLearnDeleteLearned(t *testing.T) {
	s := startOFSwitch(t)
	const learn = "learn(table=1,cookie=0x5,delete_learned,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[])"
	s.ofctl(t, "del-flows", "br0")
	s.ofctl(t, "add-flow", "br0", "table=0,priority=10,actions="+learn+",resubmit(,1)")
	s.ofctl(t, "add-flow", "br0", "table=1,priority=0,actions=FLOOD")
	// ovs-ofctl prints the flags before the cookie, as OVS does.
	mustHave(t, s.ofctl(t, "dump-flows", "br0", "table=0"),
		"learn(table=1,delete_learned,cookie=0x5,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[])")

	s.ping(t)
	learned := func() int {
		return strings.Count(s.ofctl(t, "--no-stats", "dump-flows", "br0", "table=1,cookie=0x5/-1"), "dl_dst=")
	}
	WaitFor(t, 3*time.Second, "two learned flows", func() bool { return learned() == 2 })

	s.ofctl(t, "del-flows", "br0", "table=0")
	if n := learned(); n != 0 {
		t.Fatalf("%d learned flows left after their learn rule was deleted:\n%s", n, s.ofctl(t, "dump-flows", "br0"))
	}
	mustHave(t, s.ofctl(t, "--no-stats", "dump-flows", "br0", "table=1"), "priority=0 actions=FLOOD")
}
