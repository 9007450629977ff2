package e2e

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// os-ken (python3-os-ken, Ryu's maintained fork) as br0's controller:
// its simple_switch_13 learning switch, then the controller going away
// under each fail mode.

// oskenPort is where osken-manager listens, inside the switch namespace
// (a fresh one per test, so the port is free).
const oskenPort = "6653"

// oskenApp returns the simple_switch_13 app: os-ken's own module when
// the installed package has it, else the copy in testdata (Debian's
// python3-os-ken leaves the example apps out).
func oskenApp(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("osken-manager"); err != nil {
		t.Skip("osken-manager not installed (python3-os-ken)")
	}
	if exec.Command("/usr/bin/python3", "-c", "import os_ken.app.simple_switch_13").Run() == nil {
		return "os_ken.app.simple_switch_13"
	}
	p, err := filepath.Abs("testdata/osken/simple_switch_13.py")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// osken is one osken-manager run.
type osken struct {
	cmd *exec.Cmd
	out *strings.Builder
}

// startOsken runs osken-manager with app in the switch namespace.
func (s *ofSwitch) startOsken(t testing.TB, app string) *osken {
	t.Helper()
	cmd, out := s.l.Start(s.l.SW, "osken-manager", "--ofp-listen-host", "127.0.0.1", "--ofp-tcp-listen-port", oskenPort, app)
	// Listening before govs' next connection attempt saves a backoff.
	deadline := time.Now().Add(15 * time.Second)
	for {
		ss, _ := s.l.Run(s.l.SW, "ss", "-Hltn", "sport = :"+oskenPort)
		if strings.Contains(ss, oskenPort) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("osken-manager not listening after 15 s:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &osken{cmd: cmd, out: out}
}

// kill stops osken-manager at once (SIGKILL: the controller vanishes
// without closing anything politely).
func (o *osken) kill() {
	o.cmd.Process.Kill()
	o.cmd.Wait()
}

// setController points br0 at osken with a 1 s inactivity probe, so a
// standalone bridge fails open 3 s after losing it (OVS's rule: three
// probe intervals).
func (s *ofSwitch) setController(t testing.TB) {
	t.Helper()
	s.g.Vsctl(t, "set-controller", "br0", "tcp:127.0.0.1:"+oskenPort, "--", "set", "controller", "br0", "inactivity_probe=1000")
}

// waitController waits until the Controller row says connected (or not).
// govs writes the row back at every stats interval (5 s).
func (s *ofSwitch) waitController(t testing.TB, connected bool) {
	t.Helper()
	want := "false"
	if connected {
		want = "true"
	}
	WaitFor(t, 15*time.Second, "Controller is_connected="+want, func() bool {
		out, err := s.g.VsctlErr("--timeout=2", "get", "controller", "br0", "is_connected")
		return err == nil && strings.TrimSpace(out) == want
	})
}

var learnedFlowRe = regexp.MustCompile(`priority=1,in_port=\S+,dl_src=\S+,dl_dst=\S+ actions=output:\S+`)

// failedOpen reports whether a packet from host a meets the hidden
// fail-open rule (OVS's priority 0xf0f0f0, NORMAL); OpenFlow cannot see it.
func (s *ofSwitch) failedOpen(t *testing.T) bool {
	out := mustAppctl(t, s.g, "ofproto/trace", "br0", "in_port="+strconv.Itoa(s.pa))
	return strings.Contains(out, " 0. priority 15790320\n    NORMAL\n")
}

// TestOskenSimpleSwitch13: os-ken's learning switch controls br0: the
// hosts reach each other through the flows it installs, and the
// Controller row shows the connection. Then os-ken is killed: a secure
// bridge keeps the flows the controller installed and forwards nothing
// else; a standalone bridge fails open (NORMAL) until the controller is
// back.
func TestOskenSimpleSwitch13(t *testing.T) {
	app := oskenApp(t)
	for _, mode := range []string{"secure", "standalone"} {
		t.Run(mode, func(t *testing.T) {
			s := startOFSwitch(t, "fail_mode="+mode)
			s.proto = []string{"-O", "OpenFlow13"}
			if mode == "secure" {
				if out := s.ofctl(t, "dump-flows", "br0"); strings.Contains(out, "priority") {
					t.Fatalf("a secure bridge starts with flows:\n%s", out)
				}
				s.a.NoPing(t, s.b.IP) // no controller: nothing forwards
			}

			// Learning.
			o := s.startOsken(t, app)
			s.setController(t)
			WaitFor(t, 15*time.Second, "os-ken's table-miss rule", func() bool {
				return strings.Contains(s.ofctl(t, "dump-flows", "br0"), "priority=0 actions=CONTROLLER:65535")
			})
			s.a.WaitPing(t, s.b.IP, 10*time.Second)
			s.a.PingAll(t, s.b.IP, 10)
			out := s.ofctl(t, "dump-flows", "br0")
			learned := learnedFlowRe.FindAllString(out, -1)
			if len(learned) < 2 {
				t.Fatalf("%d learned flows, want at least 2 (one per direction):\n%s", len(learned), out)
			}
			if mode == "secure" {
				s.waitController(t, true)
				if st := s.g.Get(t, "controller", "br0", "status"); !strings.Contains(st, "state=ACTIVE") {
					t.Errorf("Controller status %s, want state=ACTIVE", st)
				}
				if r := s.g.Get(t, "controller", "br0", "role"); r != "other" && r != "master" {
					t.Errorf("Controller role %s, want other or master", r)
				}
			}

			// The controller vanishes. Both modes keep its flows (a
			// standalone bridge puts its fail-open rule above them).
			// A standalone bridge fails open after three probe
			// intervals (inactivity_probe=1000 is OVS's minimum, 5 s:
			// 15 s).
			o.kill()
			killed := time.Now()
			if mode == "secure" {
				s.waitController(t, false)
			} else {
				WaitFor(t, 25*time.Second, "fail-open rule", func() bool { return s.failedOpen(t) })
			}
			out = s.ofctl(t, "dump-flows", "br0")
			for _, f := range learned {
				if !strings.Contains(out, f) {
					t.Errorf("learned flow %q gone after the controller left:\n%s", f, out)
				}
			}
			// Known unicast traffic follows the learned flows in both
			// modes. With the ARP caches flushed, the broadcast request
			// meets the table-miss rule (to a controller that is gone)
			// on a secure bridge, and NORMAL on a failed-open one.
			s.a.PingAll(t, s.b.IP, 5)
			s.l.MustRun(s.a.NS, "ip", "neigh", "flush", "all")
			s.l.MustRun(s.b.NS, "ip", "neigh", "flush", "all")
			if mode == "secure" {
				time.Sleep(time.Until(killed.Add(16 * time.Second))) // longer than a standalone bridge's trigger
				if s.failedOpen(t) {
					t.Error("a secure bridge failed open")
				}
				s.a.NoPing(t, s.b.IP)
				return
			}
			s.a.WaitPing(t, s.b.IP, 5*time.Second)

			// The controller comes back: the fail-open rule goes, and
			// its table is in force again.
			s.startOsken(t, app)
			WaitFor(t, 15*time.Second, "fail-open rule removed", func() bool { return !s.failedOpen(t) })
			s.l.MustRun(s.a.NS, "ip", "neigh", "flush", "all")
			s.a.WaitPing(t, s.b.IP, 10*time.Second)
			mustHave(t, s.ofctl(t, "dump-flows", "br0"), "priority=0 actions=CONTROLLER:65535")
		})
	}
}
