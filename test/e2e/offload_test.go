package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestOffloadCrossConnect runs the OVS-DPDK recipe's cross-connect
// (in_port=1,actions=output:2 and back) between two namespaces on afxdp
// ports with other_config:hw-offload=true: the kernel forwards both
// directions, the PMD sees none of it, the OpenFlow and port counters
// still count it, and a deleted rule stops the traffic at once.
func TestOffloadCrossConnect(t *testing.T) {
	s := startOFSwitchTypes(t, "afxdp")
	g, a, b := s.g, s.a, s.b
	g.Vsctl(t, "set", "Open_vSwitch", ".", "other_config:hw-offload=true")
	s.ofctl(t, "del-flows", "br0")
	s.ofctl(t, "add-flow", "br0", fmt.Sprintf("in_port=%d,actions=output:%d", s.pa, s.pb))
	s.ofctl(t, "add-flow", "br0", fmt.Sprintf("in_port=%d,actions=output:%d", s.pb, s.pa))
	a.WaitPing(t, b.IP, 10*time.Second)

	odp := odpPorts(t, g)
	offloaded := func() map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(mustAppctl(t, g, "dpctl/dump-flows", "-m"), "\n") {
			if sm := regexp.MustCompile(`in_port\((\d+)\),.*, offloaded:yes, dp:tc, actions:(\d+)$`).FindStringSubmatch(l); sm != nil {
				m[sm[1]+">"+sm[2]] = true
			}
		}
		return m
	}
	both := func() bool {
		m := offloaded()
		return m[odp[a.Port]+">"+odp[b.Port]] && m[odp[b.Port]+">"+odp[a.Port]]
	}

	WaitFor(t, 10*time.Second, "both directions forwarded in the kernel", both)
	if out := mustAppctl(t, g, "dpctl/dump-flows", "type=offloaded"); strings.Count(out, "\n") != 2 {
		t.Errorf("dump-flows type=offloaded:\n%s", out)
	}
	if out := mustAppctl(t, g, "dpctl/dump-flows", "type=ovs"); out != "" {
		t.Errorf("dump-flows type=ovs lists offloaded megaflows:\n%s", out)
	}

	rulePackets := func() int {
		total := 0
		for _, m := range regexp.MustCompile(`n_packets=(\d+)`).FindAllStringSubmatch(s.ofctl(t, "dump-flows", "br0"), -1) {
			n, _ := strconv.Atoi(m[1])
			total += n
		}
		return total
	}
	const n = 20
	pmdBefore, rulesBefore := pmdPackets(t, g), rulePackets()
	_, got, out := a.Ping(b.IP, n, 20*time.Millisecond)
	if got < n/2 {
		t.Fatalf("%d/%d pings answered through the kernel:\n%s", got, n, out)
	}
	if d := pmdPackets(t, g) - pmdBefore; d > 2 {
		t.Errorf("the PMD received %d packets during %d offloaded pings", d, got)
	}
	// Rule statistics are credited each revalidation round (500 ms).
	WaitFor(t, 5*time.Second, "rule counters to count the pings", func() bool {
		return rulePackets()-rulesBefore >= 2*got
	})
	dpShow := mustAppctl(t, g, "dpctl/show", "-s")
	if m := regexp.MustCompile(`port ` + odp[a.Port] + `: ` + a.Port + ` \(afxdp\)\n    RX packets:(\d+)`).FindStringSubmatch(dpShow); m == nil {
		t.Errorf("dpctl/show -s lacks %s:\n%s", a.Port, dpShow)
	} else if rx, _ := strconv.Atoi(m[1]); rx < got {
		t.Errorf("%s RX packets %d after %d offloaded pings", a.Port, rx, got)
	}

	// A deleted rule: when ovs-ofctl returns (after its barrier), the
	// kernel no longer forwards a -> b.
	s.ofctl(t, "del-flows", "br0", fmt.Sprintf("in_port=%d", s.pa))
	if m := offloaded(); m[odp[a.Port]+">"+odp[b.Port]] {
		t.Errorf("a -> b still offloaded after its rule was deleted")
	}
	a.NoPing(t, b.IP)
	s.ofctl(t, "add-flow", "br0", fmt.Sprintf("in_port=%d,actions=output:%d", s.pa, s.pb))
	a.WaitPing(t, b.IP, 10*time.Second)
	WaitFor(t, 10*time.Second, "a -> b forwarded in the kernel again", both)

	// hw-offload=false brings every packet back to the PMD.
	g.Vsctl(t, "set", "Open_vSwitch", ".", "other_config:hw-offload=false")
	WaitFor(t, 10*time.Second, "no megaflow offloaded", func() bool { return len(offloaded()) == 0 })
	pmdBefore = pmdPackets(t, g)
	a.PingAll(t, b.IP, 5)
	if d := pmdPackets(t, g) - pmdBefore; d < 10 {
		t.Errorf("the PMD received %d packets for 5 pings with hw-offload=false", d)
	}
}
