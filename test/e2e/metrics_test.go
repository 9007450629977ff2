package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// metricsAddr is where the metrics test asks govs to listen: inside the
// Lab's switch namespace, so a fixed port collides with nothing.
const metricsAddr = "127.0.0.1:9475"

// scrape fetches /metrics from inside the switch namespace ("" if the
// endpoint does not answer).
func scrape(l *Lab) string {
	out, err := l.Run(l.SW, "curl", "-sf", "--max-time", "5", "http://"+metricsAddr+"/metrics")
	if err != nil {
		return ""
	}
	return out
}

// metric returns the value of the sample name{labels} in a scrape, where
// labels is the exact label text (bridge="br0",port="x").
func metric(t *testing.T, body, name, labels string) float64 {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name+"{"+labels+"}") + ` (\S+)$`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s{%s} in the scrape", name, labels)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// sumMetric adds every sample of name.
func sumMetric(body, name string) float64 {
	total := 0.0
	for _, m := range regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(name)+`(?:\{[^}]*\})? (\S+)$`).FindAllStringSubmatch(body, -1) {
		v, _ := strconv.ParseFloat(m[1], 64)
		total += v
	}
	return total
}

// linkCounters reads a host interface's kernel counters.
func linkCounters(t *testing.T, h *Host) map[string]float64 {
	t.Helper()
	var links []struct {
		Stats64 struct {
			RX struct{ Bytes, Packets float64 } `json:"rx"`
			TX struct{ Bytes, Packets float64 } `json:"tx"`
		} `json:"stats64"`
	}
	out := h.lab.MustRun(h.NS, "ip", "-s", "-j", "link", "show", "dev", h.Dev)
	if err := json.Unmarshal([]byte(out), &links); err != nil || len(links) != 1 {
		t.Fatalf("ip -s -j link: %v\n%s", err, out)
	}
	s := links[0].Stats64
	return map[string]float64{"rx_packets": s.RX.Packets, "rx_bytes": s.RX.Bytes, "tx_packets": s.TX.Packets, "tx_bytes": s.TX.Bytes}
}

// snapshot is the switch's port counters (from a scrape) and the hosts'
// kernel counters at one moment.
type snapshot struct {
	port  map[string]map[string]float64 // switch port -> counter
	host  map[string]map[string]float64 // switch port -> its host's counters
	pmd   float64
	reval float64 // revalidation rounds
}

func takeSnapshot(t *testing.T, l *Lab, hosts ...*Host) snapshot {
	t.Helper()
	body := scrape(l)
	if body == "" {
		t.Fatal("metrics endpoint does not answer")
	}
	s := snapshot{port: map[string]map[string]float64{}, host: map[string]map[string]float64{},
		pmd: sumMetric(body, "govs_pmd_packets_total"), reval: sumMetric(body, "govs_revalidator_duration_seconds_count")}
	for _, h := range hosts {
		labels := fmt.Sprintf(`bridge="br0",port=%q`, h.Port)
		s.port[h.Port] = map[string]float64{}
		for _, c := range []string{"rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "rx_dropped", "tx_dropped", "rx_errors", "tx_errors"} {
			s.port[h.Port][c] = metric(t, body, "govs_port_"+c+"_total", labels)
		}
		s.host[h.Port] = linkCounters(t, h)
	}
	return s
}

// TestMetrics scrapes the Prometheus endpoint around a ping run and
// compares the switch's port counters with the hosts' kernel counters:
// what a host's veth transmitted, the switch port received, and the other
// way round, packet for packet (and byte for byte where the kernel counts
// the same bytes).
func TestMetrics(t *testing.T) {
	l := newAppctlLab(t)
	g, a, b := twoHostBridge(t, l)

	if scrape(l) != "" {
		t.Fatal("metrics endpoint answers before metrics-address is set (must be off by default)")
	}
	g.Vsctl(t, "set", "Open_vSwitch", ".", "other_config:metrics-address="+metricsAddr)
	WaitFor(t, 5*time.Second, "metrics endpoint", func() bool { return scrape(l) != "" })

	a.WaitPing(t, b.IP, 10*time.Second)
	time.Sleep(200 * time.Millisecond) // let stragglers (ARP) settle
	before := takeSnapshot(t, l, a, b)
	// The counters must agree whatever happens to the pings; the lower
	// bounds below count the answered ones (a ping may be lost when
	// another test hogs the PMD's CPU on these shared machines).
	sent, n, out := a.Ping(b.IP, 100, 5*time.Millisecond)
	if n < sent/2 {
		t.Fatalf("%d/%d pings answered:\n%s", n, sent, out)
	}

	// The switch port receives what its host transmits and transmits what
	// its host receives. Counters may trail the last packet by a poll.
	var after snapshot
	var mismatch string
	deadline := time.Now().Add(5 * time.Second)
	for {
		after = takeSnapshot(t, l, a, b)
		mismatch = ""
		delta := func(p, c string) float64 { return after.port[p][c] - before.port[p][c] }
		for _, h := range []*Host{a, b} {
			p := h.Port
			for sw, host := range map[string]string{"rx_packets": "tx_packets", "tx_packets": "rx_packets", "tx_bytes": "rx_bytes"} {
				dhost := after.host[p][host] - before.host[p][host]
				if dsw := delta(p, sw); dsw != dhost {
					mismatch += fmt.Sprintf("%s %s grew by %v, its host's %s by %v; ", p, sw, dsw, host, dhost)
				}
			}
		}
		// A veth whose peer runs a native XDP program counts the bytes it
		// transmits without the Ethernet header, so received bytes are
		// checked against what the other port sent on: NORMAL forwarded
		// every frame a sent to b (unicast, or floods that include b).
		for _, pair := range [][2]string{{a.Port, b.Port}, {b.Port, a.Port}} {
			if rx, tx := delta(pair[0], "rx_bytes"), delta(pair[1], "tx_bytes"); rx != tx {
				mismatch += fmt.Sprintf("%s rx_bytes grew by %v, %s tx_bytes by %v; ", pair[0], rx, pair[1], tx)
			}
		}
		if mismatch == "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if mismatch != "" {
		t.Error(mismatch)
	}
	for _, p := range []string{a.Port, b.Port} {
		// n echo requests (a -> b) and n replies (b -> a), 98 bytes each.
		if d := after.port[p]["rx_packets"] - before.port[p]["rx_packets"]; d < float64(n) {
			t.Errorf("%s rx_packets grew by %v, want at least %d", p, d, n)
		}
		if d := after.port[p]["tx_bytes"] - before.port[p]["tx_bytes"]; d < float64(n*98) {
			t.Errorf("%s tx_bytes grew by %v, want at least %d", p, d, n*98)
		}
		for _, c := range []string{"rx_dropped", "tx_dropped", "rx_errors", "tx_errors"} {
			if d := after.port[p][c] - before.port[p][c]; d != 0 {
				t.Errorf("%s %s grew by %v", p, c, d)
			}
		}
	}
	if d := after.pmd - before.pmd; d < float64(2*n) {
		t.Errorf("govs_pmd_packets_total grew by %v, want at least %d", d, 2*n)
	}
	body := scrape(l)
	for _, name := range []string{"govs_pmd_emc_hits_total", "govs_pmd_megaflow_hits_total", "govs_pmd_upcalls_total",
		"govs_pmd_busy_seconds_total", "govs_pmd_idle_seconds_total", "govs_datapath_megaflows", "govs_bridge_rules",
		"govs_revalidator_duration_seconds_bucket", "govs_revalidator_last_duration_seconds"} {
		if !regexp.MustCompile(`(?m)^` + name + `[{ ]`).MatchString(body) {
			t.Errorf("scrape lacks %s", name)
		}
	}
	if hits := sumMetric(body, "govs_pmd_emc_hits_total") + sumMetric(body, "govs_pmd_megaflow_hits_total"); hits < float64(n) {
		t.Errorf("cache hits %v after %d pings each way", hits, n)
	}
	// The revalidator runs every 500 ms and after each change: rounds
	// were timed during the pings.
	if r0, r1 := before.reval, sumMetric(body, "govs_revalidator_duration_seconds_count"); r1 <= r0 {
		t.Errorf("govs_revalidator_duration_seconds_count %v -> %v: no round timed", r0, r1)
	}
	if !strings.Contains(body, `govs_bridge_rules{bridge="br0"} 1`) {
		t.Error("govs_bridge_rules{bridge=\"br0\"} is not 1")
	}

	// Removing the address turns the endpoint off again.
	g.Vsctl(t, "remove", "Open_vSwitch", ".", "other_config", "metrics-address")
	WaitFor(t, 5*time.Second, "metrics endpoint gone", func() bool { return scrape(l) == "" })
}
