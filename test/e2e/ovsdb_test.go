package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// switchCalls extracts the LogSwitch calls from govs' log output.
func switchCalls(out string) []string {
	var calls []string
	for _, m := range regexp.MustCompile(`msg="switch: ((?:[^"\\]|\\.)*)"`).FindAllStringSubmatch(out, -1) {
		calls = append(calls, strings.ReplaceAll(m[1], `\"`, `"`))
	}
	return calls
}

// callsSince returns the calls logged after the first n.
func callsSince(g *Govs, n int) []string { return switchCalls(g.Output())[n:] }

func wantCalls(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("switch calls:\n got: %q\nwant: %q", got, want)
	}
}

// timedVsctl runs ovs-vsctl and fails if it took long: ovs-vsctl waits for
// cur_cfg, so a slow return means govs did not acknowledge the change.
func timedVsctl(t *testing.T, g *Govs, args ...string) string {
	t.Helper()
	start := time.Now()
	out := g.Vsctl(t, args...)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("ovs-vsctl %v took %v: cur_cfg not written back promptly", args, d)
	}
	return out
}

func TestOVSDBRecipe(t *testing.T) {
	g := NewGovs(t)
	g.Start(t, "--log-switch")
	n := len(switchCalls(g.Output()))

	timedVsctl(t, g, "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev")
	wantCalls(t, callsSince(g, n), "AddBridge br0", "AddInterface br0 br0 br0 type=internal ofport=65534")
	if got := g.Get(t, "Interface", "br0", "ofport"); got != "65534" {
		t.Errorf("br0 ofport = %s, want 65534", got)
	}
	if dpid := g.Get(t, "Bridge", "br0", "datapath_id"); len(strings.Trim(dpid, `"`)) != 16 {
		t.Errorf("datapath_id = %s", dpid)
	}

	n = len(switchCalls(g.Output()))
	timedVsctl(t, g, "add-port", "br0", "p1", "--", "set", "Interface", "p1", "type=tap", "ofport_request=7")
	wantCalls(t, callsSince(g, n), "AddInterface br0 p1 p1 type=tap ofport=7")
	if got := g.Get(t, "Interface", "p1", "ofport"); got != "7" {
		t.Errorf("p1 ofport = %s, want 7", got)
	}

	n = len(switchCalls(g.Output()))
	timedVsctl(t, g, "add-port", "br0", "p2", "--", "set", "Interface", "p2", "type=tap")
	wantCalls(t, callsSince(g, n), "AddInterface br0 p2 p2 type=tap ofport=1")

	n = len(switchCalls(g.Output()))
	timedVsctl(t, g, "set", "Interface", "p2", "ofport_request=9")
	wantCalls(t, callsSince(g, n), "ReconfigureInterface br0 p2 p2 ofport=9")
	if got := g.Get(t, "Interface", "p2", "ofport"); got != "9" {
		t.Errorf("p2 ofport after ofport_request = %s, want 9", got)
	}

	n = len(switchCalls(g.Output()))
	timedVsctl(t, g, "set", "Port", "p2", "tag=10")
	wantCalls(t, callsSince(g, n), "ReconfigurePort br0 p2 tag=10 trunks=[] vlan_mode=")

	// A bad row shows in its own error column and disturbs nothing else.
	n = len(switchCalls(g.Output()))
	// ovs-vsctl reads the error column back and warns on stderr, as with
	// ovs-vswitchd.
	vsctl := exec.Command("ovs-vsctl", "--db=unix:"+g.DBSocket(), "--timeout=5", "add-port", "br0", "bad", "--", "set", "Interface", "bad", "type=bogus")
	if out, _ := vsctl.CombinedOutput(); !strings.Contains(string(out), "Error detected while setting up 'bad'") {
		t.Errorf("ovs-vsctl should report the bad interface, said: %s", out)
	}
	if got := g.Get(t, "Interface", "bad", "ofport"); got != "-1" {
		t.Errorf("bad ofport = %s, want -1", got)
	}
	if got := g.Get(t, "Interface", "bad", "error"); !strings.Contains(got, "bogus") {
		t.Errorf("bad error = %s", got)
	}
	for _, c := range callsSince(g, n) {
		if !strings.Contains(c, " bad ") {
			t.Errorf("a bad interface disturbed others: %q", c)
		}
	}
	if got := g.Get(t, "Interface", "p1", "ofport"); got != "7" {
		t.Errorf("p1 ofport after bad row = %s", got)
	}
	if got := g.Get(t, "Interface", "p1", "link_state"); got != "up" {
		t.Errorf("p1 link_state = %s", got)
	}
	timedVsctl(t, g, "del-port", "br0", "bad")

	n = len(switchCalls(g.Output()))
	timedVsctl(t, g, "del-port", "br0", "p1")
	wantCalls(t, callsSince(g, n), "DelInterface br0 p1")

	n = len(switchCalls(g.Output()))
	timedVsctl(t, g, "del-br", "br0")
	wantCalls(t, callsSince(g, n), "DelBridge br0")

	if cur, next := g.Get(t, "Open_vSwitch", ".", "cur_cfg"), g.Get(t, "Open_vSwitch", ".", "next_cfg"); cur != next {
		t.Errorf("cur_cfg %s != next_cfg %s", cur, next)
	}
	if got := g.Get(t, "Open_vSwitch", ".", "iface_types"); !strings.Contains(got, "afxdp") {
		t.Errorf("iface_types = %s", got)
	}
}

func TestOVSDBSystemBridgeServedAsNetdev(t *testing.T) {
	g := NewGovs(t)
	g.Start(t, "--log-switch")
	timedVsctl(t, g, "add-br", "br0")
	if got := g.Get(t, "Interface", "br0", "ofport"); got != "65534" {
		t.Errorf("br0 ofport = %s", got)
	}
	if got := g.Get(t, "Bridge", "br0", "status"); !strings.Contains(got, "datapath_type_note") {
		t.Errorf("status = %s, want the datapath_type note", got)
	}
}

func TestOVSDBSecondInstanceRefused(t *testing.T) {
	g := NewGovs(t)
	g.Start(t, "--log-switch")
	out, err := g.Command("run").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "already running") {
		t.Fatalf("second govs on the same rundir: err=%v output:\n%s", err, out)
	}
	// The first one is undisturbed.
	timedVsctl(t, g, "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev")
}

func TestOVSDBServerRestartReconnects(t *testing.T) {
	g := NewGovs(t)
	g.Start(t, "--log-switch")
	timedVsctl(t, g, "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev")
	old := g.ServerPid()
	if old == 0 {
		t.Fatal("no ovsdb-server pidfile")
	}
	syscall.Kill(old, syscall.SIGKILL)
	WaitFor(t, 10*time.Second, "ovsdb-server restarted", func() bool {
		pid := g.ServerPid()
		if pid == 0 || pid == old {
			return false
		}
		_, err := g.VsctlErr("--timeout=1", "--no-wait", "show")
		return err == nil
	})
	// govs reconnected: a change made now is applied and acknowledged.
	timedVsctl(t, g, "add-port", "br0", "p1", "--", "set", "Interface", "p1", "type=tap")
	if got := g.Get(t, "Interface", "p1", "ofport"); got != "1" {
		t.Errorf("p1 ofport after reconnect = %s", got)
	}
}

func TestOVSDBRestartKeepsOFPorts(t *testing.T) {
	g := NewGovs(t)
	g.Start(t, "--log-switch")
	timedVsctl(t, g, "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev")
	for _, p := range []string{"p1", "p2", "p3"} {
		timedVsctl(t, g, "add-port", "br0", p, "--", "set", "Interface", p, "type=tap")
	}
	timedVsctl(t, g, "del-port", "br0", "p1") // leave a hole: p2=2, p3=3
	g.Stop(t)

	g.Start(t, "--log-switch")
	for p, want := range map[string]string{"p2": "2", "p3": "3", "br0": "65534"} {
		if got := g.Get(t, "Interface", p, "ofport"); got != want {
			t.Errorf("%s ofport after restart = %s, want %s", p, got, want)
		}
	}
	// The ofports above come from the database, which kept them; the
	// switch gets its calls once govs has read it, which may be later.
	wants := []string{"AddInterface br0 p2 p2 type=tap ofport=2", "AddInterface br0 p3 p3 type=tap ofport=3"}
	var calls string
	deadline := time.Now().Add(10 * time.Second)
	for {
		calls = strings.Join(switchCalls(g.Output()), "\n")
		missing := ""
		for _, want := range wants {
			if !strings.Contains(calls, want) {
				missing = want
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after restart the switch did not get %q; calls:\n%s", missing, calls)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestOVSDBDetach(t *testing.T) {
	g := NewGovs(t)
	out, err := g.Command("run", "--detach", "--pidfile", "--log-file").CombinedOutput()
	if err != nil {
		t.Fatalf("govs run --detach: %v\n%s", err, out)
	}
	pidfile := filepath.Join(g.RunDir, "ovs-vswitchd.pid")
	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	for _, c := range strings.TrimSpace(string(b)) {
		pid = pid*10 + int(c-'0')
	}
	t.Cleanup(func() {
		syscall.Kill(pid, syscall.SIGTERM)
		WaitFor(t, 10*time.Second, "detached govs exit", func() bool { return syscall.Kill(pid, 0) != nil })
	})
	timedVsctl(t, g, "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev")
	if _, err := os.Stat(filepath.Join(g.LogDir, "ovs-vswitchd.log")); err != nil {
		t.Errorf("log file: %v", err)
	}
	srv := g.ServerPid()
	syscall.Kill(pid, syscall.SIGTERM)
	WaitFor(t, 10*time.Second, "detached govs exit", func() bool { return syscall.Kill(pid, 0) != nil })
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Errorf("pidfile left behind: %v", err)
	}
	if srv > 0 && syscall.Kill(srv, 0) == nil {
		t.Errorf("ovsdb-server %d left running", srv)
	}
}
