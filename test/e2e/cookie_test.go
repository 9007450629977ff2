package e2e

import (
	"strings"
	"testing"
)

// TestOfctlCookieFilters: ovs-ofctl's cookie=VALUE/MASK selects rules in
// dump-flows, mod-flows and del-flows, in both of its protocols (with
// OpenFlow 1.0 the filter travels as NXM_NX_COOKIE_W in the Nicira
// messages' match). A mod-flows with a cookie filter keeps the cookies.
// One without a cookie resets them to 0 over OpenFlow 1.0 and keeps them
// over 1.3: that is what OVS 3.1 does (checked against it).
func TestOfctlCookieFilters(t *testing.T) {
	s := startOFSwitch(t)
	kept := map[string]int{"default": 1, "OpenFlow13": 2}
	for _, p := range ofProtocols {
		t.Run(p.name, func(t *testing.T) {
			s.proto = p.args
			s.ofctl(t, "del-flows", "br0")
			for _, f := range []string{
				"cookie=0x5,priority=1,ip,actions=drop",
				"cookie=0x5,priority=2,arp,actions=drop",
				"cookie=0x6,priority=3,ipv6,actions=drop",
			} {
				s.ofctl(t, "add-flow", "br0", f)
			}
			count := func(filter string) int {
				return strings.Count(s.ofctl(t, "--no-stats", "dump-flows", "br0", filter), "actions=")
			}
			if n := count("cookie=0x5/-1"); n != 2 {
				t.Errorf("dump-flows cookie=0x5/-1 lists %d rules, want 2", n)
			}
			s.ofctl(t, "mod-flows", "br0", "cookie=0x6/-1,actions=NORMAL")
			if n := strings.Count(s.ofctl(t, "--no-stats", "dump-flows", "br0"), "actions=NORMAL"); n != 1 {
				t.Errorf("mod-flows cookie=0x6/-1 changed %d rules, want 1", n)
			}
			if n := count("cookie=0x6/-1"); n != 1 {
				t.Errorf("mod-flows cookie=0x6/-1 changed the rule's cookie:\n%s", s.ofctl(t, "dump-flows", "br0"))
			}
			s.ofctl(t, "mod-flows", "br0", "arp,actions=drop")
			if n := count("cookie=0x5/-1"); n != kept[p.name] {
				t.Errorf("after a mod-flows without cookie, %d rules keep cookie 0x5, want %d:\n%s", n, kept[p.name], s.ofctl(t, "dump-flows", "br0"))
			}
			s.ofctl(t, "del-flows", "br0", "cookie=0x5/-1")
			if n, all := count("cookie=0x5/-1"), count(""); n != 0 || all != 3-kept[p.name] {
				t.Errorf("after del-flows cookie=0x5/-1: %d with the cookie, %d in all; want 0, %d", n, all, 3-kept[p.name])
			}
		})
	}
}
