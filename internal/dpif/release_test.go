package dpif

import (
	"sync"
	"testing"

	"github.com/govs/govs/internal/packet"
)

// releasingUpcaller is testUpcaller with per-megaflow state behind Ref,
// as ofproto's xcache.
type releasingUpcaller struct {
	testUpcaller
	mu       sync.Mutex
	next     uint64
	live     map[uint64]bool
	released int
}

func (u *releasingUpcaller) Upcall(up *Upcall) error {
	if err := u.testUpcaller.Upcall(up); err != nil {
		return err
	}
	u.mu.Lock()
	u.next++
	up.Ref = u.next
	u.live[up.Ref] = true
	u.mu.Unlock()
	return nil
}

func (u *releasingUpcaller) Release(ref uint64, packets, bytes uint64, used int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.live[ref] {
		panic("release of an unknown or released ref")
	}
	delete(u.live, ref)
	u.released++
}

func (u *releasingUpcaller) liveRefs() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.live)
}

// TestReleaserToldOfEveryDeletion: the datapath calls Release once for
// each megaflow it deletes, by DelFlows, by revalidation and by DelPort, so
// the slow path's per-megaflow state does not grow without bound.
func TestReleaserToldOfEveryDeletion(t *testing.T) {
	up := &releasingUpcaller{live: map[uint64]bool{}}
	up.matchTpDst.Store(true)
	dp, _ := newTestDP(t, testCfg, up, 4, map[string]string{"tx_capture": "false"})
	pool, _ := packet.NewPool(4 * packet.BatchSize)
	defer pool.Close()
	p := dp.pmds[0]
	send := func(inPort uint32, base uint16) {
		var frames [][]byte
		for i := range packet.BatchSize {
			frames = append(frames, udpFrame(0x0a000002, 1, base+uint16(i)))
		}
		snap := dp.snap.Load()
		p.processBatch(snap, inPort, rxBatch(t, pool, frames))
		p.flush(snap)
	}
	send(1, 0)
	if n := up.liveRefs(); n != packet.BatchSize || dp.NumFlows() != n {
		t.Fatalf("%d refs, %d flows after a batch of new flows", n, dp.NumFlows())
	}
	dp.DelFlows()
	if n := up.liveRefs(); n != 0 {
		t.Fatalf("%d refs live after DelFlows", n)
	}

	send(1, 100)
	dp.tun.maxIdle.Store(1) // every megaflow idle: deleted
	dp.Revalidate()
	if n := up.liveRefs(); n != 0 || dp.NumFlows() != 0 {
		t.Fatalf("%d refs live, %d flows after revalidating idle megaflows", n, dp.NumFlows())
	}

	send(2, 200)
	if err := dp.DelPort(2); err != nil {
		t.Fatal(err)
	}
	if n := up.liveRefs(); n != 0 || up.released != 3*packet.BatchSize {
		t.Fatalf("%d refs live, %d released after DelPort", n, up.released)
	}
}
