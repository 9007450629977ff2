package vhostuser

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

	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/packet"
	"golang.org/x/sys/unix"
)

// hugepages makes sure need free 2 MiB pages exist and a hugetlbfs is
// mounted for testpmd, and undoes what it did when the test ends.
func hugepages(t *testing.T, need int) string {
	t.Helper()
	free := meminfo(t, "HugePages_Free")
	if free < need {
		cur := meminfo(t, "HugePages_Total")
		want := cur + need - free
		if err := os.WriteFile("/proc/sys/vm/nr_hugepages", []byte(strconv.Itoa(want)), 0); err != nil {
			t.Skipf("cannot reserve hugepages: %v", err)
		}
		added := meminfo(t, "HugePages_Total") - cur
		t.Cleanup(func() {
			now := meminfo(t, "HugePages_Total")
			os.WriteFile("/proc/sys/vm/nr_hugepages", []byte(strconv.Itoa(max(now-added, 0))), 0)
		})
		if meminfo(t, "HugePages_Free") < need {
			t.Skipf("only %d free hugepages", meminfo(t, "HugePages_Free"))
		}
	}
	dir := fmt.Sprintf("/tmp/gvh-huge-%d", os.Getpid())
	if err := os.MkdirAll(dir, 0o700); err != nil {
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
		unix.Unmount(dir, 0)
		os.Remove(dir)
	})
	return dir
}

func meminfo(t *testing.T, key string) int {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(key + `:\s+(\d+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no %s in /proc/meminfo", key)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// testpmd is an interactive dpdk-testpmd whose stdin we hold open.
type testpmd struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	mu     sync.Mutex
	out    strings.Builder
	prefix string
	huge   string
}

func startTestpmd(t *testing.T, huge string, vdevs ...string) *testpmd {
	t.Helper()
	tp := &testpmd{prefix: fmt.Sprintf("gvh%d", os.Getpid()), huge: huge}
	args := []string{"--lcores", "0@0,1@0", "--no-pci", "--file-prefix=" + tp.prefix, "--huge-dir=" + huge,
		"--socket-mem", "256", "--single-file-segments", "--log-level=7"}
	for _, v := range vdevs {
		args = append(args, "--vdev", v)
	}
	args = append(args, "--", "-i", "--nb-cores=1", "--total-num-mbufs=8192", "--forward-mode=io")
	// stdbuf: testpmd's stdout is a pipe, block-buffered otherwise.
	tp.cmd = exec.Command("stdbuf", append([]string{"-oL", "-eL", "dpdk-testpmd"}, args...)...)
	var err error
	if tp.stdin, err = tp.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, _ := tp.cmd.StdoutPipe()
	tp.cmd.Stderr = tp.cmd.Stdout
	if err := tp.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r := bufio.NewReader(stdout)
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			tp.mu.Lock()
			tp.out.Write(buf[:n])
			tp.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(tp.stop)
	return tp
}

func (tp *testpmd) output() string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.out.String()
}

func (tp *testpmd) waitFor(t *testing.T, s string, from int) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(tp.output()[from:], s); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) || tp.cmd.ProcessState != nil {
			t.Fatalf("testpmd: no %q; output:\n%s", s, tp.output())
		}
	}
}

func (tp *testpmd) send(cmd string) { io.WriteString(tp.stdin, cmd+"\n") }

func (tp *testpmd) stop() {
	tp.send("stop")
	tp.send("quit")
	done := make(chan struct{})
	go func() { tp.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		tp.cmd.Process.Kill()
		<-done
	}
	os.RemoveAll("/var/run/dpdk/" + tp.prefix)
}

// portStats runs "show port stats all" and returns RX-packets per port.
func (tp *testpmd) rxPackets(t *testing.T) []int {
	from := len(tp.output())
	tp.send("show port stats all")
	tp.waitFor(t, "NIC statistics for port 1", from)
	time.Sleep(100 * time.Millisecond)
	var rx []int
	for _, m := range regexp.MustCompile(`RX-packets:\s+(\d+)`).FindAllStringSubmatch(tp.output()[from:], -1) {
		n, _ := strconv.Atoi(m[1])
		rx = append(rx, n)
	}
	return rx
}

// forward is the datapath stand-in: a ↔ b, until stop is closed.
func forward(a, b netdev.Netdev, stop chan struct{}, sentB *atomic.Uint64, wg *sync.WaitGroup) {
	defer wg.Done()
	ba, bb := packet.NewBatch(), packet.NewBatch()
	for {
		select {
		case <-stop:
			return
		default:
		}
		if n, _ := a.RxQueues()[0].Recv(ba); n > 0 {
			sentB.Add(uint64(b.Send(0, ba)))
		}
		if n, _ := b.RxQueues()[0].Recv(bb); n > 0 {
			a.Send(0, bb)
		}
	}
}

func requireTestpmd(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (hugepages)")
	}
	if _, err := exec.LookPath("dpdk-testpmd"); err != nil {
		t.Skip("dpdk-testpmd not installed")
	}
}

// TestTestpmd runs DPDK's virtio-user against our ports in both modes:
// testpmd forwards io between its two ports after a tx_first burst, so
// packets circle testpmd → port A → (this test) → port B → testpmd.
func TestTestpmd(t *testing.T) {
	requireTestpmd(t)
	for _, mode := range []string{TypeServer, TypeClient} {
		t.Run(mode, func(t *testing.T) {
			huge := hugepages(t, 160)
			dir := t.TempDir()
			var ports [2]netdev.Netdev
			var vdevs []string
			for i := range ports {
				name := fmt.Sprintf("vhu%d", i)
				spec := netdev.Spec{Name: name, Type: mode, RunDir: dir}
				path := filepath.Join(dir, name)
				vdev := fmt.Sprintf("net_virtio_user%d,path=%s,queue_size=256", i, path)
				if mode == TypeClient {
					path = filepath.Join(dir, name+".sock")
					spec.Options = map[string]string{"vhost-server-path": path}
					vdev = fmt.Sprintf("net_virtio_user%d,path=%s,server=1,queue_size=256", i, path)
				}
				p, err := netdev.Open(spec)
				if err != nil {
					t.Fatal(err)
				}
				defer p.Close()
				ports[i] = p
				vdevs = append(vdevs, vdev)
			}
			tp := startTestpmd(t, huge, vdevs...)
			tp.waitFor(t, "testpmd> ", 0)
			for _, p := range ports {
				eventually(t, p.Name()+" link up", p.LinkUp)
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var sentB atomic.Uint64
			wg.Add(1)
			go forward(ports[0], ports[1], stop, &sentB, &wg)
			tp.send("start tx_first")
			time.Sleep(2 * time.Second)
			tp.send("stop")
			time.Sleep(300 * time.Millisecond)
			close(stop)
			wg.Wait()
			rx := tp.rxPackets(t)
			if len(rx) != 2 {
				t.Fatalf("port stats: %v\n%s", rx, tp.output())
			}
			sent := sentB.Load()
			t.Logf("%s: sent to port B %d, testpmd port 1 received %d, port 0 received %d; status %v",
				mode, sent, rx[1], rx[0], ports[0].Status())
			if sent < 1000 || uint64(rx[1]) > sent || sent-uint64(rx[1]) > 512 {
				t.Errorf("forwarded %d into port B, testpmd received %d there", sent, rx[1])
			}
		})
	}
}
