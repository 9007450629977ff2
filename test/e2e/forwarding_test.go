package e2e

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The forwarding tests run the live switch (no --log-switch): govs in its
// own network namespace and OVS_RUNDIR, configured with ovs-vsctl, with
// ping and iperf3 between host namespaces as the clients. Bridges get
// OVS's default flow (priority=0,actions=NORMAL), so they are learning
// switches.

// minRate is the least iperf3 rate that counts as forwarding: far below
// what a working switch reaches on these machines (above 500 Mbit/s), far
// above what a switch dropping or reordering much would give.
const minRate = 20e6

// startSwitch starts govs in a new Lab and adds br0 as OVS's userspace
// (OVS-DPDK) recipes do.
func startSwitch(t *testing.T) (*Lab, *Govs) {
	t.Helper()
	l := NewLab(t)
	g := l.Govs(t)
	g.Start(t)
	g.Vsctl(t, "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev")
	return l, g
}

// addPort adds h's switch-side interface to bridge br with Interface type
// typ ("" leaves it unset: system, OVS's default for a kernel device) and
// further `set Interface` columns, and returns the ofport it got, failing
// the test if the Interface reports an error.
func addPort(t *testing.T, g *Govs, br string, h *Host, typ string, cols ...string) int {
	t.Helper()
	args := []string{"add-port", br, h.Port}
	if typ != "" {
		cols = append([]string{"type=" + typ}, cols...)
	}
	if len(cols) > 0 {
		args = append(append(args, "--", "set", "Interface", h.Port), cols...)
	}
	g.Vsctl(t, args...)
	return ofport(t, g, h.Port)
}

// ofport returns the Interface's ofport, failing the test if it has an
// error.
func ofport(t *testing.T, g *Govs, iface string) int {
	t.Helper()
	if e := g.Get(t, "Interface", iface, "error"); e != "[]" {
		t.Fatalf("Interface %s error: %s", iface, e)
	}
	n, err := strconv.Atoi(g.Get(t, "Interface", iface, "ofport"))
	if err != nil || n <= 0 {
		t.Fatalf("Interface %s ofport = %d (%v)", iface, n, err)
	}
	return n
}

// checkTraffic pings from a to b until it answers, then wants 20 pings
// out of 20 and an iperf3 rate of at least minRate.
func checkTraffic(t *testing.T, a, b *Host) {
	t.Helper()
	a.WaitPing(t, b.IP, 10*time.Second)
	a.PingAll(t, b.IP, 20)
	rate := a.Iperf3(t, b, 2)
	t.Logf("iperf3 %s -> %s: %.0f Mbit/s", a.Dev, b.Dev, rate/1e6)
	if rate < minRate {
		t.Errorf("iperf3 rate %.1f Mbit/s, want at least %.0f", rate/1e6, minRate/1e6)
	}
}

// checkStatsAfterIperf wants the periodic statistics write-back to show
// the iperf3 test's bytes (at least 10 MB) on both ports, received from
// a and sent to b.
func checkStatsAfterIperf(t *testing.T, g *Govs, a, b *Host) {
	t.Helper()
	const least = 10 << 20
	var sa, sb map[string]int
	deadline := time.Now().Add(7 * time.Second)
	for {
		sa, sb = ifaceStats(t, g, a.Port), ifaceStats(t, g, b.Port)
		if sa["rx_bytes"] >= least && sb["tx_bytes"] >= least {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("statistics after iperf3: %s %v, %s %v; want rx_bytes and tx_bytes of at least %d", a.Port, sa, b.Port, sb, least)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestForwardingNormal: ping and iperf3 between two namespaces through
// NORMAL, for each kernel-facing port type.
func TestForwardingNormal(t *testing.T) {
	for _, typ := range []string{"afxdp", "system"} {
		t.Run(typ, func(t *testing.T) {
			l, g := startSwitch(t)
			a := l.Host("a", "10.0.0.1/24")
			b := l.Host("b", "10.0.0.2/24")
			vsType := typ
			if typ == "system" {
				vsType = "" // unset: what `add-port br0 eth0` means in OVS
			}
			addPort(t, g, "br0", a, vsType)
			addPort(t, g, "br0", b, vsType)
			if typ == "afxdp" {
				if !l.HasXDP(t, a.Port) {
					t.Errorf("no XDP program on %s", a.Port)
				}
				t.Logf("%s status: %s", a.Port, g.Get(t, "Interface", a.Port, "status"))
			}
			checkTraffic(t, a, b)
			checkStatsAfterIperf(t, g, a, b)
		})
	}
	// tap: govs creates the TAPs (type=tap) in its namespace and the test
	// moves each into a host namespace, where it is the host's interface.
	// That keeps both endpoints real network stacks in namespaces of their
	// own, with no addresses in the root namespace. (govs keeps reading
	// the TAP's file descriptor; only its view of the link state, polled
	// by name in its own namespace, goes "down" once the device has left.)
	t.Run("tap", func(t *testing.T) {
		l, g := startSwitch(t)
		var hosts [2]*Host
		for i, n := range []string{"a", "b"} {
			port := l.Tag + "t" + n
			g.Vsctl(t, "add-port", "br0", port, "--", "set", "Interface", port, "type=tap")
			ofport(t, g, port)
			hosts[i] = l.TapHost(n, port, fmt.Sprintf("10.0.0.%d/24", i+1))
		}
		checkTraffic(t, hosts[0], hosts[1])
		checkStatsAfterIperf(t, g, hosts[0], hosts[1])
	})
}

// TestForwardingOVSDPDKRecipe follows the OVS-DPDK recipe verbatim with
// kernel devices in place of DPDK ones: add-br with datapath_type=netdev,
// add-port, ofport_request, del-port, del-br; traffic follows each step.
func TestForwardingOVSDPDKRecipe(t *testing.T) {
	l, g := startSwitch(t)
	a := l.Host("a", "10.0.0.1/24")
	b := l.Host("b", "10.0.0.2/24")
	g.Vsctl(t, "add-port", "br0", a.Port)
	g.Vsctl(t, "add-port", "br0", b.Port)
	if pa, pb := ofport(t, g, a.Port), ofport(t, g, b.Port); pa != 1 || pb != 2 {
		t.Errorf("ofports %d, %d; want 1, 2", pa, pb)
	}
	if got := g.Get(t, "Interface", "br0", "ofport"); got != "65534" {
		t.Errorf("br0 ofport = %s, want 65534", got)
	}
	if !l.LinkExists(l.SW, "br0") {
		t.Error("no internal port br0 in the switch namespace")
	}
	a.WaitPing(t, b.IP, 10*time.Second)
	a.PingAll(t, b.IP, 20)

	g.Vsctl(t, "set", "Interface", b.Port, "ofport_request=10")
	if got := ofport(t, g, b.Port); got != 10 {
		t.Errorf("ofport after ofport_request=10: %d", got)
	}
	a.WaitPing(t, b.IP, 10*time.Second)
	a.PingAll(t, b.IP, 20)

	g.Vsctl(t, "del-port", "br0", b.Port)
	a.NoPing(t, b.IP)
	if !l.LinkExists(l.SW, b.Port) {
		t.Errorf("del-port removed the kernel device %s", b.Port)
	}
	// The device is free again: adding it back works at once.
	g.Vsctl(t, "add-port", "br0", b.Port)
	ofport(t, g, b.Port)
	a.WaitPing(t, b.IP, 10*time.Second)

	g.Vsctl(t, "del-br", "br0")
	a.NoPing(t, b.IP)
	if got := g.Vsctl(t, "list-br"); got != "" {
		t.Errorf("list-br after del-br: %q", got)
	}
	WaitFor(t, 5*time.Second, "internal port br0 removed", func() bool { return !l.LinkExists(l.SW, "br0") })
	for _, p := range []string{a.Port, b.Port} {
		if !l.LinkExists(l.SW, p) {
			t.Errorf("del-br removed the kernel device %s", p)
		}
	}
}

// ifaceStats reads the statistics column from `ovs-vsctl list Interface`.
func ifaceStats(t *testing.T, g *Govs, iface string) map[string]int {
	t.Helper()
	out := g.Vsctl(t, "list", "Interface", iface)
	m := regexp.MustCompile(`(?m)^statistics\s*:\s*\{(.*)\}$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no statistics in:\n%s", out)
	}
	st := map[string]int{}
	for _, kv := range strings.Split(m[1], ", ") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("statistics %q: %v", kv, err)
		}
		st[k] = n
	}
	return st
}

// TestForwardingStatistics: Interface statistics grow with traffic, written
// back by the periodic update (every 5 s, OVS's default and least
// stats-update-interval; no other database change triggers a write-back
// meanwhile).
func TestForwardingStatistics(t *testing.T) {
	l, g := startSwitch(t)
	a := l.Host("a", "10.0.0.1/24")
	b := l.Host("b", "10.0.0.2/24")
	addPort(t, g, "br0", a, "afxdp")
	addPort(t, g, "br0", b, "afxdp")
	a.WaitPing(t, b.IP, 10*time.Second)

	before := map[string]map[string]int{a.Port: ifaceStats(t, g, a.Port), b.Port: ifaceStats(t, g, b.Port)}
	const n = 200
	if sent, recv, out := a.Ping(b.IP, n, 5*time.Millisecond); sent != n || recv != n {
		t.Fatalf("%d/%d pings answered:\n%s", recv, n, out)
	}
	// Each echo request and reply is a 98-byte frame; the switch received
	// n of each on one port and sent them on the other.
	grown := func(p string) (bool, string) {
		now := ifaceStats(t, g, p)
		for _, k := range []string{"rx_packets", "tx_packets"} {
			if now[k]-before[p][k] < n {
				return false, fmt.Sprintf("%s %s %d -> %d", p, k, before[p][k], now[k])
			}
		}
		for _, k := range []string{"rx_bytes", "tx_bytes"} {
			if now[k]-before[p][k] < n*98 {
				return false, fmt.Sprintf("%s %s %d -> %d", p, k, before[p][k], now[k])
			}
		}
		return true, ""
	}
	deadline := time.Now().Add(12 * time.Second)
	for _, p := range []string{a.Port, b.Port} {
		for {
			ok, why := grown(p)
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("statistics did not grow with %d pings: %s", n, why)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	st := ifaceStats(t, g, a.Port)
	for _, k := range []string{"rx_dropped", "rx_errors", "tx_dropped", "tx_errors"} {
		if _, ok := st[k]; !ok {
			t.Errorf("statistics lacks %s: %v", k, st)
		}
	}
}

// TestForwardingVLAN: access ports (tag) isolate VLANs; a trunk port
// (trunks) carries tagged frames of its VLANs and no others.
//
//	a  tag=10  10.0.10.1        t  trunks=10,20: scapy sends tagged frames
//	e  tag=10  10.0.10.3
//	c  tag=20  10.0.10.2                         from 10.0.10.9 (VLAN 10),
//	b  tag=20  10.0.20.2                         10.0.20.9 (20), 10.0.30.9 (30);
//	d  tag=30  10.0.30.4                         untagged 192.168.99.9
//	u  (none)  192.168.99.1     s  the same as t on a system port (.19)
//
// c shares a's subnet but not its VLAN; d's VLAN is not on the trunk; u
// (no tag, no trunks) carries every VLAN, the trunk's untagged VLAN 0 not.
func TestForwardingVLAN(t *testing.T) {
	RequireScapy(t)
	l, g := startSwitch(t)
	a := l.Host("a", "10.0.10.1/24")
	e := l.Host("e", "10.0.10.3/24")
	c := l.Host("c", "10.0.10.2/24")
	b := l.Host("b", "10.0.20.2/24")
	d := l.Host("d", "10.0.30.4/24")
	u := l.Host("u", "192.168.99.1/24")
	tr := l.Host("t", "192.168.99.9/24")
	ts := l.Host("s", "192.168.99.19/24")
	for _, h := range []*Host{a, e, c, b, d, u, tr} {
		addPort(t, g, "br0", h, "afxdp")
	}
	addPort(t, g, "br0", ts, "") // system: AF_PACKET hands tags over out of band
	g.Vsctl(t, "set", "Port", a.Port, "tag=10")
	g.Vsctl(t, "set", "Port", e.Port, "tag=10")
	g.Vsctl(t, "set", "Port", c.Port, "tag=20")
	g.Vsctl(t, "set", "Port", b.Port, "tag=20")
	g.Vsctl(t, "set", "Port", d.Port, "tag=30")
	g.Vsctl(t, "set", "Port", tr.Port, "trunks=10,20")
	g.Vsctl(t, "set", "Port", ts.Port, "trunks=10,20")

	// Access ports: same VLAN talks, different VLANs do not, even on one
	// subnet.
	a.WaitPing(t, e.IP, 10*time.Second)
	a.PingAll(t, e.IP, 10)
	a.NoPing(t, c.IP)
	// Untagged frames from the trunk are VLAN 0, which trunks=10,20 leaves out.
	tr.NoPing(t, u.IP)

	const n = 5
	// The same probes from each trunk, with addresses of its own.
	probes := func(host int) []TagProbe {
		src := func(vlan int) string { return fmt.Sprintf("10.0.%d.%d", vlan, host) }
		return []TagProbe{
			{VLAN: 10, Src: src(10), Dst: a.IP, Count: n}, // 0: VLAN 10 reaches a
			{VLAN: 20, Src: src(20), Dst: b.IP, Count: n}, // 1: VLAN 20 reaches b
			{VLAN: 20, Src: src(10), Dst: c.IP, Count: n}, // 2: VLAN 20 reaches c
			{VLAN: 10, Src: src(10), Dst: c.IP, Count: n}, // 3: VLAN 10 does not
			{VLAN: 30, Src: src(30), Dst: d.IP, Count: n}, // 4: VLAN 30 is not trunked
		}
	}
	trunks := []struct {
		h    *Host
		host int
		wait func(testing.TB) []TagResult
	}{{h: tr, host: 9}, {h: ts, host: 19}}
	for i := range trunks {
		trunks[i].wait = trunks[i].h.StartTagProbes(t, probes(trunks[i].host)...)
	}
	for _, trunk := range trunks {
		ps := probes(trunk.host)
		res := trunk.wait(t)
		t.Logf("tagged probes from trunk %s: %+v", trunk.h.Port, res)
		for i, r := range res {
			p := ps[i]
			if i >= 3 {
				if r.ARP || r.Echo > 0 {
					t.Errorf("trunk %s: VLAN %d reached %s (must be isolated): %+v", trunk.h.Port, p.VLAN, p.Dst, r)
				}
				continue
			}
			if !r.ARP || r.Echo != n {
				t.Errorf("trunk %s: VLAN %d to %s: %+v, want ARP answered and %d echoes", trunk.h.Port, p.VLAN, p.Dst, r, n)
			}
			for _, tag := range r.Tags {
				if tag != p.VLAN {
					t.Errorf("trunk %s: VLAN %d to %s: an answer came back with tag %d (-1: none)", trunk.h.Port, p.VLAN, p.Dst, tag)
					break
				}
			}
		}
	}

	// Adding VLAN 30 to the trunk lets it through.
	g.Vsctl(t, "set", "Port", tr.Port, "trunks=10,20,30")
	if r := tr.TagProbes(t, probes(9)[4])[0]; !r.ARP || r.Echo != n {
		t.Errorf("VLAN 30 after trunks=10,20,30: %+v", r)
	}
}

// TestForwardingPatch: two bridges joined by a pair of patch ports.
func TestForwardingPatch(t *testing.T) {
	l, g := startSwitch(t)
	g.Vsctl(t, "add-br", "br1", "--", "set", "bridge", "br1", "datapath_type=netdev")
	a := l.Host("a", "10.0.0.1/24")
	b := l.Host("b", "10.0.0.2/24")
	addPort(t, g, "br0", a, "afxdp")
	addPort(t, g, "br1", b, "afxdp")
	a.NoPing(t, b.IP)
	g.Vsctl(t,
		"add-port", "br0", "patch-br1", "--", "set", "Interface", "patch-br1", "type=patch", "options:peer=patch-br0", "--",
		"add-port", "br1", "patch-br0", "--", "set", "Interface", "patch-br0", "type=patch", "options:peer=patch-br1")
	for _, p := range []string{"patch-br0", "patch-br1"} {
		ofport(t, g, p)
	}
	checkTraffic(t, a, b)
	g.Vsctl(t, "del-port", "br1", "patch-br0")
	a.NoPing(t, b.IP)
}

// portsAdded returns interface -> ofport from govs' "port added" log lines.
func portsAdded(out string) map[string]int {
	m := map[string]int{}
	for _, s := range regexp.MustCompile(`msg="port added" bridge=\S+ interface=(\S+) type=\S+ ofport=(\d+)`).FindAllStringSubmatch(out, -1) {
		m[s[1]], _ = strconv.Atoi(s[2])
	}
	return m
}

// TestForwardingOVSDBServerKilled: ovsdb-server dies (SIGKILL) while a ping
// runs; forwarding goes on, govs restarts the server, reconnects without
// rebuilding its ports, and applies a later change.
func TestForwardingOVSDBServerKilled(t *testing.T) {
	l, g := startSwitch(t)
	a := l.Host("a", "10.0.0.1/24")
	b := l.Host("b", "10.0.0.2/24")
	c := l.Host("c", "10.0.0.3/24")
	addPort(t, g, "br0", a, "afxdp")
	addPort(t, g, "br0", b, "afxdp")
	a.WaitPing(t, b.IP, 10*time.Second)
	added := len(portsAdded(g.Output()))

	const n = 100
	wait := a.BackgroundPing(t, b.IP, n, 50*time.Millisecond)
	time.Sleep(time.Second)
	old := g.ServerPid()
	if old == 0 {
		t.Fatal("no ovsdb-server pidfile")
	}
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	WaitFor(t, 10*time.Second, "ovsdb-server restarted", func() bool {
		pid := g.ServerPid()
		if pid == 0 || pid == old {
			return false
		}
		_, err := g.VsctlErr("--timeout=1", "--no-wait", "show")
		return err == nil
	})
	// A change made now is applied (ovs-vsctl waits for cur_cfg) and
	// forwards.
	addPort(t, g, "br0", c, "afxdp")
	c.WaitPing(t, a.IP, 10*time.Second)

	sent, recv, out := wait()
	if sent != n || recv != n {
		t.Errorf("ping during the ovsdb-server restart: %d/%d answered:\n%s", recv, sent, out)
	}
	if strings.Contains(g.Output(), `msg="port deleted"`) {
		t.Errorf("govs removed ports on reconnect:\n%s", g.Output())
	}
	if got := len(portsAdded(g.Output())); got != added+1 {
		t.Errorf("ports added: %d before, %d after reconnect and one add-port; want one more", added, got)
	}
}

// TestForwardingGovsRestart: SIGTERM removes govs' XDP programs and TAPs;
// started again on the same directories, govs comes back with the same
// ports and ofports, and traffic flows.
func TestForwardingGovsRestart(t *testing.T) {
	l, g := startSwitch(t)
	a := l.Host("a", "10.0.0.1/24")
	b := l.Host("b", "10.0.0.2/24")
	c := l.Host("c", "10.0.0.3/24")
	addPort(t, g, "br0", a, "afxdp")
	addPort(t, g, "br0", c, "") // system
	addPort(t, g, "br0", b, "afxdp", "ofport_request=7")
	want := map[string]int{}
	for _, p := range []string{a.Port, b.Port, c.Port} {
		want[p] = ofport(t, g, p)
	}
	a.WaitPing(t, b.IP, 10*time.Second)
	a.WaitPing(t, c.IP, 10*time.Second)
	for _, p := range []string{a.Port, b.Port} {
		if !l.HasXDP(t, p) {
			t.Fatalf("no XDP program on %s while govs runs", p)
		}
	}

	g.Stop(t)
	for _, p := range []string{a.Port, b.Port} {
		if l.HasXDP(t, p) {
			t.Errorf("XDP program left on %s after SIGTERM:\n%s", p, l.MustRun(l.SW, "ip", "link", "show", "dev", p))
		}
	}
	if l.LinkExists(l.SW, "br0") {
		t.Error("internal port br0 left after SIGTERM")
	}

	g.Start(t)
	WaitFor(t, 10*time.Second, "ports added again", func() bool { return len(portsAdded(g.Output())) >= 4 })
	got := portsAdded(g.Output())
	for p, n := range want {
		if got[p] != n {
			t.Errorf("%s: ofport %d after restart, %d before", p, got[p], n)
		}
		if db := ofport(t, g, p); db != n {
			t.Errorf("%s: database ofport %d after restart, %d before", p, db, n)
		}
	}
	if !l.LinkExists(l.SW, "br0") {
		t.Error("internal port br0 not back after restart")
	}
	for _, p := range []string{a.Port, b.Port} {
		if !l.HasXDP(t, p) {
			t.Errorf("no XDP program on %s after restart", p)
		}
	}
	a.WaitPing(t, b.IP, 10*time.Second)
	a.PingAll(t, b.IP, 20)
	a.WaitPing(t, c.IP, 10*time.Second)
	a.PingAll(t, c.IP, 20)
}

// TestForwardingBadConfig: an unknown type, a missing kernel device and a
// bad option each show in that Interface's error column with ofport -1,
// and a ping between two good ports loses nothing meanwhile. Fixing the
// option brings the port up.
func TestForwardingBadConfig(t *testing.T) {
	l, g := startSwitch(t)
	a := l.Host("a", "10.0.0.1/24")
	b := l.Host("b", "10.0.0.2/24")
	c := l.Host("c", "10.0.0.3/24")
	addPort(t, g, "br0", a, "afxdp")
	addPort(t, g, "br0", b, "afxdp")
	a.WaitPing(t, b.IP, 10*time.Second)

	const n = 80
	wait := a.BackgroundPing(t, b.IP, n, 50*time.Millisecond)
	missing := l.Tag + "nx"
	for _, tc := range []struct {
		name, iface string
		cols        []string
		wantErr     string
	}{
		{"unknown type", l.Tag + "bad", []string{"type=bogus"}, "bogus"},
		{"missing device", missing, nil, missing},
		{"bad option", c.Port, []string{"type=afxdp", "options:xdp-mode=bogus"}, "xdp-mode"},
	} {
		args := []string{"add-port", "br0", tc.iface}
		if len(tc.cols) > 0 {
			args = append(append(args, "--", "set", "Interface", tc.iface), tc.cols...)
		}
		// ovs-vsctl itself warns about the error column; that is expected.
		g.VsctlErr(append([]string{"--timeout=5"}, args...)...)
		if got := g.Get(t, "Interface", tc.iface, "ofport"); got != "-1" {
			t.Errorf("%s: ofport = %s, want -1", tc.name, got)
		}
		if got := g.Get(t, "Interface", tc.iface, "error"); !strings.Contains(got, tc.wantErr) {
			t.Errorf("%s: error = %s, want it to mention %q", tc.name, got, tc.wantErr)
		} else {
			t.Logf("%s: error = %s", tc.name, got)
		}
	}
	sent, recv, out := wait()
	if sent != n || recv != n {
		t.Errorf("ping between good ports while bad ones were added: %d/%d answered:\n%s", recv, sent, out)
	}
	if strings.Contains(g.Output(), `msg="port deleted"`) {
		t.Errorf("a bad interface disturbed the good ports:\n%s", g.Output())
	}

	g.Vsctl(t, "set", "Interface", c.Port, "options:xdp-mode=generic")
	ofport(t, g, c.Port)
	c.WaitPing(t, a.IP, 10*time.Second)
}

// TestForwardingGovsKilled: govs dies by SIGKILL, as in a crash. Its XDP
// programs go with it (they are attached through bpf_links the kernel
// drops with the process), so does its ovsdb-server, and a new govs on the
// same directories comes back with the same ports and ofports.
func TestForwardingGovsKilled(t *testing.T) {
	l, g := startSwitch(t)
	a := l.Host("a", "10.0.0.1/24")
	b := l.Host("b", "10.0.0.2/24")
	pa := addPort(t, g, "br0", a, "afxdp")
	pb := addPort(t, g, "br0", b, "afxdp", "ofport_request=5")
	a.WaitPing(t, b.IP, 10*time.Second)
	srv := g.ServerPid()

	g.Kill(t)
	t.Cleanup(func() {
		// Whatever the outcome, no ovsdb-server of this test survives it.
		if srv > 0 && processAlive(srv) {
			syscall.Kill(srv, syscall.SIGKILL)
		}
	})
	// govs' ovsdb-server is told to go too (it would otherwise hold the
	// pidfile and the database lock against the next govs).
	WaitFor(t, 5*time.Second, "ovsdb-server gone with govs", func() bool { return !processAlive(srv) })
	WaitFor(t, 5*time.Second, "XDP programs gone with govs", func() bool {
		return !l.HasXDP(t, a.Port) && !l.HasXDP(t, b.Port)
	})

	g.Start(t)
	WaitFor(t, 10*time.Second, "ports added again", func() bool {
		if len(portsAdded(g.Output())) >= 3 {
			return true
		}
		if g.Exited() {
			t.Fatalf("govs exited:\n%s", g.Output())
		}
		return false
	})
	got := portsAdded(g.Output())
	if got[a.Port] != pa || got[b.Port] != pb {
		t.Errorf("ofports after restart: %s=%d %s=%d, want %d, %d", a.Port, got[a.Port], b.Port, got[b.Port], pa, pb)
	}
	a.WaitPing(t, b.IP, 10*time.Second)
	a.PingAll(t, b.IP, 20)
	// The database is served and govs follows changes.
	c := l.Host("c", "10.0.0.3/24")
	addPort(t, g, "br0", c, "afxdp")
	c.WaitPing(t, a.IP, 10*time.Second)
}

// processAlive reports whether pid runs (a zombie does not count).
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
