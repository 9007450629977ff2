package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The appctl tests run Debian's ovs-appctl against a live govs, with no
// -t: it must find govs as it finds ovs-vswitchd, through
// $OVS_RUNDIR/ovs-vswitchd.pid and ovs-vswitchd.<pid>.ctl. Traffic is
// ping between two namespaces on afxdp ports.

// newAppctlLab is NewLab with kernel names starting "gva" (this issue's
// prefix), so a leftover is easy to attribute.
func newAppctlLab(t *testing.T) *Lab {
	t.Helper()
	RequireNetTools(t)
	if _, err := exec.LookPath("ovs-appctl"); err != nil {
		t.Skip("ovs-appctl not installed (openvswitch-common)")
	}
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	l := &Lab{Tag: "gva" + hex.EncodeToString(b[:]), t: t}
	t.Cleanup(l.cleanup)
	l.SW = l.addNetns("sw")
	return l
}

// appctl runs ovs-appctl ARGS in govs' environment and returns its
// stdout, stderr and exit status.
func appctl(t *testing.T, g *Govs, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command("ovs-appctl", append([]string{"--timeout=10"}, args...)...)
	cmd.Env = g.Env()
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), errOut.String(), ee.ExitCode()
	case err != nil:
		t.Fatalf("ovs-appctl %v: %v", args, err)
	}
	return out.String(), errOut.String(), 0
}

// mustAppctl runs ovs-appctl and fails the test unless it succeeded.
func mustAppctl(t *testing.T, g *Govs, args ...string) string {
	t.Helper()
	out, errOut, code := appctl(t, g, args...)
	if code != 0 {
		t.Fatalf("ovs-appctl %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// hostMAC returns the MAC address of h's interface.
func hostMAC(t *testing.T, h *Host) string {
	t.Helper()
	return strings.TrimSpace(h.lab.MustRun(h.NS, "cat", "/sys/class/net/"+h.Dev+"/address"))
}

// odpPorts parses dpctl/show: interface name -> datapath port number.
func odpPorts(t *testing.T, g *Govs) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, sm := range regexp.MustCompile(`(?m)^  port (\d+): (\S+)`).FindAllStringSubmatch(mustAppctl(t, g, "dpctl/show"), -1) {
		m[sm[2]] = sm[1]
	}
	return m
}

// pmdPackets sums "packets received" over pmd-stats-show's blocks.
func pmdPackets(t *testing.T, g *Govs) int {
	t.Helper()
	out := mustAppctl(t, g, "dpif-netdev/pmd-stats-show")
	total := 0
	for _, m := range regexp.MustCompile(`(?m)^  packets received: (\d+)$`).FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[1])
		total += n
	}
	if !strings.Contains(out, "pmd thread numa_id ") {
		t.Fatalf("pmd-stats-show has no PMD:\n%s", out)
	}
	return total
}

func TestAppctl(t *testing.T) {
	l := newAppctlLab(t)
	g := l.Govs(t)
	g.Start(t)
	g.Vsctl(t, "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev")
	a := l.Host("a", "10.0.0.1/24")
	b := l.Host("b", "10.0.0.2/24")
	ofa := addPort(t, g, "br0", a, "afxdp")
	ofb := addPort(t, g, "br0", b, "afxdp")
	macA, macB := hostMAC(t, a), hostMAC(t, b)

	// ovs-appctl finds govs with no -t.
	if out := mustAppctl(t, g, "version"); !strings.HasPrefix(out, "ovs-vswitchd (govs) ") {
		t.Errorf("version: %q", out)
	}
	before := pmdPackets(t, g)
	a.WaitPing(t, b.IP, 10*time.Second)
	// On these shared machines a ping may be lost when another test
	// hogs the PMD's CPU; the checks count the answered ones.
	_, n, out := a.Ping(b.IP, 20, 20*time.Millisecond)
	if n < 10 {
		t.Fatalf("%d/20 pings answered:\n%s", n, out)
	}
	odp := odpPorts(t, g)
	if odp[a.Port] == "" || odp[b.Port] == "" {
		t.Fatalf("dpctl/show lacks the ports: %v", odp)
	}

	t.Run("list-commands", func(t *testing.T) {
		out := mustAppctl(t, g, "list-commands")
		for _, c := range []string{"dpif-netdev/pmd-stats-show", "dpctl/dump-flows", "ofproto/trace", "fdb/show", "vlog/set", "exit"} {
			if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(c) + ` `).MatchString(out) {
				t.Errorf("list-commands lacks %s:\n%s", c, out)
			}
		}
	})
	t.Run("pmd-stats-show", func(t *testing.T) {
		if after := pmdPackets(t, g); after-before < 2*n {
			t.Errorf("packets received grew by %d with %d pings each way", after-before, n)
		}
	})
	t.Run("pmd-sleep-max", func(t *testing.T) {
		if out := mustAppctl(t, g, "dpif-netdev/pmd-sleep-show"); !strings.HasPrefix(out, "Default max sleep:    0 us\n") {
			t.Errorf("pmd-sleep-show on defaults:\n%s", out)
		}
		g.Vsctl(t, "set", "Open_vSwitch", ".", "other_config:pmd-sleep-max=300")
		defer g.Vsctl(t, "remove", "Open_vSwitch", ".", "other_config", "pmd-sleep-max")
		WaitFor(t, 10*time.Second, "pmd-sleep-max applied", func() bool {
			return strings.Contains(mustAppctl(t, g, "dpif-netdev/pmd-sleep-show"), "  max sleep:  300 us\n")
		})
		// A sleeping PMD still forwards.
		if _, n, out := a.Ping(b.IP, 10, 20*time.Millisecond); n < 5 {
			t.Errorf("%d/10 pings answered with pmd-sleep-max=300:\n%s", n, out)
		}
	})
	t.Run("pmd-rxq-show", func(t *testing.T) {
		out := mustAppctl(t, g, "dpif-netdev/pmd-rxq-show")
		for _, p := range []string{a.Port, b.Port} {
			if !regexp.MustCompile(`(?m)^  port: ` + p + ` +queue-id: +0 \(enabled\)`).MatchString(out) {
				t.Errorf("pmd-rxq-show lacks %s:\n%s", p, out)
			}
		}
	})
	t.Run("pmd-perf-show", func(t *testing.T) {
		if out := mustAppctl(t, g, "dpif-netdev/pmd-perf-show"); !strings.Contains(out, "  Rx packets:") {
			t.Errorf("pmd-perf-show:\n%s", out)
		}
	})
	t.Run("dpctl/show", func(t *testing.T) {
		out := mustAppctl(t, g, "dpctl/show", "-s")
		if !strings.HasPrefix(out, "netdev@ovs-netdev:\n  lookups: hit:") {
			t.Errorf("dpctl/show:\n%s", out)
		}
		if !regexp.MustCompile(`port ` + odp[a.Port] + `: ` + a.Port + ` \(afxdp\)\n    RX packets:\d+`).MatchString(out) {
			t.Errorf("dpctl/show -s lacks %s's statistics:\n%s", a.Port, out)
		}
	})
	t.Run("dpctl/dump-flows", func(t *testing.T) {
		out := mustAppctl(t, g, "dpctl/dump-flows")
		want := regexp.MustCompile(`(?m)^recirc_id\(0\),in_port\(` + odp[a.Port] + `\),eth\(src=` + macA + `,dst=` + macB +
			`\)(,\S*)?, packets:\d+, bytes:\d+, used:(\d+\.\d{3}s|never), actions:` + odp[b.Port] + `$`)
		if !want.MatchString(out) {
			t.Errorf("no megaflow a -> b (%s) in:\n%s", want, out)
		}
		named := mustAppctl(t, g, "dpctl/dump-flows", "--names")
		if !strings.Contains(named, "in_port("+a.Port+")") || !strings.Contains(named, "actions:"+b.Port) {
			t.Errorf("dump-flows --names:\n%s", named)
		}
	})
	t.Run("ofproto/trace", func(t *testing.T) {
		out := mustAppctl(t, g, "ofproto/trace", "br0", "in_port="+a.Port+",dl_src="+macA+",dl_dst="+macB)
		for _, want := range []string{
			"Flow: in_port=" + strconv.Itoa(ofa) + ",vlan_tci=0x0000,dl_src=" + macA + ",dl_dst=" + macB,
			"bridge(\"br0\")\n-------------\n 0. priority 0\n    NORMAL\n     -> forwarding to learned port\n",
			"Megaflow: recirc_id=0,eth,",
			"Datapath actions: " + odp[b.Port] + "\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("trace lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("fdb/show", func(t *testing.T) {
		out := mustAppctl(t, g, "fdb/show", "br0")
		for _, want := range []string{
			`(?m)^ +` + strconv.Itoa(ofa) + ` +0  ` + macA + ` +\d+$`,
			`(?m)^ +` + strconv.Itoa(ofb) + ` +0  ` + macB + ` +\d+$`,
		} {
			if !regexp.MustCompile(want).MatchString(out) {
				t.Errorf("fdb/show lacks %s:\n%s", want, out)
			}
		}
	})
	t.Run("bridge/dump-flows", func(t *testing.T) {
		out := mustAppctl(t, g, "bridge/dump-flows", "br0")
		m := regexp.MustCompile(`(?m)^duration=\d+s, n_packets=(\d+), n_bytes=\d+, priority=0,actions=NORMAL$`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("bridge/dump-flows:\n%s", out)
		}
		// Rule statistics come from the revalidator (every 500 ms).
		WaitFor(t, 5*time.Second, "NORMAL rule counts the pings", func() bool {
			m := regexp.MustCompile(`n_packets=(\d+)`).FindStringSubmatch(mustAppctl(t, g, "bridge/dump-flows", "br0"))
			k, _ := strconv.Atoi(m[1])
			return k >= 2*n
		})
	})
	t.Run("coverage memory vlog", func(t *testing.T) {
		if out := mustAppctl(t, g, "coverage/show"); !regexp.MustCompile(`(?m)^netdev_received +.*total: \d+$`).MatchString(out) {
			t.Errorf("coverage/show:\n%s", out)
		}
		if out := mustAppctl(t, g, "memory/show"); !regexp.MustCompile(`megaflows:\d+ .*ports:3 .*rules:1`).MatchString(out) {
			t.Errorf("memory/show: %q", out)
		}
		mustAppctl(t, g, "vlog/set", "ANY:console:dbg")
		if out := mustAppctl(t, g, "vlog/list"); !regexp.MustCompile(`(?m)^ofproto +DBG `).MatchString(out) {
			t.Errorf("vlog/list after vlog/set dbg:\n%s", out)
		}
		mustAppctl(t, g, "vlog/set", "info")
	})
	t.Run("bad arguments exit 2", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"fdb/show", "nobr"}, "no such bridge"},
			{[]string{"fdb/show"}, `"fdb/show" command requires at least 1 arguments`},
			{[]string{"version", "x"}, `"version" command takes at most 0 arguments`},
			{[]string{"no/such-command"}, `"no/such-command" is not a valid command`},
			{[]string{"vlog/set", "xyz"}, `no destination, level, or module "xyz"`},
			{[]string{"ofproto/trace", "br0", "in_port=1,foo=2"}, "Bad openflow flow syntax"},
			{[]string{"dpctl/dump-flows", "-x"}, "Unrecognized option -x"},
			{[]string{"dpif-netdev/pmd-stats-show", "nodp"}, "please specify an existing datapath"},
		} {
			out, errOut, code := appctl(t, g, tc.args...)
			if code != 2 || out != "" || !strings.Contains(errOut, tc.want) {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, out, errOut, tc.want)
			}
		}
	})

	t.Run("govs top", func(t *testing.T) {
		wait := a.BackgroundPing(t, b.IP, 40, 20*time.Millisecond)
		out, err := g.Command("top", "-n", "2", "-d", "300ms").CombinedOutput()
		wait()
		if err != nil {
			t.Fatalf("govs top: %v\n%s", err, out)
		}
		frames := strings.Split(string(out), "\ngovs top ")
		if len(frames) != 2 {
			t.Fatalf("govs top -n 2 printed %d frames:\n%s", len(frames), out)
		}
		last := frames[1]
		if !regexp.MustCompile(`(?m)^` + a.Port + ` +afxdp +[1-9]\d* `).MatchString(last) {
			t.Errorf("govs top: %s receives nothing:\n%s", a.Port, last)
		}
		if !strings.Contains(last, "in_port("+a.Port+"),eth(src="+macA+",dst="+macB+")") {
			t.Errorf("govs top: megaflow a -> b not among the busiest:\n%s", last)
		}
	})

	// Commands that change state.
	t.Run("pmd-stats-clear", func(t *testing.T) {
		mustAppctl(t, g, "dpif-netdev/pmd-stats-clear")
		if got := pmdPackets(t, g); got > 2 {
			t.Errorf("packets received %d after pmd-stats-clear", got)
		}
	})
	t.Run("pmd-rxq-rebalance", func(t *testing.T) {
		if out := mustAppctl(t, g, "dpif-netdev/pmd-rxq-rebalance"); out != "pmd rxq rebalance requested.\n" {
			t.Errorf("%q", out)
		}
		a.WaitPing(t, b.IP, 10*time.Second)
	})
	t.Run("dpctl/del-flows", func(t *testing.T) {
		mustAppctl(t, g, "dpctl/del-flows")
		if out := mustAppctl(t, g, "dpctl/dump-flows"); strings.Contains(out, "in_port("+odp[a.Port]+"),eth(src="+macA+",dst="+macB) {
			t.Errorf("a -> b megaflow still there after del-flows:\n%s", out)
		}
		a.WaitPing(t, b.IP, 10*time.Second) // reinstalled on the next miss
	})
	t.Run("fdb/flush", func(t *testing.T) {
		if out := mustAppctl(t, g, "fdb/flush", "br0"); out != "table successfully flushed\n" {
			t.Errorf("fdb/flush: %q", out)
		}
		if out := mustAppctl(t, g, "fdb/show", "br0"); strings.Contains(out, macA) {
			t.Errorf("fdb/show after flush:\n%s", out)
		}
	})
	t.Run("exit", func(t *testing.T) {
		pid := g.Pid()
		ctl := filepath.Join(g.RunDir, "ovs-vswitchd."+strconv.Itoa(pid)+".ctl")
		if _, err := os.Stat(ctl); err != nil {
			t.Fatalf("control socket: %v", err)
		}
		mustAppctl(t, g, "exit")
		select {
		case <-g.exited:
		case <-time.After(10 * time.Second):
			t.Fatalf("govs still running 10 s after exit; output:\n%s", g.Output())
		}
		if code := g.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("govs exit status %d; output:\n%s", code, g.Output())
		}
		for _, p := range []string{ctl, filepath.Join(g.RunDir, "ovs-vswitchd.pid")} {
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Errorf("%s left behind after exit (%v)", p, err)
			}
		}
		if l.HasXDP(t, a.Port) {
			t.Errorf("XDP program left on %s after exit", a.Port)
		}
	})
}
