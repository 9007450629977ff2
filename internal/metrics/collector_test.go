package metrics

import (
	"encoding/binary"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/govs/govs/internal/bridge"
	"github.com/govs/govs/internal/dpif"
	"github.com/govs/govs/internal/netdev/dummy"
	"github.com/govs/govs/internal/race"
	"github.com/govs/govs/internal/vswitchd"
)

// frame is an Ethernet frame of size bytes from src to dst (a local
// experimental ethertype: NORMAL switches anything).
func frame(src, dst byte, size int) []byte {
	f := make([]byte, size)
	copy(f[0:6], []byte{2, 0, 0, 0, 0, dst})
	copy(f[6:12], []byte{2, 0, 0, 0, 0, src})
	binary.BigEndian.PutUint16(f[12:], 0x88b5)
	return f
}

type testSwitch struct {
	sw     *bridge.Switch
	ports  map[string]*dummy.Port
	runDir string
}

func newTestSwitch(t *testing.T) *testSwitch {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	runDir := t.TempDir()
	sw, err := bridge.New(bridge.Options{RunDir: runDir, Log: log,
		Datapath: dpif.Config{PMDSleepMax: time.Millisecond, RevalidateInterval: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sw.Close)
	if err := sw.AddBridge(vswitchd.BridgeSpec{Name: "br0", DatapathType: "netdev"}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"p1", "p2"} {
		if _, err := sw.AddInterface("br0", vswitchd.PortSpec{Name: n}, vswitchd.InterfaceSpec{Name: n, Type: "dummy"}); err != nil {
			t.Fatal(err)
		}
	}
	ts := &testSwitch{sw: sw, ports: map[string]*dummy.Port{}, runDir: runDir}
	for _, p := range sw.Datapath().PortEntries() {
		ts.ports[p.Dev.Name()] = p.Dev.(*dummy.Port)
	}
	return ts
}

// send injects n frames of size bytes p1 -> p2 and waits until p2
// transmitted them.
func (ts *testSwitch) send(t *testing.T, n, size int) {
	t.Helper()
	before := ts.ports["p2"].Stats().TxPackets
	for range n {
		for {
			err := ts.ports["p1"].Inject(0, frame(1, 2, size))
			if err == nil {
				break
			}
			time.Sleep(time.Millisecond) // receive queue full: let the PMD drain it
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for ts.ports["p2"].Stats().TxPackets < before+uint64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("forwarded %d of %d", ts.ports["p2"].Stats().TxPackets-before, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// value returns the metric name{labels} from a gather.
func value(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for k, v := range labels {
				if labelValue(m, k) != v {
					continue next
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no %s%v", name, labels)
	return 0
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// sum adds name over every series (every PMD).
func sum(t *testing.T, reg prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				total += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return total
}

func TestCollectorMatchesTraffic(t *testing.T) {
	ts := newTestSwitch(t)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(ts.sw))
	const n, size = 40, 100
	ts.send(t, n, size)

	p1 := map[string]string{"bridge": "br0", "port": "p1"}
	p2 := map[string]string{"bridge": "br0", "port": "p2"}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"govs_port_rx_packets_total", p1, n},
		{"govs_port_rx_bytes_total", p1, n * size},
		{"govs_port_tx_packets_total", p2, n},
		{"govs_port_tx_bytes_total", p2, n * size},
		{"govs_port_rx_dropped_total", p1, 0},
		{"govs_port_tx_errors_total", p2, 0},
		{"govs_bridge_rules", map[string]string{"bridge": "br0"}, 1},
		{"govs_bridge_mac_entries", map[string]string{"bridge": "br0"}, 1},
		{"govs_datapath_megaflows", nil, 1},
		{"govs_datapath_ports", nil, 2},
	} {
		if got := value(t, reg, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	if got := sum(t, reg, "govs_pmd_packets_total"); got != n {
		t.Errorf("sum of govs_pmd_packets_total = %v, want %d", got, n)
	}
	hits := sum(t, reg, "govs_pmd_emc_hits_total") + sum(t, reg, "govs_pmd_megaflow_hits_total") + sum(t, reg, "govs_pmd_upcalls_total")
	if hits != n {
		t.Errorf("emc + megaflow hits + upcalls = %v, want %d", hits, n)
	}
	if sum(t, reg, "govs_pmd_busy_seconds_total")+sum(t, reg, "govs_pmd_idle_seconds_total") <= 0 {
		t.Error("no PMD time counted")
	}

	// pmd-stats-clear resets what ovs-appctl shows, not the counters.
	ts.sw.Datapath().ClearPMDStats()
	if got := sum(t, reg, "govs_pmd_packets_total"); got != n {
		t.Errorf("after ClearPMDStats: govs_pmd_packets_total = %v, want %d", got, n)
	}
	ts.send(t, n, size)
	if got := sum(t, reg, "govs_pmd_packets_total"); got != 2*n {
		t.Errorf("after more traffic: govs_pmd_packets_total = %v, want %d", got, 2*n)
	}
	if got := value(t, reg, "govs_port_rx_packets_total", p1); got != 2*n {
		t.Errorf("p1 rx = %v, want %d", got, 2*n)
	}
	// The pedantic registry checks Describe against Collect.
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
}

func TestCollectorAllocations(t *testing.T) {
	race.SkipAllocs(t)
	ts := newTestSwitch(t)
	c := NewCollector(ts.sw)
	ch := make(chan prometheus.Metric, 1024)
	done := make(chan struct{})
	go func() {
		for range ch {
		}
		close(done)
	}()
	// A scrape allocates its metrics; what matters is that it does not
	// grow with traffic (nothing is counted per packet). Check it is
	// bounded and independent of how much was forwarded.
	before := testing.AllocsPerRun(5, func() { c.Collect(ch) })
	ts.send(t, 200, 64)
	after := testing.AllocsPerRun(5, func() { c.Collect(ch) })
	close(ch)
	<-done
	if after > before*1.5+10 {
		t.Errorf("scrape allocations grew with traffic: %v -> %v", before, after)
	}
}

func TestServerEndpoint(t *testing.T) {
	ts := newTestSwitch(t)
	s := NewServer(ts.sw, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer s.Close()
	if s.Addr() != "" {
		t.Fatal("listening before an address was set")
	}
	s.Apply(map[string]string{OtherConfigKey: "127.0.0.1:0"})
	addr := s.Addr()
	if addr == "" {
		t.Fatal("not listening after Apply")
	}
	ts.send(t, 3, 80)
	body := get(t, "http://"+addr+"/metrics")
	for _, want := range []string{
		`govs_port_rx_packets_total{bridge="br0",port="p1"} 3`,
		`govs_port_tx_bytes_total{bridge="br0",port="p2"} 240`,
		`# TYPE govs_pmd_packets_total counter`,
		`go_goroutines `,
		`process_cpu_seconds_total `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("no %q in /metrics", want)
		}
	}
	// The same address again keeps the listener; a new one moves it;
	// none stops it.
	s.Apply(map[string]string{OtherConfigKey: "127.0.0.1:0", "other": "x"})
	if s.Addr() != addr {
		t.Errorf("unchanged metrics-address moved the listener: %s -> %s", addr, s.Addr())
	}
	s.Apply(map[string]string{})
	if s.Addr() != "" {
		t.Error("still listening after metrics-address was removed")
	}
	if _, err := http.Get("http://" + addr + "/metrics"); err == nil {
		t.Error("old address still answers")
	}
	if err := s.SetAddress("tcp:127.0.0.1:0"); err != nil || s.Addr() == "" {
		t.Errorf("tcp: prefix: %v", err)
	}
	if err := s.SetAddress("256.0.0.1:1"); err == nil {
		t.Error("bad address accepted")
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, b)
	}
	return string(b)
}

func TestWatchOtherConfig(t *testing.T) {
	var seen []map[string]string
	sw := WatchOtherConfig(vswitchd.NewLogSwitch(slog.New(slog.NewTextHandler(io.Discard, nil))),
		func(oc map[string]string) { seen = append(seen, oc) })
	if err := sw.SetOtherConfig(map[string]string{OtherConfigKey: ":9475"}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0][OtherConfigKey] != ":9475" {
		t.Errorf("seen %v", seen)
	}
	if len(sw.DatapathTypes()) == 0 {
		t.Error("other methods not passed through")
	}
}
