package dpif

import (
	"runtime"
	"testing"
	"time"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
	"github.com/govs/govs/internal/packet"
)

// Benchmarks of the whole per-packet path on one PMD: parse, lookup,
// grouping, action execution and a tx flush to a dummy port, 32 packets
// per batch. b.N counts packets; ns/pkt is reported.

// newBenchUpcaller is the slow path BenchmarkUpcall translates with. It is
// the seam where the integrator plugs in the real ofproto pipeline.
var newBenchUpcaller = func() Upcaller { return &testUpcaller{} }

type benchRig struct {
	dp    *Datapath
	p     *pmd
	batch *packet.Batch
}

// newBenchRig makes a datapath with one PMD and 24 dummy ports that keep
// no copy of what they send. Each port has a tx queue per executor (the
// PMD and the non-PMD path), as OVS-DPDK sets n_txq, so the PMD's sends
// take no tx lock.
func newBenchRig(b *testing.B, cfg Config, up Upcaller, frames [][]byte) *benchRig {
	cfg.RevalidateInterval = time.Hour
	dp, _ := newTestDP(b, cfg, up, 24, map[string]string{"tx_capture": "false", "n_txq": "2"})
	pool, err := packet.NewPool(packet.BatchSize)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { pool.Close() })
	return &benchRig{dp: dp, p: dp.pmds[0], batch: rxBatch(b, pool, frames)}
}

func (r *benchRig) iteration() {
	snap := r.dp.snap.Load()
	r.p.processBatch(snap, 1, r.batch)
	r.p.flush(snap)
}

func (r *benchRig) run(b *testing.B) {
	r.iteration() // install
	r.iteration()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu := time.Now(), threadCPUTime()
	for n := 0; n < b.N; n += packet.BatchSize {
		r.iteration()
	}
	reportPerPacket(b, time.Since(start), threadCPUTime()-cpu)
}

// reportPerPacket reports wall time and the benchmark thread's CPU time per
// packet (b.N counts packets). The CPU time leaves out the time other
// processes held the CPU, which on a loaded machine is most of the
// difference between runs.
func reportPerPacket(b *testing.B, wall, cpu time.Duration) {
	b.ReportMetric(float64(wall.Nanoseconds())/float64(b.N), "ns/pkt")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/pkt")
}

func benchFrames(n int, dst func(i int) uint32) [][]byte {
	var f [][]byte
	for i := range n {
		f = append(f, udpFrame(dst(i), uint16(1000+i), 80))
	}
	return f
}

func BenchmarkEMCHit(b *testing.B) {
	frames := benchFrames(packet.BatchSize, func(i int) uint32 { return 0x0a000002 + uint32(i%4) })
	newBenchRig(b, Config{EMCInsertInvProb: 1}, &testUpcaller{}, frames).run(b)
}

func BenchmarkMegaflowHit1(b *testing.B) {
	frames := benchFrames(packet.BatchSize, func(i int) uint32 { return 0x0a000002 + uint32(i%4) })
	newBenchRig(b, Config{EMCInsertInvProb: -1}, &testUpcaller{}, frames).run(b)
}

// BenchmarkMegaflowHit20 installs 20 megaflows with 20 different masks
// (nw_dst exact, nw_src prefixes /8../27) and spreads the traffic over all.
func BenchmarkMegaflowHit20(b *testing.B) {
	const nsub = 20
	frames := benchFrames(packet.BatchSize, func(i int) uint32 { return 0x0a000002 + uint32(i%nsub) })
	r := newBenchRig(b, Config{EMCInsertInvProb: -1}, &testUpcaller{}, frames)
	for i := range nsub {
		var k flow.Key
		flow.ParseBytes(frames[i], &k)
		k.InPort = 1
		m := flow.Mask{EthType: 0xffff, NwDst: ^uint32(0), NwSrc: ^uint32(0) << (24 - i)}
		if r.dp.install(1, &k, &m, odp.Actions{odp.Output(k.NwDst&0xff + 1)}, 0) == nil {
			b.Fatal("install failed")
		}
	}
	r.dp.publish()
	if n := len(r.dp.snap.Load().cls[1].subtables); n != nsub {
		b.Fatalf("%d subtables, want %d", n, nsub)
	}
	r.run(b)
	if lph := r.dp.PMDStats()[0].LookupsPerHit; lph < 5 {
		b.Fatalf("%.1f subtable lookups per hit: traffic not spread", lph)
	}
}

// BenchmarkUpcall sends every packet to the slow path: each has a new
// source port and the megaflows match it, so each packet is a miss that is
// translated, installed and executed. Megaflows are flushed every 4096
// packets (outside the timer) to bound the table.
func BenchmarkUpcall(b *testing.B) {
	up := newBenchUpcaller()
	if tu, ok := up.(*testUpcaller); ok {
		tu.matchTpDst.Store(true)
	}
	frames := benchFrames(packet.BatchSize, func(int) uint32 { return 0x0a000002 })
	r := newBenchRig(b, Config{EMCInsertInvProb: -1}, up, frames)
	b.ReportAllocs()
	b.ResetTimer()
	var elapsed time.Duration
	for n := 0; n < b.N; n += packet.BatchSize {
		for i, p := range r.batch.Pkts {
			// dst port: a new megaflow per packet, in place (the UDP
			// checksum is 0, so nothing else changes).
			d := p.Data()
			port := uint16(n + i)
			d[36], d[37] = byte(port>>8), byte(port)
		}
		start := time.Now()
		r.iteration()
		elapsed += time.Since(start)
		if n%4096 == 0 {
			b.StopTimer()
			r.dp.DelFlows()
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N), "ns/pkt")
}
