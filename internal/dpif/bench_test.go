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

// newBenchUpcaller is the slow path BenchmarkUpcall translates with: the
// real OpenFlow pipeline (ofproto), set by bench_ofproto_test.go (package
// dpif_test, since ofproto imports dpif). ports is the number of datapath
// ports, 1..ports.
var newBenchUpcaller = func(tb testing.TB, ports int) Upcaller {
	tu := &testUpcaller{}
	tu.matchTpDst.Store(true)
	return tu
}

type benchRig struct {
	dp    *Datapath
	p     *pmd
	batch *packet.Batch
	// prepare, if set, runs before each iteration (e.g. to rewrite the
	// batch's frames); it is timed with the iteration.
	prepare func()
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
	if r.prepare != nil {
		r.prepare()
	}
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

// BenchmarkEMCHit spreads the batch over 8 flows: more megaflows than a
// subtable lists (fewEntries), so that the EMC is not skipped.
func BenchmarkEMCHit(b *testing.B) {
	frames := benchFrames(packet.BatchSize, func(i int) uint32 { return 0x0a000002 + uint32(i%8) })
	newBenchRig(b, Config{EMCInsertInvProb: 1}, &testUpcaller{}, frames).run(b)
}

func BenchmarkMegaflowHit1(b *testing.B) {
	frames := benchFrames(packet.BatchSize, func(i int) uint32 { return 0x0a000002 + uint32(i%4) })
	newBenchRig(b, Config{EMCInsertInvProb: -1}, &testUpcaller{}, frames).run(b)
}

// BenchmarkMegaflowHit20 installs 20 megaflows with 20 different masks
// (nw_dst exact, nw_src prefixes /8../27) and spreads the traffic over all.
// Each subtable holds one megaflow, so it is searched through its list
// (subtable.lookupFew); BenchmarkMegaflowHit20Busy measures hashed ones.
func BenchmarkMegaflowHit20(b *testing.B) { benchMegaflowHit20(b, 0) }

// BenchmarkMegaflowHit20Busy is BenchmarkMegaflowHit20 with 63 more
// megaflows in each subtable, which no packet hits: every subtable is
// searched by hash.
func BenchmarkMegaflowHit20Busy(b *testing.B) { benchMegaflowHit20(b, 63) }

func benchMegaflowHit20(b *testing.B, extra int) {
	const nsub = 20
	frames := benchFrames(packet.BatchSize, func(i int) uint32 { return 0x0a000002 + uint32(i%nsub) })
	r := newBenchRig(b, Config{EMCInsertInvProb: -1}, &testUpcaller{}, frames)
	for i := range nsub {
		var k flow.Key
		flow.ParseBytes(frames[i], &k)
		k.InPort = 1
		m := flow.Mask{EthType: 0xffff, NwDst: ^uint32(0), NwSrc: ^uint32(0) << (24 - i)}
		for j := range 1 + extra {
			k.NwDst = 0x0a000002 + uint32(i) + uint32(j)<<16 // j > 0: no traffic
			if mf, _ := r.dp.install(1, &k, &m, odp.Actions{odp.Output(k.NwDst&0xff + 1)}, 0); mf == nil {
				b.Fatal("install failed")
			}
		}
	}
	r.dp.publish()
	subs := r.dp.snap.Load().cls[1].subtables
	if len(subs) != nsub {
		b.Fatalf("%d subtables, want %d", len(subs), nsub)
	}
	if busy := extra+1 > fewEntries; subs[0].fewMode == busy {
		b.Fatalf("subtable in few mode: %v, want %v", subs[0].fewMode, !busy)
	}
	r.run(b)
	if lph := r.dp.PMDStats()[0].LookupsPerHit; lph < 5 {
		b.Fatalf("%.1f subtable lookups per hit: traffic not spread", lph)
	}
}

// benchPorts is the number of dummy ports of the benchmark datapath.
const benchPorts = 24

// BenchmarkUpcall sends every packet to the slow path, the real OpenFlow
// pipeline (newBenchUpcaller): each has a new UDP destination port, and a
// rule on it makes every megaflow match it exactly, so each packet is a
// miss that is translated, installed and executed (output to port 2).
// Megaflows are flushed every 4096 packets (outside the timer) to bound
// the table.
func BenchmarkUpcall(b *testing.B) {
	frames := benchFrames(packet.BatchSize, func(int) uint32 { return 0x0a000002 })
	r := newBenchRig(b, Config{EMCInsertInvProb: -1}, newBenchUpcaller(b, benchPorts), frames)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	var elapsed, cpu time.Duration
	for n := 0; n < b.N; n += packet.BatchSize {
		if n%4096 == 0 {
			b.StopTimer()
			r.dp.DelFlows()
			b.StartTimer()
		}
		r.setDstPorts(uint16(n))
		start, c := time.Now(), threadCPUTime()
		r.iteration()
		elapsed += time.Since(start)
		cpu += threadCPUTime() - c
	}
	b.StopTimer()
	r.checkUpcalls(b, int64(b.N))
	reportPerPacket(b, elapsed, cpu)
}

// BenchmarkUpcallLargeTable is BenchmarkUpcall with megaflows kept rather
// than flushed, up to 200000 (the default flow limit): the cost of
// installing into a big classifier (subtable and flow table copies on
// publication).
func BenchmarkUpcallLargeTable(b *testing.B) {
	frames := benchFrames(packet.BatchSize, func(int) uint32 { return 0x0a000002 })
	r := newBenchRig(b, Config{EMCInsertInvProb: -1}, newBenchUpcaller(b, benchPorts), frames)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	var elapsed, cpu time.Duration
	for n := 0; n < b.N; n += packet.BatchSize {
		if n%defaultFlowLimit == 0 {
			b.StopTimer()
			r.dp.DelFlows()
			b.StartTimer()
		}
		// 200000 distinct flows: dst port and the low byte of nw_src.
		r.setDstPorts(uint16(n % defaultFlowLimit))
		for _, p := range r.batch.Pkts {
			p.Data()[29] = byte(n / 65536)
		}
		start, c := time.Now(), threadCPUTime()
		r.iteration()
		elapsed += time.Since(start)
		cpu += threadCPUTime() - c
	}
	b.StopTimer()
	r.checkUpcalls(b, int64(b.N))
	reportPerPacket(b, elapsed, cpu)
	b.ReportMetric(float64(r.dp.NumFlows()), "flows")
}

// setDstPorts gives the batch's packets UDP destination ports base+i, in
// place (the UDP checksum is 0, so nothing else changes).
func (r *benchRig) setDstPorts(base uint16) {
	for i, p := range r.batch.Pkts {
		d := p.Data()
		port := base + uint16(i)
		d[36], d[37] = byte(port>>8), byte(port)
	}
}

// checkUpcalls fails the benchmark unless every packet was an upcall.
func (r *benchRig) checkUpcalls(b *testing.B, n int64) {
	s := r.dp.PMDStats()[0]
	if s.Upcalls < uint64(n) || s.Lost != 0 {
		b.Fatalf("%d upcalls (%d lost) for %d packets", s.Upcalls, s.Lost, n)
	}
}
