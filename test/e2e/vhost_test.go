package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/govs/govs/internal/testpmd"
)

// The vhost-user tests put dpdk-testpmd (net_virtio_user) on govs'
// dpdkvhostuser and dpdkvhostuserclient ports, as a DPDK container or VM
// would be. testpmd runs in the root namespace on CPU 0, govs in the Lab's
// switch namespace with its PMD on the last CPU; the vhost-user sockets
// are files, so the namespaces do not matter to them.
//
// Traffic is testpmd's PVP loop without loss by construction: "start
// tx_first 4" puts 4 bursts of 32 packets per port in flight, and io
// forwarding sends what port 1 receives out of port 0 and back, so every
// packet circles testpmd → govs → testpmd. The in-flight count (128 per
// direction) is far below every ring's size, so no ring can overflow: a
// packet missing is a packet govs lost. To count, testpmd stops
// forwarding, then drains its receive rings in rxonly mode; then each
// port's TX-packets must equal the other port's RX-packets, and govs'
// Interface statistics must show the same numbers with no drops.

// testpmd MACs and the loop's size.
const (
	tpMAC0      = "02:00:00:00:67:00"
	tpMAC1      = "02:00:00:00:67:01"
	loopBursts  = 4           // tx_first bursts of 32 packets per port
	loopTime    = time.Second // how long the loop runs
	minLoopPkts = 1000        // the least a working loop forwards per direction in loopTime (8 rounds)
	queueSize   = 1024        // virtio ring size testpmd asks for
	hugePages   = 160         // 2 MiB pages for one testpmd with --socket-mem 256
)

// vhostPorts adds vhu0 (ofport 1) and vhu1 (ofport 2) of the given type to
// br0 and returns the --vdev arguments that connect testpmd to them:
// dpdkvhostuser sockets are $OVS_RUNDIR/<interface>, where govs listens;
// for dpdkvhostuserclient testpmd listens (server=1) on dir/<interface>.sock.
func vhostPorts(t *testing.T, g *Govs, typ, dir string) []string {
	t.Helper()
	var vdevs []string
	for i, mac := range []string{tpMAC0, tpMAC1} {
		name := fmt.Sprintf("vhu%d", i)
		cols := []string{"type=" + typ, fmt.Sprintf("ofport_request=%d", i+1)}
		path := filepath.Join(g.RunDir, name)
		server := ""
		if typ == "dpdkvhostuserclient" {
			path = filepath.Join(dir, name+".sock")
			cols = append(cols, "options:vhost-server-path="+path)
			server = ",server=1"
		}
		g.Vsctl(t, append([]string{"add-port", "br0", name, "--", "set", "Interface", name}, cols...)...)
		if n := ofport(t, g, name); n != i+1 {
			t.Fatalf("%s: ofport %d, want %d", name, n, i+1)
		}
		vdevs = append(vdevs, fmt.Sprintf("net_virtio_user%d,path=%s,mac=%s,queue_size=%d%s", i, path, mac, queueSize, server))
	}
	return vdevs
}

// startLoopTestpmd starts testpmd on vdevs with the loop's MACs: port 0
// sends to port 1's MAC and port 1 to port 0's, so NORMAL learns each MAC
// on one port and forwards the loop without flooding once it has.
func startLoopTestpmd(t *testing.T, huge string, vdevs []string) *testpmd.Testpmd {
	t.Helper()
	return testpmd.Start(t, testpmd.Options{
		HugeDir: huge, Vdevs: vdevs, Forward: "io",
		EthPeers: []string{tpMAC1, tpMAC0},
	})
}

var refreshSeq atomic.Int64

// refresh makes govs run a reconfiguration pass and write its status
// back (ovs-vsctl waits for cur_cfg), so link_state and statistics read
// right after are current instead of up to 5 s old.
func refresh(t *testing.T, g *Govs) {
	t.Helper()
	g.Vsctl(t, "set", "Open_vSwitch", ".", fmt.Sprintf("external_ids:gvd-refresh=%d", refreshSeq.Add(1)))
}

// waitLink waits until every interface's link_state is want.
func waitLink(t *testing.T, g *Govs, want string, ifaces ...string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		refresh(t, g)
		var bad []string
		for _, i := range ifaces {
			if s := g.Get(t, "Interface", i, "link_state"); s != want {
				bad = append(bad, i+"="+s)
			}
		}
		if len(bad) == 0 {
			return
		}
		if time.Now().After(deadline) {
			var st []string
			for _, i := range ifaces {
				st = append(st, i+": "+g.Get(t, "Interface", i, "status"))
			}
			t.Fatalf("link_state %v, want %s; status:\n%s\ngovs:\n%s", bad, want, strings.Join(st, "\n"), tail(g.Output(), 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// govsStats returns the current statistics of ifaces.
func govsStats(t *testing.T, g *Govs, ifaces ...string) []map[string]int {
	t.Helper()
	refresh(t, g)
	var st []map[string]int
	for _, i := range ifaces {
		st = append(st, ifaceStats(t, g, i))
	}
	return st
}

// checkLoop runs testpmd's loop through vhu0 and vhu1 and checks that
// neither govs nor anything else lost a packet, counted by testpmd on both
// ports and by govs on both interfaces.
func checkLoop(t *testing.T, g *Govs, tp *testpmd.Testpmd) {
	t.Helper()
	ifaces := []string{"vhu0", "vhu1"}
	waitLink(t, g, "up", ifaces...)
	before := govsStats(t, g, ifaces...)
	tp.Cmd("clear port stats all")
	tp.Cmd("set fwd io")
	tp.Cmd(fmt.Sprintf("start tx_first %d", loopBursts))
	time.Sleep(loopTime)
	tp.Cmd("stop")
	// Drain: the packets in flight when testpmd stopped sending (its
	// tx_first bursts, per direction) are in govs' rings or in testpmd's
	// receive rings until each side polls them. Wait until every packet
	// sent was received, up to a bound: on a loaded machine a PMD may not
	// run for a while, and a fixed pause then reads the counters early.
	tp.Cmd("set fwd rxonly")
	var st []testpmd.PortStats
	for deadline := time.Now().Add(10 * time.Second); ; {
		tp.Cmd("start")
		time.Sleep(300 * time.Millisecond)
		tp.Cmd("stop")
		st = tp.Stats()
		if len(st) != 2 || (st[0].TxPackets == st[1].RxPackets && st[1].TxPackets == st[0].RxPackets) ||
			time.Now().After(deadline) {
			break
		}
	}
	after := govsStats(t, g, ifaces...)
	if len(st) != 2 {
		t.Fatalf("testpmd shows %d ports, want 2", len(st))
	}
	t.Logf("testpmd port 0: tx %d rx %d; port 1: tx %d rx %d", st[0].TxPackets, st[0].RxPackets, st[1].TxPackets, st[1].RxPackets)
	for i, p := range st {
		o := st[1-i]
		if p.TxPackets != o.RxPackets {
			t.Errorf("testpmd port %d sent %d, port %d received %d: %d lost", i, p.TxPackets, 1-i, o.RxPackets, int64(p.TxPackets)-int64(o.RxPackets))
		}
		if p.TxPackets < minLoopPkts {
			t.Errorf("testpmd port %d sent only %d packets in %v: the loop did not run", i, p.TxPackets, loopTime)
		}
		if p.RxMissed+p.RxErrors+p.RxNoMbuf+p.TxErrors != 0 {
			t.Errorf("testpmd port %d errors: %+v", i, p)
		}
		d := func(k string) int { return after[i][k] - before[i][k] }
		if d("rx_packets") != int(p.TxPackets) || d("tx_packets") != int(p.RxPackets) {
			t.Errorf("govs %s: rx %d tx %d; testpmd port %d: tx %d rx %d",
				ifaces[i], d("rx_packets"), d("tx_packets"), i, p.TxPackets, p.RxPackets)
		}
		for _, k := range []string{"rx_dropped", "tx_dropped", "rx_errors", "tx_errors"} {
			if d(k) != 0 {
				t.Errorf("govs %s: %s grew by %d", ifaces[i], k, d(k))
			}
		}
	}
}

// setPortFlows replaces br0's flows with in_port=1,actions=output:2 and
// back, through ovs-ofctl (OpenFlow 1.3) on br0.mgmt; it skips the test
// when govs has no OpenFlow management socket.
func setPortFlows(t *testing.T, g *Govs) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(g.RunDir, "br0.mgmt")); err != nil {
		t.Skip("govs run serves no br0.mgmt (OpenFlow agent not wired in yet)")
	}
	vhostOfctl(t, g, "del-flows", "br0")
	vhostOfctl(t, g, "add-flow", "br0", "in_port=1,actions=output:2")
	vhostOfctl(t, g, "add-flow", "br0", "in_port=2,actions=output:1")
	if out := vhostOfctl(t, g, "dump-flows", "br0"); strings.Count(out, "actions=output:") != 2 {
		t.Fatalf("flows not in place:\n%s", out)
	}
}

// vhostOfctl runs ovs-ofctl -O OpenFlow13 against this govs (OVS_RUNDIR
// finds br0.mgmt) and fails the test on error.
func vhostOfctl(t *testing.T, g *Govs, args ...string) string {
	t.Helper()
	cmd := exec.Command("ovs-ofctl", append([]string{"-O", "OpenFlow13"}, args...)...)
	cmd.Env = g.Env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ovs-ofctl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestVhostTestpmd: two testpmd ports through govs, for each vhost-user
// port type, forwarded by NORMAL and then by port flows.
func TestVhostTestpmd(t *testing.T) {
	testpmd.Require(t)
	huge := testpmd.Hugepages(t, hugePages)
	for _, typ := range []string{"dpdkvhostuser", "dpdkvhostuserclient"} {
		t.Run(typ, func(t *testing.T) {
			_, g := startSwitch(t)
			tp := startLoopTestpmd(t, huge, vhostPorts(t, g, typ, t.TempDir()))
			for _, i := range []string{"vhu0", "vhu1"} {
				t.Logf("%s status: %s", i, g.Get(t, "Interface", i, "status"))
			}
			t.Run("normal", func(t *testing.T) { checkLoop(t, g, tp) })
			t.Run("flows", func(t *testing.T) {
				setPortFlows(t, g)
				checkLoop(t, g, tp)
			})
		})
	}
}

// TestVhostFrontendRestart: testpmd quits and a new one comes on the same
// sockets; govs keeps the ports (same ofports, link down meanwhile) and
// the loop runs again.
func TestVhostFrontendRestart(t *testing.T) {
	testpmd.Require(t)
	huge := testpmd.Hugepages(t, hugePages)
	for _, typ := range []string{"dpdkvhostuser", "dpdkvhostuserclient"} {
		t.Run(typ, func(t *testing.T) {
			_, g := startSwitch(t)
			vdevs := vhostPorts(t, g, typ, t.TempDir())
			tp := startLoopTestpmd(t, huge, vdevs)
			checkLoop(t, g, tp)
			tp.Stop()
			waitLink(t, g, "down", "vhu0", "vhu1")
			for i, name := range []string{"vhu0", "vhu1"} {
				if n := ofport(t, g, name); n != i+1 {
					t.Errorf("%s: ofport %d after the frontend left, want %d", name, n, i+1)
				}
			}
			tp = startLoopTestpmd(t, huge, vdevs)
			checkLoop(t, g, tp)
		})
	}
}

// TestVhostGovsRestart: govs stops and starts again on the same database
// while testpmd (the vhost-user server of dpdkvhostuserclient ports)
// keeps running; govs reconnects and the loop runs again.
func TestVhostGovsRestart(t *testing.T) {
	testpmd.Require(t)
	huge := testpmd.Hugepages(t, hugePages)
	_, g := startSwitch(t)
	tp := startLoopTestpmd(t, huge, vhostPorts(t, g, "dpdkvhostuserclient", t.TempDir()))
	checkLoop(t, g, tp)
	g.Stop(t)
	g.Start(t)
	checkLoop(t, g, tp)
	if !tp.Running() {
		t.Error("testpmd exited")
	}
}

// TestVhostAFXDP: a dpdkvhostuser port (testpmd) and an afxdp port (a veth
// to a host namespace) on one bridge. testpmd doesn't answer ARP or ping,
// so both directions are counted: a tx_first burst from testpmd arrives in
// the namespace (its veth's rx_packets), and pings from the namespace to
// testpmd's MAC (a static neighbour entry) arrive in testpmd (rxonly).
func TestVhostAFXDP(t *testing.T) {
	testpmd.Require(t)
	huge := testpmd.Hugepages(t, hugePages)
	l, g := startSwitch(t)
	h := l.Host("h", "10.0.0.1/24")
	addPort(t, g, "br0", h, "afxdp")
	hostMAC := strings.TrimSpace(l.MustRun(h.NS, "cat", "/sys/class/net/"+h.Dev+"/address"))
	g.Vsctl(t, "add-port", "br0", "vhu0", "--", "set", "Interface", "vhu0", "type=dpdkvhostuser")
	ofport(t, g, "vhu0")
	tp := testpmd.Start(t, testpmd.Options{
		HugeDir:  huge,
		Vdevs:    []string{fmt.Sprintf("net_virtio_user0,path=%s,mac=%s,queue_size=%d", filepath.Join(g.RunDir, "vhu0"), tpMAC0, queueSize)},
		Forward:  "rxonly",
		EthPeers: []string{hostMAC},
	})
	waitLink(t, g, "up", "vhu0", h.Port)
	hostRx := func() int {
		n, err := strconv.Atoi(strings.TrimSpace(l.MustRun(h.NS, "cat", "/sys/class/net/"+h.Dev+"/statistics/rx_packets")))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	// testpmd → namespace: 2 bursts of 32.
	rx0 := hostRx()
	tp.Cmd("start tx_first 2")
	const burst = 2 * 32
	WaitFor(t, 5*time.Second, "the burst in the namespace", func() bool { return hostRx()-rx0 >= burst })
	time.Sleep(200 * time.Millisecond)
	if got := hostRx() - rx0; got != burst {
		t.Errorf("namespace received %d frames, testpmd sent %d", got, burst)
	}
	st := govsStats(t, g, "vhu0", h.Port)
	t.Logf("govs vhu0 %v; %s %v", st[0], h.Port, st[1])
	if st[0]["rx_packets"] != burst || st[1]["tx_packets"] < burst {
		t.Errorf("govs counted vhu0 rx %d, %s tx %d; want %d", st[0]["rx_packets"], h.Port, st[1]["tx_packets"], burst)
	}

	// namespace → testpmd: 20 pings nobody answers.
	tp.Cmd("clear port stats all")
	tp.Cmd("set verbose 1") // one line per received frame, for the error below
	mark := tp.Mark()
	l.MustRun(h.NS, "ip", "neigh", "replace", "10.0.0.2", "lladdr", tpMAC0, "dev", h.Dev, "nud", "permanent")
	// ping itself, not Host.Ping: that one keeps sending until answered.
	out, _ := l.Run(h.NS, "ping", "-n", "-q", "-c", "20", "-i", "0.02", "-W", "1", "10.0.0.2")
	if !strings.Contains(out, "20 packets transmitted, 0 received") {
		t.Fatalf("ping: want 20 sent, none answered:\n%s", out)
	}
	var got uint64
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if got = tp.Stats()[0].RxPackets; got >= 20 || time.Now().After(deadline) {
			break
		}
	}
	time.Sleep(200 * time.Millisecond) // anything more than the 20 shows up too
	if got = tp.Stats()[0].RxPackets; got != 20 {
		st := govsStats(t, g, "vhu0", h.Port)
		t.Errorf("testpmd received %d frames, the namespace sent 20 pings; govs vhu0 %v, %s %v; host %s:\n%s",
			got, st[0], h.Port, st[1], l.MustRun(h.NS, "ip", "-s", "link", "show", "dev", h.Dev), tail(tp.Output()[mark:], 20))
	}
	tp.Cmd("stop")
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
