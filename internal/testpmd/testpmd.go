// Package testpmd drives dpdk-testpmd (Debian's dpdk) with net_virtio_user
// vdevs from tests: the DPDK container side of govs' vhost-user ports.
// It reserves the hugepages testpmd needs and gives them back, starts
// testpmd interactively with its lcores on CPU 0, sends it commands and
// reads its port counters.
package testpmd

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// dpdk-testpmd with net_virtio_user vdevs is the DPDK container (or VM)
// side of govs' vhost-user ports. It needs 2 MiB hugepages on a hugetlbfs
// mount, its own --file-prefix, --no-pci and --single-file-segments
// (without it vhost-user refuses "too many memory regions"); with
// server=1 it is the vhost-user server and blocks at start until the
// switch connects (dpdkvhostuserclient). Its lcores are pinned to CPU 0,
// leaving CPU 1 to govs' PMD, as in the PVP benchmark.

// Require skips the test unless it runs as root with dpdk-testpmd
// installed.
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (hugepages)")
	}
	if _, err := exec.LookPath("dpdk-testpmd"); err != nil {
		t.Skip("dpdk-testpmd not installed (Debian's dpdk)")
	}
}

// Hugepages makes sure need free 2 MiB pages exist, adding to
// nr_hugepages only what is missing, and mounts a private hugetlbfs under
// /tmp/gvd-huge-*. When the test ends it removes the files testpmd left
// there, unmounts it and gives back the pages it added.
func Hugepages(t testing.TB, need int) string {
	t.Helper()
	if free := meminfo(t, "HugePages_Free"); free < need {
		cur := meminfo(t, "HugePages_Total")
		if err := os.WriteFile("/proc/sys/vm/nr_hugepages", []byte(strconv.Itoa(cur+need-free)), 0); err != nil {
			t.Skipf("cannot reserve hugepages: %v", err)
		}
		added := meminfo(t, "HugePages_Total") - cur
		t.Cleanup(func() {
			now := meminfo(t, "HugePages_Total")
			os.WriteFile("/proc/sys/vm/nr_hugepages", []byte(strconv.Itoa(max(now-added, 0))), 0)
		})
		if free := meminfo(t, "HugePages_Free"); free < need {
			t.Skipf("only %d free hugepages, want %d", free, need)
		}
	}
	dir, err := os.MkdirTemp("/tmp", "gvd-huge-")
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("nodev", dir, "hugetlbfs", 0, "pagesize=2M"); err != nil {
		os.Remove(dir)
		t.Skipf("mount hugetlbfs: %v", err)
	}
	t.Cleanup(func() {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			os.Remove(filepath.Join(dir, e.Name()))
		}
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
		os.Remove(dir)
	})
	return dir
}

func meminfo(t testing.TB, key string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + key + `:\s+(\d+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no %s in /proc/meminfo", key)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// Options describe one dpdk-testpmd run.
type Options struct {
	HugeDir string   // from Hugepages
	Vdevs   []string // --vdev arguments, one per port
	Forward string   // --forward-mode (default io)
	// EthPeers are the destination MACs of the packets port i sends in
	// txonly / tx_first bursts (--eth-peer i,MAC); "" keeps the default.
	EthPeers []string
	// SocketMem is --socket-mem in MiB (default 256).
	SocketMem int
}

// Testpmd is an interactive dpdk-testpmd. Its stdin is a pipe the test
// holds open, so commands can be sent at any time.
type Testpmd struct {
	t      testing.TB
	prefix string
	huge   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	exited chan struct{}

	mu  sync.Mutex
	out strings.Builder
}

var testpmdSeq atomic.Int32

// Start starts testpmd on CPU 0 and waits for its prompt (with
// server=1 vdevs, the prompt appears once the switch has connected). It
// is stopped and its files are removed when the test ends.
func Start(t testing.TB, o Options) *Testpmd {
	t.Helper()
	if o.Forward == "" {
		o.Forward = "io"
	}
	if o.SocketMem == 0 {
		o.SocketMem = 256
	}
	tp := &Testpmd{
		t:      t,
		prefix: fmt.Sprintf("gvd%d-%d", os.Getpid(), testpmdSeq.Add(1)),
		huge:   o.HugeDir,
		exited: make(chan struct{}),
	}
	args := []string{"-oL", "-eL", "dpdk-testpmd",
		"--lcores", "0@0,1@0", "--no-pci", "--file-prefix=" + tp.prefix,
		"--huge-dir=" + o.HugeDir, "--socket-mem", strconv.Itoa(o.SocketMem), "--single-file-segments"}
	for _, v := range o.Vdevs {
		args = append(args, "--vdev", v)
	}
	args = append(args, "--", "-i", "--nb-cores=1", "--total-num-mbufs=8192", "--forward-mode="+o.Forward)
	for i, m := range o.EthPeers {
		if m != "" {
			args = append(args, fmt.Sprintf("--eth-peer=%d,%s", i, m))
		}
	}
	// stdbuf: testpmd's stdout is a pipe, block-buffered otherwise.
	tp.cmd = exec.Command("stdbuf", args...)
	var err error
	if tp.stdin, err = tp.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := tp.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	tp.cmd.Stderr = tp.cmd.Stdout
	if err := tp.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go tp.read(stdout)
	t.Cleanup(tp.Stop)
	tp.WaitOutput("testpmd> ", 0, 30*time.Second)
	return tp
}

// read copies testpmd's output into tp.out, then reaps the process.
func (tp *Testpmd) read(r io.Reader) {
	br := bufio.NewReader(r)
	buf := make([]byte, 4096)
	for {
		n, err := br.Read(buf)
		tp.mu.Lock()
		tp.out.Write(buf[:n])
		tp.mu.Unlock()
		if err != nil {
			break
		}
	}
	tp.cmd.Wait()
	close(tp.exited)
}

// Output returns everything testpmd printed so far.
func (tp *Testpmd) Output() string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.out.String()
}

// Mark returns the current output length, for WaitOutput.
func (tp *Testpmd) Mark() int { return len(tp.Output()) }

// WaitOutput waits until s appears in the output after offset from,
// failing the test after timeout or if testpmd exits.
func (tp *Testpmd) WaitOutput(s string, from int, timeout time.Duration) string {
	tp.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out := tp.Output()
		if i := strings.Index(out[from:], s); i >= 0 {
			return out[from : from+i+len(s)]
		}
		select {
		case <-tp.exited:
			tp.t.Fatalf("testpmd exited before printing %q:\n%s", s, tail(tp.Output(), 40))
		default:
		}
		if time.Now().After(deadline) {
			tp.t.Fatalf("testpmd: no %q within %v:\n%s", s, timeout, tail(out, 40))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Cmd sends one command and waits for the next prompt.
func (tp *Testpmd) Cmd(cmd string) string {
	tp.t.Helper()
	from := tp.Mark()
	if _, err := io.WriteString(tp.stdin, cmd+"\n"); err != nil {
		tp.t.Fatalf("testpmd %q: %v", cmd, err)
	}
	return tp.WaitOutput("testpmd> ", from, 15*time.Second)
}

// PortStats are the counters `show port stats all` prints for one port.
type PortStats struct {
	RxPackets, RxMissed, RxErrors, RxNoMbuf uint64
	TxPackets, TxErrors                     uint64
}

var portStatsRe = regexp.MustCompile(`NIC statistics for port (\d+)\s+#+\s+` +
	`RX-packets:\s+(\d+)\s+RX-missed:\s+(\d+)\s+RX-bytes:\s+\d+\s+` +
	`RX-errors:\s+(\d+)\s+RX-nombuf:\s+(\d+)\s+` +
	`TX-packets:\s+(\d+)\s+TX-errors:\s+(\d+)`)

// Stats returns every port's counters.
func (tp *Testpmd) Stats() []PortStats {
	tp.t.Helper()
	out := tp.Cmd("show port stats all")
	var st []PortStats
	for _, m := range portStatsRe.FindAllStringSubmatch(out, -1) {
		n := func(i int) uint64 { v, _ := strconv.ParseUint(m[i], 10, 64); return v }
		if int(n(1)) != len(st) {
			tp.t.Fatalf("port stats out of order:\n%s", out)
		}
		st = append(st, PortStats{
			RxPackets: n(2), RxMissed: n(3), RxErrors: n(4), RxNoMbuf: n(5),
			TxPackets: n(6), TxErrors: n(7),
		})
	}
	if len(st) == 0 {
		tp.t.Fatalf("no port stats in:\n%s", out)
	}
	return st
}

// Running reports whether testpmd is still running.
func (tp *Testpmd) Running() bool {
	select {
	case <-tp.exited:
		return false
	default:
		return true
	}
}

// Stop quits testpmd (killing it if it does not exit within 5 s) and
// removes its runtime directory and the hugepage files it leaves behind.
// It is safe to call more than once.
func (tp *Testpmd) Stop() {
	if tp.Running() {
		io.WriteString(tp.stdin, "stop\nquit\n")
		select {
		case <-tp.exited:
		case <-time.After(5 * time.Second):
			tp.cmd.Process.Kill()
			<-tp.exited
		}
	}
	tp.stdin.Close()
	os.RemoveAll("/var/run/dpdk/" + tp.prefix)
	if files, _ := filepath.Glob(filepath.Join(tp.huge, tp.prefix+"*")); len(files) > 0 {
		for _, f := range files {
			os.Remove(f)
		}
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
