package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// capture is one running `govs capture` (or a shell pipeline around it).
type captureRun struct {
	cmd *exec.Cmd
	out *syncBuffer // stdout and stderr
}

// startCapture runs sh -c script with $GOVS set to the govs binary, in
// g's environment, and waits until the capture has started.
func startCapture(t *testing.T, g *Govs, script string) *captureRun {
	t.Helper()
	c := &captureRun{cmd: exec.Command("sh", "-c", script), out: new(syncBuffer)}
	c.cmd.Env = append(g.Env(), "GOVS="+g.Bin)
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			c.cmd.Wait()
		}
	})
	WaitFor(t, 10*time.Second, "capture started: "+script, func() bool {
		return strings.Contains(c.out.String(), "govs capture: capturing on")
	})
	return c
}

// wait waits up to 20 s for the capture to exit and returns its exit
// status and output.
func (c *captureRun) wait(t *testing.T) (int, string) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), c.out.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, c.out.String()
	case <-time.After(20 * time.Second):
		c.cmd.Process.Kill()
		<-done
		t.Fatalf("capture did not end; output:\n%s", c.out.String())
	}
	return 0, ""
}

// govsCapture runs `govs capture args...` to its end.
func govsCapture(g *Govs, args ...string) (int, string) {
	cmd := exec.Command(g.Bin, append([]string{"capture"}, args...)...)
	cmd.Env = g.Env()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), string(out)
	}
	return 0, string(out)
}

// twoHostBridge starts govs in l with bridge br0 and hosts a (10.0.0.1)
// and b (10.0.0.2) on afxdp ports.
func twoHostBridge(t *testing.T, l *Lab) (*Govs, *Host, *Host) {
	t.Helper()
	g := l.Govs(t)
	g.Start(t)
	g.Vsctl(t, "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev")
	a := l.Host("a", "10.0.0.1/24")
	b := l.Host("b", "10.0.0.2/24")
	addPort(t, g, "br0", a, "afxdp")
	addPort(t, g, "br0", b, "afxdp")
	return g, a, b
}

var icmpLine = regexp.MustCompile(`(?m)^\S+ IP (\S+) > (\S+): ICMP echo (request|reply)`)

// TestCapture runs govs capture against a switch forwarding pings between
// two namespaces and reads what it wrote back with tcpdump.
func TestCapture(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump not installed")
	}
	l := NewLab(t)
	g, a, b := twoHostBridge(t, l)
	a.WaitPing(t, b.IP, 10*time.Second)

	t.Run("pipe to tcpdump, two ports at once", func(t *testing.T) {
		// On a's port, requests come in (rx) and replies go out (tx); on
		// b's port the other way round.
		ca := startCapture(t, g, `"$GOVS" capture `+a.Port+` -c 6 -w - icmp | tcpdump -nn -r -`)
		cb := startCapture(t, g, `"$GOVS" capture `+b.Port+` -c 4 --direction tx icmp | tcpdump -nn -r -`)
		if _, n, out := a.Ping(b.IP, 8, 100*time.Millisecond); n < 4 {
			t.Fatalf("%d pings answered:\n%s", n, out)
		}
		code, out := ca.wait(t)
		m := icmpLine.FindAllStringSubmatch(out, -1)
		if code != 0 || len(m) != 6 || !strings.Contains(out, "6 packets captured") {
			t.Fatalf("capture of %s: exit %d, %d ICMP lines; output:\n%s", a.Port, code, len(m), out)
		}
		// Requests a -> b and replies b -> a, in the order the switch saw
		// them: when one poll of the PMD finds a request and the previous
		// reply (on a loaded machine), the request comes first, because
		// transmitted packets are seen at the end of the poll.
		kinds := map[string]int{}
		for i, mm := range m {
			kinds[mm[3]]++
			want := []string{a.IP, b.IP, "request"}
			if mm[3] == "reply" {
				want = []string{b.IP, a.IP, "reply"}
			}
			if mm[1] != want[0] || mm[2] != want[1] {
				t.Errorf("packet %d: %q, want %v", i, mm[0], want)
			}
		}
		if kinds["request"] < 3 || kinds["reply"] < 2 {
			t.Errorf("captured %v on %s, want 3 requests and 3 replies (one reply may come after a 4th request)", kinds, a.Port)
		}
		code, out = cb.wait(t)
		m = icmpLine.FindAllStringSubmatch(out, -1)
		if code != 0 || len(m) != 4 || !strings.Contains(out, "4 packets captured") {
			t.Fatalf("capture of %s: exit %d, %d ICMP lines; output:\n%s", b.Port, code, len(m), out)
		}
		for _, mm := range m {
			if mm[3] != "request" {
				t.Errorf("tx of %s: %q, want only requests", b.Port, mm[0])
			}
		}
	})

	t.Run("filter", func(t *testing.T) {
		// Only ARP, while pings flow; a flushed neighbour cache makes
		// the ARP.
		c := startCapture(t, g, `"$GOVS" capture `+a.Port+` --duration 3s -w - arp | tcpdump -nn -r -`)
		l.MustRun(a.NS, "ip", "neigh", "flush", "all")
		a.Ping(b.IP, 10, 100*time.Millisecond)
		code, out := c.wait(t)
		arp := regexp.MustCompile(`(?m)^\S+ ARP, `).FindAllString(out, -1)
		if code != 0 || len(arp) < 2 || icmpLine.MatchString(out) {
			t.Fatalf("arp capture: exit %d, %d ARP lines; output:\n%s", code, len(arp), out)
		}
		if !strings.Contains(out, "packets received by filter") || !strings.Contains(out, "0 packets dropped by govs") {
			t.Errorf("no counts at the end:\n%s", out)
		}
	})

	t.Run("pcapng file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "b.pcapng")
		c := startCapture(t, g, `"$GOVS" capture `+b.Port+` --pcapng -w `+file+` -c 3 --direction rx icmp`)
		a.Ping(b.IP, 6, 100*time.Millisecond)
		if code, out := c.wait(t); code != 0 || !strings.Contains(out, "3 packets captured") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		data, err := os.ReadFile(file)
		if err != nil || !bytes.HasPrefix(data, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
			t.Fatalf("%s is not pcapng (%v): % x", file, err, data[:min(len(data), 8)])
		}
		out, err := exec.Command("tcpdump", "-nn", "-r", file).CombinedOutput()
		m := icmpLine.FindAllStringSubmatch(string(out), -1)
		if err != nil || len(m) != 3 {
			t.Fatalf("tcpdump -r: %v, %d ICMP lines:\n%s", err, len(m), out)
		}
		for _, mm := range m {
			if mm[3] != "reply" {
				t.Errorf("rx of %s: %q, want only replies", b.Port, mm[0])
			}
		}
	})

	t.Run("ctrl-c", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "a.pcap")
		c := startCapture(t, g, `exec "$GOVS" capture `+a.Port+` -w `+file)
		a.Ping(b.IP, 2, 100*time.Millisecond)
		c.cmd.Process.Signal(syscall.SIGINT)
		code, out := c.wait(t)
		if code != 0 || !regexp.MustCompile(`(?m)^[1-9]\d* packets captured$`).MatchString(out) {
			t.Fatalf("after SIGINT: exit %d:\n%s", code, out)
		}
		if out, err := exec.Command("tcpdump", "-nn", "-r", file).CombinedOutput(); err != nil || !icmpLine.Match(out) {
			t.Errorf("tcpdump -r %s: %v\n%s", file, err, out)
		}
	})

	t.Run("reader exits", func(t *testing.T) {
		// tcpdump stops after 2 packets; the capture, unbounded, must
		// end on the closed pipe and still print its counts.
		c := startCapture(t, g, `"$GOVS" capture `+a.Port+` icmp | tcpdump -nn -c 2 -r -`)
		a.Ping(b.IP, 4, 100*time.Millisecond)
		code, out := c.wait(t)
		if code != 0 || len(icmpLine.FindAllString(out, -1)) != 2 || !strings.Contains(out, "packets dropped by govs") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"nosuch"}, 1, "no port named nosuch"},
			{[]string{a.Port, "icmp", "and", "and"}, 1, "syntax error"},
			{[]string{a.Port, "--direction", "sideways"}, 2, `direction "sideways"`},
			{[]string{a.Port, "--bogus"}, 2, "unknown flag"},
			{nil, 2, "which port?"},
		} {
			if code, out := govsCapture(g, tc.args...); code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("govs capture %v: exit %d, output %q; want %d and %q", tc.args, code, out, tc.code, tc.want)
			}
		}
	})

	// The switch still forwards, and nothing was left capturing.
	a.PingAll(t, b.IP, 3)
}
