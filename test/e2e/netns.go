package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A Lab is one test's network: a switch namespace that govs runs in, and
// host namespaces, each linked to the switch namespace by a veth pair (or
// holding a TAP that govs created there and the test moved over).
//
// Every name a Lab gives the kernel starts with its Tag ("gve" and six
// random hex digits), so parallel runs on one machine never collide; links
// are created directly inside their namespaces and never appear in the
// root namespace. Cleanup stops the Lab's processes and deletes its
// namespaces, which takes their veths with them. Create the Lab before
// starting govs: cleanups run last-in first-out, so govs stops (closing
// its TAPs and removing its XDP programs) before the namespaces go.
type Lab struct {
	Tag string // prefix of every kernel name
	SW  string // the namespace govs runs in

	t     testing.TB
	mu    sync.Mutex
	netns []string
	procs []*exec.Cmd
}

// A Host is a namespace with one interface on the switch.
type Host struct {
	lab  *Lab
	NS   string // the host's namespace
	Dev  string // its interface, inside NS
	Port string // the switch side: the OVSDB Interface name
	IP   string // Dev's address, without prefix length
}

// RequireNetTools skips the test unless it runs as root and has the
// clients the forwarding tests use.
func RequireNetTools(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces, veths, XDP)")
	}
	for _, p := range []string{"ip", "ping", "iperf3", "ethtool", "ss"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s not installed (scripts/install-deps.sh)", p)
		}
	}
}

// NewLab creates the switch namespace.
func NewLab(t testing.TB) *Lab {
	t.Helper()
	RequireNetTools(t)
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	l := &Lab{Tag: "gve" + hex.EncodeToString(b[:]), t: t}
	t.Cleanup(l.cleanup)
	l.SW = l.addNetns("sw")
	return l
}

// Govs prepares a govs instance that runs in the Lab's switch namespace.
func (l *Lab) Govs(t testing.TB) *Govs {
	g := NewGovs(t)
	g.Netns = l.SW
	return g
}

func (l *Lab) cleanup() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.procs {
		if c.ProcessState == nil {
			c.Process.Kill()
			c.Wait()
		}
	}
	for i := len(l.netns) - 1; i >= 0; i-- {
		if out, err := exec.Command("ip", "netns", "del", l.netns[i]).CombinedOutput(); err != nil {
			l.t.Errorf("ip netns del %s: %v: %s", l.netns[i], err, out)
		}
	}
}

// addNetns creates namespace Tag+suffix, with IPv6 off so that stray
// router solicitations and DAD do not mix with the test's traffic.
func (l *Lab) addNetns(suffix string) string {
	l.t.Helper()
	name := l.Tag + suffix
	l.ip("netns", "add", name)
	l.mu.Lock()
	l.netns = append(l.netns, name)
	l.mu.Unlock()
	l.MustRun(name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
	l.MustRun(name, "ip", "link", "set", "lo", "up")
	return name
}

// ip runs ip(8) in the root namespace and fails the test on error.
func (l *Lab) ip(args ...string) string {
	l.t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Run runs a command in namespace ns, bounded to 30 s.
func (l *Lab) Run(ns string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s in %s: %v: %s", strings.Join(args, " "), ns, err, out)
	}
	return string(out), nil
}

// MustRun is Run that fails the test on error.
func (l *Lab) MustRun(ns string, args ...string) string {
	l.t.Helper()
	out, err := l.Run(ns, args...)
	if err != nil {
		l.t.Fatal(err)
	}
	return out
}

// Start runs a command in namespace ns in the background; the Lab kills
// it at cleanup if it is still running.
func (l *Lab) Start(ns string, args ...string) (*exec.Cmd, *strings.Builder) {
	l.t.Helper()
	out := new(strings.Builder)
	c := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
	c.Stdout, c.Stderr = out, out
	if err := c.Start(); err != nil {
		l.t.Fatal(err)
	}
	l.mu.Lock()
	l.procs = append(l.procs, c)
	l.mu.Unlock()
	return c, out
}

// Host creates namespace Tag+name with a veth pair: Tag+"e"+name inside
// it, addressed with cidr, and Tag+"p"+name in the switch namespace, for
// the test to add to a bridge. name should be one or two characters
// (interface names have 15).
//
// The host side has transmit checksum offload, TSO and GSO off: the
// kernel would otherwise hand the veth 64 KiB TCP segments with
// unfinished checksums, which a switch reading frames (AF_XDP, AF_PACKET)
// cannot forward as they are. OVS's afxdp documentation asks the same.
func (l *Lab) Host(name, cidr string) *Host {
	l.t.Helper()
	ns := l.addNetns(name)
	h := &Host{lab: l, NS: ns, Dev: l.Tag + "e" + name, Port: l.Tag + "p" + name}
	l.ip("link", "add", h.Port, "netns", l.SW, "type", "veth", "peer", "name", h.Dev, "netns", ns)
	l.MustRun(l.SW, "ip", "link", "set", h.Port, "up")
	l.MustRun(ns, "ethtool", "-K", h.Dev, "tx", "off", "tso", "off", "gso", "off")
	h.addr(h.Dev, cidr)
	return h
}

// TapHost creates namespace Tag+name and moves the TAP port, which govs
// created in the switch namespace for an Interface of type tap, into it,
// addressed with cidr. A TAP keeps working when moved: govs holds its file
// descriptor, and frames written to and read from it follow the device
// into its new namespace.
func (l *Lab) TapHost(name, port, cidr string) *Host {
	l.t.Helper()
	ns := l.addNetns(name)
	h := &Host{lab: l, NS: ns, Dev: port, Port: port}
	l.MustRun(l.SW, "ip", "link", "set", port, "netns", ns)
	h.addr(port, cidr)
	return h
}

func (h *Host) addr(dev, cidr string) {
	h.lab.t.Helper()
	h.lab.MustRun(h.NS, "ip", "addr", "add", cidr, "dev", dev)
	h.lab.MustRun(h.NS, "ip", "link", "set", dev, "up")
	h.IP, _, _ = strings.Cut(cidr, "/")
}

// pingReply matches one answer in ping's output (not -q).
var pingReply = regexp.MustCompile(`(?m)^\d+ bytes from .*icmp_seq=(\d+)`)

// Ping sends count pings to ip, interval apart, and returns count and how
// many of those count were answered. It waits for late answers until a
// deadline 2 s after the last ping (-w): on a loaded machine an answer can
// come later than ping's usual two round-trip times, and is not a loss.
// (With -w, ping keeps sending past count until count answers came; the
// extra pings are not counted.)
func (h *Host) Ping(ip string, count int, interval time.Duration) (sent, recv int, out string) {
	out, _ = h.lab.Run(h.NS, pingArgs(ip, count, interval)...)
	return count, countReplies(out, count), out
}

func pingArgs(ip string, count int, interval time.Duration) []string {
	deadline := int((time.Duration(count)*interval+2*time.Second)/time.Second) + 1
	return []string{"ping", "-n", "-c", strconv.Itoa(count),
		"-i", fmt.Sprintf("%.3f", interval.Seconds()), "-w", strconv.Itoa(deadline), ip}
}

// countReplies counts the distinct answered sequence numbers 1..count.
func countReplies(out string, count int) int {
	seen := map[int]bool{}
	for _, m := range pingReply.FindAllStringSubmatch(out, -1) {
		if n, _ := strconv.Atoi(m[1]); n >= 1 && n <= count {
			seen[n] = true
		}
	}
	return len(seen)
}

// WaitPing pings ip once at a time until it answers (ARP resolved, MACs
// learned, megaflows installed), failing the test after timeout.
func (h *Host) WaitPing(t testing.TB, ip string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		_, recv, out := h.Ping(ip, 1, 200*time.Millisecond)
		if recv == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s did not answer within %v:\n%s", h.NS, ip, timeout, out)
		}
	}
}

// PingAll sends n pings 20 ms apart and fails the test unless every one
// is answered: once the switch has learned, nothing may be lost.
func (h *Host) PingAll(t testing.TB, ip string, n int) {
	t.Helper()
	if sent, recv, out := h.Ping(ip, n, 20*time.Millisecond); sent != n || recv != n {
		t.Fatalf("%s -> %s: %d/%d answered:\n%s", h.NS, ip, recv, n, out)
	}
}

// NoPing fails the test if ip answers any of three pings.
func (h *Host) NoPing(t testing.TB, ip string) {
	t.Helper()
	out, _ := h.lab.Run(h.NS, "ping", "-n", "-c", "3", "-i", "0.2", "-W", "1", ip)
	if recv := countReplies(out, 3); recv != 0 {
		t.Fatalf("%s -> %s: %d answers, want none (isolation):\n%s", h.NS, ip, recv, out)
	}
}

// BackgroundPing starts count pings to ip, interval apart, as Ping sends
// them; wait returns count and how many were answered once ping is done.
func (h *Host) BackgroundPing(t testing.TB, ip string, count int, interval time.Duration) (wait func() (sent, recv int, out string)) {
	t.Helper()
	c, out := h.lab.Start(h.NS, pingArgs(ip, count, interval)...)
	return func() (int, int, string) {
		done := make(chan struct{})
		go func() { c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Duration(count)*interval + 5*time.Second):
			c.Process.Kill()
			<-done
		}
		return count, countReplies(out.String(), count), out.String()
	}
}

// Iperf3 runs an iperf3 TCP test of the given length from h to server and
// returns the receiver's rate in bit/s.
func (h *Host) Iperf3(t testing.TB, server *Host, seconds int) float64 {
	t.Helper()
	srv, srvOut := h.lab.Start(server.NS, "iperf3", "-s", "-1", "-B", server.IP)
	WaitFor(t, 5*time.Second, "iperf3 server listening", func() bool {
		out, _ := h.lab.Run(server.NS, "ss", "-Hltn", "sport = :5201")
		return strings.Contains(out, "5201")
	})
	out, err := h.lab.Run(h.NS, "iperf3", "-J", "-c", server.IP, "-t", strconv.Itoa(seconds), "--connect-timeout", "3000")
	if err != nil {
		srv.Process.Signal(syscall.SIGTERM)
		t.Fatalf("iperf3 %s -> %s: %v\nserver: %s", h.NS, server.IP, err, srvOut)
	}
	var res struct {
		End struct {
			SumReceived struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("iperf3 output: %v\n%s", err, out)
	}
	return res.End.SumReceived.BitsPerSecond
}

// HasXDP reports whether the switch-side interface port has an XDP
// program attached (any mode), as ip link shows it.
func (l *Lab) HasXDP(t testing.TB, port string) bool {
	t.Helper()
	out := l.MustRun(l.SW, "ip", "link", "show", "dev", port)
	return strings.Contains(out, "xdp")
}

// LinkExists reports whether interface name exists in namespace ns.
func (l *Lab) LinkExists(ns, name string) bool {
	_, err := l.Run(ns, "ip", "link", "show", "dev", name)
	return err == nil
}
