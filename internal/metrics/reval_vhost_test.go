package metrics

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	_ "github.com/govs/govs/internal/netdev/vhostuser"
	"github.com/govs/govs/internal/vhost"
	"github.com/govs/govs/internal/vhost/vhosttest"
	"github.com/govs/govs/internal/vswitchd"
)

// histogram returns the one sample of a histogram metric.
func histogram(t *testing.T, reg prometheus.Gatherer, name string) *dto.Histogram {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.Metric) == 1 {
			return mf.Metric[0].GetHistogram()
		}
	}
	t.Fatalf("no histogram %s", name)
	return nil
}

// TestCollectorRevalidator: every revalidation round shows in the
// duration histogram, and the last round's duration in its gauge.
func TestCollectorRevalidator(t *testing.T) {
	ts := newTestSwitch(t)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(ts.sw))
	before := histogram(t, reg, "govs_revalidator_duration_seconds")
	for range 4 {
		ts.sw.Datapath().Revalidate()
	}
	h := histogram(t, reg, "govs_revalidator_duration_seconds")
	if h.GetSampleCount() != before.GetSampleCount()+4 || h.GetSampleSum() <= before.GetSampleSum() {
		t.Errorf("after 4 rounds: count %d sum %v; before: count %d sum %v",
			h.GetSampleCount(), h.GetSampleSum(), before.GetSampleCount(), before.GetSampleSum())
	}
	b := h.GetBucket()
	if len(b) == 0 || b[len(b)-1].GetCumulativeCount() > h.GetSampleCount() {
		t.Errorf("buckets %v for %d rounds", b, h.GetSampleCount())
	}
	if last := value(t, reg, "govs_revalidator_last_duration_seconds", nil); last <= 0 || last > h.GetSampleSum() {
		t.Errorf("last duration %v (sum %v)", last, h.GetSampleSum())
	}
}

// TestCollectorVhostRingFill: a dpdkvhostuser port's virtqueues appear
// with their size, and their fill follows what the guest posts.
func TestCollectorVhostRingFill(t *testing.T) {
	ts := newTestSwitch(t)
	if _, err := ts.sw.AddInterface("br0", vswitchd.PortSpec{Name: "vh0"},
		vswitchd.InterfaceSpec{Name: "vh0", Type: "dpdkvhostuser"}); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(ts.sw))
	if got := sum(t, reg, "govs_vhost_ring_size"); got != 0 {
		t.Errorf("rings before a guest connects: size sum %v", got)
	}
	fe, err := vhosttest.Dial(filepath.Join(ts.runDir, "vh0"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer fe.Close()
	if err := fe.Start(vhost.FeatVersion1|vhost.FeatProtocolFeatures, vhost.ProtoMQ|vhost.ProtoReplyAck, 1, 64); err != nil {
		t.Fatal(err)
	}
	rx := map[string]string{"bridge": "br0", "port": "vh0", "queue": "0", "direction": "rx"}
	tx := map[string]string{"bridge": "br0", "port": "vh0", "queue": "0", "direction": "tx"}
	if s := value(t, reg, "govs_vhost_ring_size", tx); s != 64 {
		t.Errorf("tx ring size %v", s)
	}
	if f := value(t, reg, "govs_vhost_ring_fill", tx); f != 0 {
		t.Errorf("tx ring fill before buffers: %v", f)
	}
	fe.Queues[0].PostRx(10, 2048)
	if f := value(t, reg, "govs_vhost_ring_fill", tx); f != 10 {
		t.Errorf("tx ring fill after 10 buffers: %v", f)
	}
	// Packets from the guest: the PMD receives them, so the rx ring's
	// fill goes back to 0.
	for i := range 3 {
		fe.Queues[1].PostTx(frame(3, byte(10+i), 60))
	}
	deadline := time.Now().Add(5 * time.Second)
	vh0 := map[string]string{"bridge": "br0", "port": "vh0"}
	for value(t, reg, "govs_port_rx_packets_total", vh0) != 3 || value(t, reg, "govs_vhost_ring_fill", rx) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("rx ring fill stays above 0: the PMD does not receive")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
}
