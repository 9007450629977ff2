package dpif

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/netdev/dummy"
	"github.com/govs/govs/internal/packet"
)

func TestPollBackoff(t *testing.T) {
	var b pollBackoff
	var skips []uint16
	for range 8 {
		b.update(0)
		skips = append(skips, b.skip)
	}
	want := []uint16{1, 3, 7, 15, 31, 63, 63, 63}
	for i := range want {
		if skips[i] != want[i] {
			t.Fatalf("skips after empty polls = %v, want %v", skips, want)
		}
	}
	b.update(5)
	if b.next != 0 {
		t.Fatalf("a poll with packets left next=%d, want 0", b.next)
	}
	b.update(0)
	if b.skip != 1 {
		t.Fatalf("first empty poll after traffic skips %d, want 1", b.skip)
	}
}

// syscallPort is a dummy port whose queue says its polls are syscalls and
// counts them.
type syscallPort struct {
	*dummy.Port
	q *countingRxq
}

type countingRxq struct {
	netdev.RxQueue
	polls atomic.Int64
}

func (q *countingRxq) Recv(b *packet.Batch) (int, error) {
	q.polls.Add(1)
	return q.RxQueue.Recv(b)
}

func (q *countingRxq) PollIsSyscall() bool { return true }

func (p *syscallPort) RxQueues() []netdev.RxQueue { return []netdev.RxQueue{p.q} }

// TestSyscallQueueSkippedWhileIdle checks that a PMD polls a queue whose
// polls are syscalls far less often than it iterates while the queue is
// empty, and still forwards what arrives on it.
func TestSyscallQueueSkippedWhileIdle(t *testing.T) {
	up := &testUpcaller{}
	dp, ports := newTestDP(t, Config{EMCInsertInvProb: 1}, up, 1, nil)
	sp := &syscallPort{Port: newPort(t, "tap9", nil)}
	sp.q = &countingRxq{RxQueue: sp.Port.RxQueues()[0]}
	if err := dp.AddPort(9, sp); err != nil {
		t.Fatal(err)
	}
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	// Stop the PMDs before tap9 is closed (cleanups run last-in first):
	// its frames are unmapped on close, and the PMD may be reading them.
	t.Cleanup(dp.Stop)
	iterations := func() uint64 {
		var n uint64
		for _, s := range dp.PMDStats() {
			n += s.Iterations
		}
		return n
	}
	i0, p0 := iterations(), sp.q.polls.Load()
	waitFor(t, "PMD iterations", func() bool { return iterations()-i0 > 20000 })
	it, polls := iterations()-i0, uint64(sp.q.polls.Load()-p0)
	if polls*16 > it {
		t.Errorf("idle syscall queue polled %d times in %d iterations; want at most 1/16", polls, it)
	}
	if polls == 0 {
		t.Errorf("idle syscall queue never polled in %d iterations", it)
	}

	// Traffic on the skipped queue still gets through.
	if err := sp.Inject(0, udpFrame(0x0a000001, 1000, 2000)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "packet from the syscall queue forwarded", func() bool {
		return len(ports[1].Transmitted())+len(sp.Transmitted()) > 0 || up.upcalls.Load() > 0
	})
}

// TestParkedPMDAnsweredWithoutWaking: the control side answers the
// rendezvous of a PMD asleep in idle itself, so revalidating (every
// flow-mod does) neither waits for nor wakes a sleeping PMD.
func TestParkedPMDAnsweredWithoutWaking(t *testing.T) {
	dp, _ := newTestDP(t, Config{PMDSleepMax: time.Second, RevalidateInterval: time.Hour}, &testUpcaller{}, 1, nil)
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	p := dp.pmds[0]
	waitFor(t, "the PMD asleep", func() bool { return p.state.Load() == pmdParked })
	// Its sleeps grow from microseconds: wait until it sleeps long, so
	// that its own wake-ups do not count as the revalidations'.
	last := dp.PMDStats()[0].Iterations
	waitFor(t, "the PMD in a long sleep", func() bool {
		time.Sleep(50 * time.Millisecond)
		now := dp.PMDStats()[0].Iterations
		still := now == last
		last = now
		return still && p.state.Load() == pmdParked
	})
	before := dp.PMDStats()[0].Iterations
	for range 100 {
		dp.Revalidate()
	}
	after := dp.PMDStats()[0].Iterations
	if p.state.Load() != pmdParked {
		t.Skip("the PMD's one-second sleep ended during the test") // not the behaviour under test
	}
	if n := after - before; n > 5 { // a stale wake-up or two, not one per revalidation
		t.Errorf("100 revalidations woke the sleeping PMD for %d iterations", n)
	}
	if a, r := p.ack.Load(), p.req.Load(); a != r {
		t.Errorf("ack %d, req %d: a request left unanswered", a, r)
	}
}
