package odp

import (
	"sync"
	"testing"

	"github.com/govs/govs/internal/race"
)

// run sends n packets of size bytes evenly over durNs starting at startNs
// and counts passes and the remark levels seen.
func run(m *Meter, startNs, durNs int64, n, size int) (passed int, remarked int) {
	for i := range n {
		ok, prec := m.Pass(startNs+durNs*int64(i)/int64(n), size)
		if ok {
			passed++
		}
		if prec != 0 {
			remarked++
		}
	}
	return
}

func TestMeterPktpsDrop(t *testing.T) {
	m := NewMeter(MeterConfig{Pktps: true, Burst: true, Stats: true,
		Bands: []MeterBand{{Type: MeterBandDrop, Rate: 1000, Burst: 10}}})
	// 5000 pkt/s for 2 s against 1000 pkt/s: ~2000 + the burst pass.
	passed, _ := run(m, 1e9, 2e9, 10000, 64)
	if passed < 2000 || passed > 2012 {
		t.Errorf("passed %d of 10000, want 2000 + burst 10", passed)
	}
	var s MeterStats
	m.Stats(&s)
	if s.Packets != 10000 || s.Bytes != 640000 || s.Bands[0].Packets != uint64(10000-passed) {
		t.Errorf("stats %+v", s)
	}
}

func TestMeterUnderRatePasses(t *testing.T) {
	m := NewMeter(MeterConfig{Kbps: true, Bands: []MeterBand{{Type: MeterBandDrop, Rate: 1000}}})
	// 1000-byte packets at 100 pkt/s = 800 kbit/s, under 1000 kbit/s.
	if passed, _ := run(m, 0, 10e9, 1000, 1000); passed != 1000 {
		t.Errorf("passed %d of 1000 under the rate", passed)
	}
}

func TestMeterKbpsRate(t *testing.T) {
	m := NewMeter(MeterConfig{Kbps: true, Burst: true,
		Bands: []MeterBand{{Type: MeterBandDrop, Rate: 8000, Burst: 80}}})
	// 1000-byte packets (8 kbit) at 4000 pkt/s = 32 Mbit/s for 1 s against
	// 8 Mbit/s: 1000 pass, plus a burst of 80 kbit = 10 packets.
	passed, _ := run(m, 5e9, 1e9, 4000, 1000)
	if passed < 1000 || passed > 1011 {
		t.Errorf("passed %d, want about 1010", passed)
	}
}

func TestMeterBurst(t *testing.T) {
	m := NewMeter(MeterConfig{Pktps: true, Burst: true,
		Bands: []MeterBand{{Type: MeterBandDrop, Rate: 10, Burst: 50}}})
	// All at once after idling: exactly the burst passes.
	if passed, _ := run(m, 1e9, 0, 200, 64); passed != 50 {
		t.Errorf("burst passed %d, want 50", passed)
	}
	// One second later the bucket has refilled by the rate.
	if passed, _ := run(m, 2e9, 0, 200, 64); passed != 10 {
		t.Errorf("after 1 s passed %d, want 10", passed)
	}
}

func TestMeterDefaultBurstIsOneSecond(t *testing.T) {
	m := NewMeter(MeterConfig{Pktps: true, Bands: []MeterBand{{Type: MeterBandDrop, Rate: 100, Burst: 5}}})
	if passed, _ := run(m, 1e9, 0, 500, 64); passed != 100 {
		t.Errorf("passed %d, want a bucket of one second (100)", passed)
	}
}

// TestMeterHighestExceededBandApplies has a remark band (bursts of 10
// absorb the arrival pattern: a bucket of one packet would lose the credit
// of every packet gap shorter than its rate's) at 1000 pkt/s and
// a drop band at 2000 pkt/s: at 1500 pkt/s only the remark band is
// exceeded; at 4000 pkt/s both are and the drop band (higher rate) wins.
func TestMeterHighestExceededBandApplies(t *testing.T) {
	cfg := MeterConfig{Pktps: true, Burst: true, Bands: []MeterBand{
		{Type: MeterBandDSCPRemark, Rate: 1000, Burst: 10, PrecLevel: 2},
		{Type: MeterBandDrop, Rate: 2000, Burst: 10},
	}}
	m := NewMeter(cfg)
	passed, remarked := run(m, 1e9, 1e9, 1500, 64)
	if passed != 1500 {
		t.Errorf("at 1500 pkt/s %d passed, want all", passed)
	}
	if remarked < 485 || remarked > 505 {
		t.Errorf("at 1500 pkt/s %d remarked, want ~500", remarked)
	}
	m = NewMeter(cfg)
	passed, remarked = run(m, 1e9, 1e9, 4000, 64)
	if passed < 1995 || passed > 2015 {
		t.Errorf("at 4000 pkt/s %d passed, want ~2000", passed)
	}
	if remarked < 990 || remarked > 1010 {
		t.Errorf("at 4000 pkt/s %d remarked, want ~1000 (the ones between the rates)", remarked)
	}
	if _, prec := m.Pass(1e9+2e9, 64); prec != 0 {
		// After idling nothing is exceeded.
		t.Errorf("after idle: prec %d", prec)
	}
}

func TestMeterNoBandsPasses(t *testing.T) {
	m := NewMeter(MeterConfig{})
	if ok, prec := m.Pass(0, 1500); !ok || prec != 0 {
		t.Error("a meter without bands must pass everything")
	}
}

func TestMeterConcurrent(t *testing.T) {
	m := NewMeter(MeterConfig{Pktps: true, Burst: true, Stats: true,
		Bands: []MeterBand{{Type: MeterBandDrop, Rate: 1000, Burst: 10}}})
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for g := range 4 {
		wg.Go(func() {
			// Each goroutine sends 1000 pkt/s for 2 s, interleaved.
			p, _ := run(m, 1e9+int64(g)*250e3, 2e9, 2000, 64)
			mu.Lock()
			total += p
			mu.Unlock()
		})
	}
	wg.Wait()
	// 4000 pkt/s offered against 1000: about 2000 pass over 2 s. Stale
	// clocks among goroutines only ever lose credit.
	if total < 1900 || total > 2012 {
		t.Errorf("passed %d, want about 2000", total)
	}
	var s MeterStats
	m.Stats(&s)
	if s.Packets != 8000 || s.Bands[0].Packets != uint64(8000-total) {
		t.Errorf("stats %+v after %d passed", s, total)
	}
}

func TestMeterPassAllocations(t *testing.T) {
	race.SkipAllocs(t)
	m := NewMeter(MeterConfig{Kbps: true, Stats: true, Bands: []MeterBand{{Type: MeterBandDrop, Rate: 1000}}})
	now := int64(0)
	if a := testing.AllocsPerRun(1000, func() { now += 1000; m.Pass(now, 64) }); a != 0 {
		t.Errorf("%v allocations per Pass", a)
	}
}

func TestRaisePrecedence(t *testing.T) {
	cases := []struct {
		name      string
		tos, prec uint8
		want      uint8
		changed   bool
	}{
		{"af11_plus1", 10 << 2, 1, 12 << 2, true},
		{"af11_plus5_caps", 10<<2 | 1, 5, 14<<2 | 1, true},
		{"af43_max", 38 << 2, 1, 38 << 2, false},
		{"ef_untouched", 46 << 2, 1, 46 << 2, false},
		{"be_untouched", 0, 2, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ch := raisePrecedence(c.tos, c.prec)
			if got != c.want || ch != c.changed {
				t.Errorf("raisePrecedence(%#x, %d) = %#x, %v; want %#x, %v", c.tos, c.prec, got, ch, c.want, c.changed)
			}
		})
	}
}
