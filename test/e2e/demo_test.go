package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// requireDemo skips unless the demo can run here: root and its tools.
func requireDemo(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("govs demo needs root")
	}
	RequireOVSTools(t)
	for _, p := range []string{"ip", "ethtool", "ping", "iperf3"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s not installed", p)
		}
	}
}

var (
	reDemoIperf  = regexp.MustCompile(`iperf3 TCP host-a -> host-b through govs: ([\d.]+) ([KMG]?)bits/sec`)
	reDemoRunDir = regexp.MustCompile(`export OVS_RUNDIR=(\S+)`)
)

// TestDemo runs `govs demo` to the end: ping without loss, an iperf3 rate,
// the statistics, and nothing left behind.
func TestDemo(t *testing.T) {
	requireDemo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, BuildGovs(t), "demo", "--hosts", "3")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	t.Logf("govs demo output:\n%s", out.String())
	if err != nil {
		t.Fatalf("govs demo: %v", err)
	}
	o := out.String()
	for _, w := range []string{
		"=== Step 1/7", "=== Step 7/7", "=== Clean up ===", "=== Done ===",
		"host-a -> host-b: 5/5 replies, 0% packet loss",
		"host-a -> host-c: 5/5 replies, 0% packet loss",
		"Bridge gdemo", "type: afxdp", "afxdp (native)",
	} {
		if !strings.Contains(o, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	m := reDemoIperf.FindStringSubmatch(o)
	if m == nil {
		t.Fatal("no iperf3 rate in the output")
	}
	if rate, _ := strconv.ParseFloat(m[1], 64); rate <= 0 {
		t.Errorf("iperf3 rate %s %sbit/s", m[1], m[2])
	}
	// The statistics table: host-a's port received the iperf3 data.
	if !regexp.MustCompile(`gd\d+a\s+host-a\s+1\s+afxdp \(native\)\s+[1-9]\d{4,}\s`).MatchString(o) {
		t.Errorf("statistics table lacks host-a's rx_packets (>= 10000)")
	}
	checkDemoGone(t, cmd.Process.Pid, o)
}

// TestDemoInterrupt stops the demo with SIGINT while its hosts exist (as
// Ctrl-C does) and checks that it cleans up and exits with 130.
func TestDemoInterrupt(t *testing.T) {
	requireDemo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, BuildGovs(t), "demo", "--hosts", "2")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = pw
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	var out bytes.Buffer
	sent := false
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		// Step 5 starts once every port is up: namespaces, veths, XDP
		// programs and govs all exist.
		if !sent && strings.Contains(sc.Text(), "=== Step 5/7") {
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			sent = true
		}
	}
	err = cmd.Wait()
	o := out.String()
	t.Logf("govs demo output:\n%s", o)
	if !sent {
		t.Fatal("the demo never reached step 5")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("exit: %v, want status 130", err)
	}
	for _, w := range []string{"stopping the demo and cleaning up", "=== Clean up ===", "stopped govs", "deleted namespace"} {
		if !strings.Contains(o, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	if strings.Contains(o, "=== Done ===") {
		t.Error("the demo went on after SIGINT")
	}
	checkDemoGone(t, cmd.Process.Pid, o)
}

// checkDemoGone checks that the demo with this pid left nothing behind:
// namespaces, veths, the bridge's TAP, processes, its directory.
func checkDemoGone(t *testing.T, pid int, out string) {
	t.Helper()
	tag := strconv.Itoa(pid)
	if ns, _ := filepath.Glob("/var/run/netns/govs-demo-" + tag + "-*"); len(ns) > 0 {
		t.Errorf("namespaces left behind: %v", ns)
	}
	for _, pat := range []string{"gd" + tag + "?", "gdemo" + tag} {
		if links, _ := filepath.Glob("/sys/class/net/" + pat); len(links) > 0 {
			t.Errorf("links left behind: %v", links)
		}
	}
	m := reDemoRunDir.FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no OVS_RUNDIR in the output")
	}
	base := filepath.Dir(m[1])
	if _, err := os.Stat(base); !os.IsNotExist(err) {
		t.Errorf("%s left behind (%v)", base, err)
	}
	// govs, ovsdb-server, iperf3: by their command line or environment.
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		cl, _ := os.ReadFile(p + "/cmdline")
		env, _ := os.ReadFile(p + "/environ")
		if bytes.Contains(cl, []byte(base)) || bytes.Contains(cl, []byte("govs-demo-"+tag+"-")) ||
			bytes.Contains(env, []byte("OVS_RUNDIR="+m[1])) {
			t.Errorf("process left behind: %s: %s", p, bytes.ReplaceAll(cl, []byte{0}, []byte{' '}))
		}
	}
}
