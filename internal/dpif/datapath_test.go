package dpif

import (
	"bytes"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/netdev/dummy"
	"github.com/govs/govs/internal/odp"
	"github.com/govs/govs/internal/packet"
	"github.com/govs/govs/internal/race"
)

var testCfg = Config{PMDSleepMax: time.Millisecond, RevalidateInterval: time.Hour}

func TestPMDForwardsToRightPorts(t *testing.T) {
	up := &testUpcaller{}
	dp, ports := newTestDP(t, Config{NumPMDs: 2, PMDSleepMax: time.Millisecond, RevalidateInterval: time.Hour}, up, 3, nil)
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		ports[1].Inject(0, udpFrame(0x0a000002, uint16(i), 80)) // to port 2
		ports[1].Inject(0, udpFrame(0x0a000003, uint16(i), 80)) // to port 3
	}
	var got2, got3 [][]byte
	waitFor(t, "100 packets out", func() bool {
		got2 = append(got2, ports[2].Transmitted()...)
		got3 = append(got3, ports[3].Transmitted()...)
		return len(got2) == 50 && len(got3) == 50
	})
	if !bytes.Equal(got2[7], udpFrame(0x0a000002, 7, 80)) {
		t.Errorf("port 2 packet 7 changed or reordered")
	}
	if n := up.upcalls.Load(); n != 2 {
		t.Errorf("upcalls = %d, want 2 (one per megaflow)", n)
	}
	flows := dp.FlowDump()
	if len(flows) != 2 || flows[0].Packets+flows[1].Packets != 100 {
		t.Fatalf("flows %+v", flows)
	}
	var total PMDStats
	for _, s := range dp.PMDStats() {
		total.Packets += s.Packets
		total.EMCHits += s.EMCHits
		total.MegaflowHits += s.MegaflowHits
		total.Upcalls += s.Upcalls
	}
	if total.Packets != 100 || total.EMCHits+total.MegaflowHits+total.Upcalls != 100 {
		t.Errorf("pmd stats %+v", total)
	}
	dp.Stop()
}

func TestUpcallDedupeWithinBatchAndAcrossInstall(t *testing.T) {
	up := &testUpcaller{}
	dp, ports := newTestDP(t, testCfg, up, 2, nil)
	var frames [][]byte
	for i := range 32 {
		frames = append(frames, udpFrame(0x0a000002, uint16(i), 80))
	}
	pool, _ := packet.NewPool(64)
	defer pool.Close()
	p := dp.pmds[0]
	p.processBatch(dp.snap.Load(), 1, rxBatch(t, pool, frames))
	p.flush(dp.snap.Load())
	if n := up.upcalls.Load(); n != 1 {
		t.Fatalf("upcalls = %d, want 1 for a batch of one megaflow", n)
	}
	if got := len(ports[2].Transmitted()); got != 32 {
		t.Fatalf("transmitted %d, want 32", got)
	}
	if s := dp.PMDStats()[0]; s.TxPackets != 32 || s.TxBatches != 1 {
		t.Fatalf("output batches: %d packets in %d batches, want 32 in 1", s.TxPackets, s.TxBatches)
	}
	// A second PMD's miss for the same megaflow finds the installed one.
	var k flow.Key
	flow.ParseBytes(udpFrame(0x0a000002, 9, 9), &k)
	k.InPort = 1
	var m flow.Mask
	acts := up.translate(&k, &m, nil)
	if mf, _ := dp.install(1, &k, &m, acts, 0); mf == nil || dp.ctl.nflows != 1 {
		t.Fatalf("second install created a duplicate (nflows %d)", dp.ctl.nflows)
	}
}

func TestUpcallErrorCountsLost(t *testing.T) {
	up := &testUpcaller{}
	up.fail.Store(true)
	dp, ports := newTestDP(t, testCfg, up, 2, nil)
	pool, _ := packet.NewPool(8)
	defer pool.Close()
	p := dp.pmds[0]
	p.processBatch(dp.snap.Load(), 1, rxBatch(t, pool, [][]byte{udpFrame(0x0a000002, 1, 1)}))
	p.flush(dp.snap.Load())
	s := dp.PMDStats()[0]
	if s.Lost != 1 || s.DropUpcallLost != 1 || len(ports[2].Transmitted()) != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestRevalidateKeepReplaceDelete(t *testing.T) {
	up := &testUpcaller{}
	dp, ports := newTestDP(t, testCfg, up, 4, nil)
	pool, _ := packet.NewPool(8)
	defer pool.Close()
	p := dp.pmds[0]
	send := func() {
		p.processBatch(dp.snap.Load(), 1, rxBatch(t, pool, [][]byte{udpFrame(0x0a000002, 1, 1)}))
		p.flush(dp.snap.Load())
	}
	send()
	if len(dp.FlowDump()) != 1 {
		t.Fatal("no megaflow installed")
	}
	// A round meets the PMDs once to collect statistics, and once more
	// at the end only if it changed a megaflow they may be using.
	rendezvous := func(t *testing.T, want uint64) {
		t.Helper()
		before := p.req.Load()
		dp.Revalidate()
		if n := p.req.Load() - before; n != want {
			t.Errorf("round met the PMD %d times, want %d", n, want)
		}
	}
	t.Run("keep", func(t *testing.T) {
		rendezvous(t, 1)
		f := dp.FlowDump()
		if len(f) != 1 || f[0].Actions[0].Arg != 2 {
			t.Fatalf("flows %+v", f)
		}
	})
	t.Run("replace", func(t *testing.T) {
		up.offset.Store(1) // now to port 3
		rendezvous(t, 2)
		f := dp.FlowDump()
		if len(f) != 1 || f[0].Actions[0].Arg != 3 {
			t.Fatalf("flows %+v", f)
		}
		ports[2].Transmitted()
		send()
		if len(ports[3].Transmitted()) != 1 || len(ports[2].Transmitted()) != 0 {
			t.Fatal("packet after Revalidate did not follow the replaced actions")
		}
		if n := up.upcalls.Load(); n != 1 {
			t.Fatalf("upcalls = %d: replace should keep the megaflow", n)
		}
	})
	t.Run("delete", func(t *testing.T) {
		up.matchTpDst.Store(true) // wider mask: the megaflow must go
		rendezvous(t, 2)
		if f := dp.FlowDump(); len(f) != 0 {
			t.Fatalf("flows %+v", f)
		}
	})
}

func TestIdleMegaflowsExpire(t *testing.T) {
	up := &testUpcaller{}
	cfg := testCfg
	cfg.MaxIdle = 20 * time.Millisecond
	dp, _ := newTestDP(t, cfg, up, 2, nil)
	pool, _ := packet.NewPool(8)
	defer pool.Close()
	p := dp.pmds[0]
	p.processBatch(dp.snap.Load(), 1, rxBatch(t, pool, [][]byte{udpFrame(0x0a000002, 1, 1)}))
	p.flush(dp.snap.Load())
	dp.Revalidate()
	if len(dp.FlowDump()) != 1 {
		t.Fatal("megaflow expired too early")
	}
	time.Sleep(40 * time.Millisecond)
	dp.Revalidate()
	if f := dp.FlowDump(); len(f) != 0 {
		t.Fatalf("idle megaflow not expired: %+v", f)
	}
	up.mu.Lock()
	defer up.mu.Unlock()
	if up.revalPkts != 1 {
		t.Errorf("revalidation pushed %d packets, want 1", up.revalPkts)
	}
}

func TestOutputThenModifyKeepsQueuedCopy(t *testing.T) {
	up := &testUpcaller{}
	set := odp.Action{Op: odp.OpSet, Field: odp.FieldEthDst}
	copy(set.Value[:], []byte{0xde, 0xad, 0xbe, 0xef, 0, 1})
	for i := range 6 {
		set.Mask[i] = 0xff
	}
	dp, ports := newTestDP(t, testCfg, up, 3, nil)
	up.extra = odp.Actions{odp.Output(3), set}
	pool, _ := packet.NewPool(8)
	defer pool.Close()
	orig := udpFrame(0x0a000002, 1, 1)
	p := dp.pmds[0]
	p.processBatch(dp.snap.Load(), 1, rxBatch(t, pool, [][]byte{orig}))
	p.flush(dp.snap.Load())
	out3, out2 := ports[3].Transmitted(), ports[2].Transmitted()
	if len(out3) != 1 || !bytes.Equal(out3[0], orig) {
		t.Fatalf("port 3 got %x, want the unmodified packet", out3)
	}
	if len(out2) != 1 || !bytes.Equal(out2[0][:6], set.Value[:6]) {
		t.Fatalf("port 2 got %x, want eth_dst rewritten", out2)
	}
	if avail := p.pool.Available(); avail != p.pool.Frames() {
		t.Fatalf("pool leaked frames: %d of %d free", avail, p.pool.Frames())
	}
}

func TestExecutePacketOut(t *testing.T) {
	up := &testUpcaller{}
	dp, ports := newTestDP(t, testCfg, up, 2, nil)
	pkt := udpFrame(0x0a000009, 1, 1)
	if err := dp.Execute(pkt, 0xffff, odp.Actions{odp.Output(1), odp.Output(2), {Op: odp.OpUserspace}}); err != nil {
		t.Fatal(err)
	}
	if len(ports[1].Transmitted()) != 1 || len(ports[2].Transmitted()) != 1 || up.userspace != 1 {
		t.Fatal("packet-out not executed")
	}
}

func TestMeterDropsAboveRate(t *testing.T) {
	up := &testUpcaller{}
	dp, ports := newTestDP(t, testCfg, up, 2, nil)
	dp.SetMeter(1, odp.MeterConfig{Pktps: true, Burst: true, Bands: []odp.MeterBand{{Type: odp.MeterBandDrop, Rate: 1, Burst: 1}}})
	up.extra = odp.Actions{{Op: odp.OpMeter, Arg: 1}}
	pool, _ := packet.NewPool(64)
	defer pool.Close()
	var frames [][]byte
	for range 10 {
		frames = append(frames, udpFrame(0x0a000002, 1, 1))
	}
	p := dp.pmds[0]
	p.now = time.Now().UnixNano()
	p.processBatch(dp.snap.Load(), 1, rxBatch(t, pool, frames))
	p.flush(dp.snap.Load())
	if got := len(ports[2].Transmitted()); got < 1 || got > 2 {
		t.Fatalf("meter passed %d of 10 packets at 1 pkt/s", got)
	}
	if s := dp.PMDStats()[0]; s.DropMeter < 8 {
		t.Fatalf("meter drops %d", s.DropMeter)
	}
}

func TestRxqAssignmentAffinityAndLiveCPUChange(t *testing.T) {
	up := &testUpcaller{}
	dp, _ := newTestDP(t, Config{NumPMDs: 2, RevalidateInterval: time.Hour}, up, 2, map[string]string{"n_rxq": "2"})
	got := dp.RxqAssignment()
	if len(got) != 4 || got[0].PMD == got[1].PMD {
		t.Fatalf("round robin: %+v", got)
	}
	if err := dp.SetPMDCPUs([]int{0}); err != nil {
		t.Fatal(err)
	}
	if err := dp.SetRxqAffinity(2, map[int]int{1: 0}); err != nil {
		t.Fatal(err)
	}
	for _, r := range dp.RxqAssignment() {
		if r.CPU != 0 || (r.Port == 2 && r.Queue == 1 && !r.Pinned) {
			t.Fatalf("after SetPMDCPUs([0]) and affinity: %+v", r)
		}
	}
}

// TestSnapshotsUnderConcurrentChanges runs traffic on two PMDs while the
// control side installs, revalidates and deletes megaflows (run with
// -race).
func TestSnapshotsUnderConcurrentChanges(t *testing.T) {
	up := &testUpcaller{}
	dp, ports := newTestDP(t, Config{NumPMDs: 2, PMDSleepMax: 100 * time.Microsecond, RevalidateInterval: 5 * time.Millisecond}, up, 3, nil)
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			ports[1].Inject(0, udpFrame(0x0a000002+uint32(i%2), uint16(i), 80))
			if i%64 == 0 {
				time.Sleep(100 * time.Microsecond)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			switch i % 3 {
			case 0:
				dp.Revalidate()
			case 1:
				dp.DelFlows()
			case 2:
				dp.FlowDump()
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	dp.Stop()
	if len(ports[2].Transmitted())+len(ports[3].Transmitted()) == 0 {
		t.Fatal("no traffic forwarded")
	}
}

func TestStopLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	up := &testUpcaller{}
	dp, err := New(Config{NumPMDs: 2, PMDSleepMax: time.Millisecond}, up)
	if err != nil {
		t.Fatal(err)
	}
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	dp.Close()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines leaked: %d > %d\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSteadyStateZeroAllocs asserts that a PMD iteration processing a full
// batch (parse, EMC or dpcls, execute, tx flush) does not allocate.
func TestSteadyStateZeroAllocs(t *testing.T) {
	race.SkipAllocs(t)
	for _, tc := range []struct {
		name    string
		invProb int
	}{{"emc", 1}, {"megaflow", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			up := &testUpcaller{}
			dp, _ := newTestDP(t, Config{EMCInsertInvProb: tc.invProb}, up, 4, map[string]string{"tx_capture": "false"})
			pool, _ := packet.NewPool(64)
			defer pool.Close()
			var frames [][]byte
			for i := range packet.BatchSize {
				frames = append(frames, udpFrame(0x0a000002+uint32(i%3), uint16(i), 80))
			}
			b := rxBatch(t, pool, frames)
			p := dp.pmds[0]
			run := func() {
				snap := dp.snap.Load()
				p.processBatch(snap, 1, b)
				p.flush(snap)
			}
			run() // install
			run()
			if allocs := testing.AllocsPerRun(200, run); allocs != 0 {
				t.Fatalf("%v allocations per batch", allocs)
			}
		})
	}
}

// blockingPort is a dummy port whose Send waits for release once entered.
// blockingPort's first Send closes entered and waits for release. (A
// non-blocking send on entered, as it once was, lost the signal whenever
// Send ran before the test waited on it, and the test hung.)
type blockingPort struct {
	*dummy.Port
	once             sync.Once
	entered, release chan struct{}
}

func (p *blockingPort) Send(qid int, b *packet.Batch) int {
	p.once.Do(func() {
		close(p.entered)
		<-p.release
	})
	return p.Port.Send(qid, b)
}

// TestDelPortWaitsForPacketOut: a packet-out still sending to a port when
// the port is deleted holds DelPort until it is done, so the caller can
// close the device (closing a descriptor another goroutine still writes
// to would write to whatever reuses its number).
func TestDelPortWaitsForPacketOut(t *testing.T) {
	dp, _ := newTestDP(t, testCfg, &testUpcaller{}, 1, nil)
	bp := &blockingPort{Port: newPort(t, "p9", nil), entered: make(chan struct{}), release: make(chan struct{})}
	if err := dp.AddPort(9, bp); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- dp.Execute(udpFrame(0x0a000009, 1, 1), 0xffff, odp.Actions{odp.Output(9)}) }()
	<-bp.entered
	deleted := make(chan error, 1)
	go func() { deleted <- dp.DelPort(9) }()
	select {
	case err := <-deleted:
		close(bp.release)
		<-done
		t.Fatalf("DelPort returned (%v) while a packet-out was sending to the port", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(bp.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := <-deleted; err != nil {
		t.Fatal(err)
	}
	// A packet-out after the delete finds no such port.
	if err := dp.Execute(udpFrame(0x0a000009, 1, 1), 0xffff, odp.Actions{odp.Output(9)}); err != nil {
		t.Fatal(err)
	}
	if n := len(bp.Transmitted()); n != 1 {
		t.Fatalf("port got %d packets, want only the one before its deletion", n)
	}
}
