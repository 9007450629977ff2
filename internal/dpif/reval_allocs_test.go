package dpif

import (
	"testing"

	"github.com/govs/govs/internal/packet"
	"github.com/govs/govs/internal/race"
)

// TestRevalidateAllocsDoNotScale checks that a revalidation round reuses
// its storage: its allocations must not grow with the number of megaflows
// (a round over 64k megaflows used to allocate tens of megabytes).
func TestRevalidateAllocsDoNotScale(t *testing.T) {
	race.SkipAllocs(t)
	up := &testUpcaller{}
	dp, _ := newTestDP(t, testCfg, up, 4, nil)
	pool, err := packet.NewPool(4096) // rxBatch keeps its frames
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	p := dp.pmds[0]
	install := func(from, to int) {
		for i := from; i < to; i += packet.BatchSize {
			var frames [][]byte
			for j := i; j < min(i+packet.BatchSize, to); j++ {
				// Output port 2 (last byte 2), a distinct nw_dst each.
				frames = append(frames, udpFrame(0x0a000002|uint32(j)<<8, 1, 1))
			}
			p.processBatch(dp.snap.Load(), 1, rxBatch(t, pool, frames))
			p.flush(dp.snap.Load())
		}
	}
	allocs := func() float64 {
		dp.Revalidate() // warm the scratch up to this size
		return testing.AllocsPerRun(5, dp.Revalidate)
	}
	install(0, 100)
	small := allocs()
	install(100, 2000)
	if n := len(dp.FlowDump()); n != 2000 {
		t.Fatalf("%d megaflows installed, want 2000", n)
	}
	large := allocs()
	// Publication may allocate a little per round; nothing per megaflow.
	if large > small+16 {
		t.Errorf("revalidating 2000 megaflows allocates %.0f times, 100 megaflows %.0f: allocations grow with the table", large, small)
	}
}
