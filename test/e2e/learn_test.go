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

	// coverage/show counts what the learn actions did: each ping is
	// learned again (the translation is not cached), and the first ones
	// made a rule per MAC.
	cov := mustAppctl(t, s.g, "coverage/show")
	for _, name := range []string{"learn_queued", "learn_added", "learn_refreshed"} {
		m := regexp.MustCompile(`(?m)^` + name + ` +.*total: (\d+)$`).FindStringSubmatch(cov)
		if m == nil || m[1] == "0" {
			t.Errorf("coverage/show has no %s count:\n%s", name, cov)
		}
	}
	if m := regexp.MustCompile(`(?m)^learn_added +.*total: (\d+)$`).FindStringSubmatch(cov); m != nil {
		if n, _ := strconv.Atoi(m[1]); n < 2 {
			t.Errorf("learn_added total %d, want at least 2 (one rule per MAC)", n)
		}
	}

	// With no traffic, hard_timeout removes them; the flood rule stays.
	WaitFor(t, 10*time.Second, "learned flows to expire", func() bool {
		out := learned()
		return !strings.Contains(out, "dl_dst=") && strings.Contains(out, "priority=0 actions=FLOOD")
	})
	// And traffic learns them again.
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
