package dpif

import (
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/packet"
)

// pmd is one poll-mode driver thread. Its loop:
//
//  1. load the poll list and, per received batch, the current snapshot;
//  2. process each batch (process.go): parse, EMC, dpcls, upcall, group
//     packets by megaflow, execute actions into per-port tx batches;
//  3. flush every port's tx batch once, return copied frames to the pool;
//  4. pass a quiescent point: answer the control side's request, if any,
//     by publishing statistics (the control side waits for this to know
//     that the PMD no longer uses an old snapshot, poll list or port);
//  5. sleep progressively when idle.
//
// Everything below belongs to the PMD goroutine, except the atomics and
// pub, which the control side reads after ack says pub is complete.
type pmd struct {
	executor
	index int // position in Datapath.pmds
	cpu   int // pinned CPU, -1 unpinned

	emc   *emc
	polls atomic.Pointer[[]pollEntry]
	// rx has one batch per position in the poll list: a batch's packets
	// stay untouched until the tx flush that follows its processing
	// (iterate), so outputs may queue them by pointer (executeGroups).
	rx []*packet.Batch
	// backoff has, per position in the poll list, how many iterations a
	// syscall-polled queue is skipped (see pollEntry.syscall).
	backoff []pollBackoff

	keys [batchKeys]flow.Key
	batchState

	upcall       Upcall
	installed    [packet.BatchSize]*megaflow // this batch's installs, for later misses
	installedSub [packet.BatchSize]*subtable // their subtables (only words, maskw, nw are read)
	ninstalled   int

	ctr     pmdCounters
	fstats  []pmdFlowStats // by megaflow id
	touched []uint32       // ids whose fstats hold unpublished counts
	subHits []uint64       // by subtable id, since the last publication

	req    atomic.Uint64 // bumped by the control side to ask for a quiescent point
	ack    atomic.Uint64 // the last req answered
	served uint64
	pub    pmdPublished

	wake    chan struct{}
	state   atomic.Int32 // pmdRunning, pmdParked or pmdHeld
	stop    atomic.Bool
	done    chan struct{}
	running bool // set and read by the control side only
	sleep   time.Duration
	timer   *time.Timer
	// fwdIdle: a port this PMD polls is forwarded in the kernel, on this
	// PMD's CPU, so the PMD sleeps when idle (offload.go).
	fwdIdle atomic.Bool
}

// pollEntry is one rx queue a PMD polls.
type pollEntry struct {
	port  uint32
	queue int
	rxq   netdev.RxQueue
	// syscall: an empty poll of this queue is a system call
	// (netdev.SyscallPoller). While it finds nothing, the PMD skips it for
	// a doubling number of iterations, up to maxPollSkip; a packet resets
	// that. Ring-based queues (AF_XDP, TPACKET, vhost) are always polled.
	syscall bool
}

// pollBackoff is a PMD's backoff state for one syscall-polled queue.
type pollBackoff struct {
	skip, next uint16
}

// maxPollSkip bounds how many iterations an idle syscall-polled queue is
// skipped: at a busy iteration's few microseconds, its packets wait well
// under a millisecond, and its polls cost the PMD under 2 % of its time.
const maxPollSkip = 63

// pmdCounters are a PMD's own statistics, plain integers only it writes.
type pmdCounters struct {
	packets         uint64
	emcHits         uint64
	megaflowHits    uint64
	subtableLookups uint64 // subtables searched for megaflow hits
	upcalls         uint64
	lost            uint64
	guestFaults     uint64 // batches dropped for a guest memory fault (fault.go)
	iterations      uint64
	busyNs, idleNs  uint64
	drops           dropCounters
	out             outputCounters
}

// pmdFlowStats are one megaflow's counts on one PMD since the last
// publication.
type pmdFlowStats struct {
	packets, bytes uint64
	used           int64
	gen            uint32
	tcpFlags       uint16
}

// flowDelta carries pmdFlowStats to the control side.
type flowDelta struct {
	id, gen        uint32
	tcpFlags       uint16
	packets, bytes uint64
	used           int64
}

// published returns the counters p last published, its executor's drop
// and output counts included.
func (p *pmd) published() pmdCounters {
	c := p.pub.ctr
	c.drops = p.pub.drops
	c.out = p.pub.out
	return c
}

// pmdPublished is what a PMD hands to the control side at a quiescent
// point.
type pmdPublished struct {
	ctr     pmdCounters
	drops   dropCounters
	out     outputCounters
	deltas  []flowDelta
	subHits []uint64
}

// Idle sleeping: start small so a burst after a pause waits little, double
// while idle, and stop sleeping on the first packet.
const minSleep = 10 * time.Microsecond

func newPMD(dp *Datapath, index, cpu int) (*pmd, error) {
	x, err := newExecutor(dp, index+1)
	if err != nil {
		return nil, err
	}
	p := &pmd{
		executor: *x,
		index:    index,
		cpu:      cpu,
		emc:      newEMC(dp.cfg.EMCEntries, int(dp.tun.emcInvProb.Load())),
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	empty := []pollEntry{}
	p.polls.Store(&empty)
	return p, nil
}

// run is the PMD goroutine.
func (p *pmd) run(ready chan<- error) {
	defer close(p.done)
	// A fault in guest memory panics, to be contained (fault.go).
	debug.SetPanicOnFault(true)
	if p.cpu >= 0 {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := pinToCPU(p.cpu); err != nil {
			ready <- err
			return
		}
	}
	ready <- nil
	p.timer = time.NewTimer(time.Hour)
	p.timer.Stop()
	defer p.timer.Stop()
	// One monotonic clock read per iteration: the end of one iteration
	// is the start of the next (a clock read is a vDSO call, and was a
	// tenth of a busy PMD's time when read twice per iteration).
	start := monotime()
	for !p.stop.Load() {
		n := p.iterate(start + p.dp.epochMono)
		end := monotime()
		if n > 0 {
			p.ctr.busyNs += uint64(end - start)
			p.sleep = 0
		} else {
			p.ctr.idleNs += uint64(end - start)
		}
		start = end
		p.quiesce()
		if n == 0 && (p.dp.tun.sleepMax.Load() > 0 || p.fwdIdle.Load()) {
			p.idle()
			start = monotime()
		}
	}
}

// iterate polls every assigned queue once, flushing the tx batches after
// each queue's batch. It returns the number of packets received.
func (p *pmd) iterate(now int64) int {
	p.now = now
	p.ctr.iterations++
	total := 0
	for j, e := range *p.polls.Load() {
		if j >= len(p.rx) {
			p.rx = append(p.rx, packet.NewBatch())
			p.backoff = append(p.backoff, pollBackoff{})
		}
		if e.syscall && p.backoff[j].skip > 0 {
			p.backoff[j].skip--
			continue
		}
		b := p.rx[j]
		n, err := e.rxq.Recv(b)
		if e.syscall {
			p.backoff[j].update(n)
		}
		if err != nil || n == 0 {
			continue
		}
		total += n
		snap := p.dp.snap.Load()
		// Process and send what the batch produced now, not after the other queues'
		// polls, as OVS does with its default tx-flush-interval=0: in a
		// loop like PVP's, every queue polled before the flush is latency
		// added to each packet's round trip. The rx buffers the tx batches
		// point into stay valid until this queue's next Recv.
		p.processGuarded(snap, e.port, b)
	}
	return total
}

// update records a poll that found n packets.
func (b *pollBackoff) update(n int) {
	if n > 0 {
		b.next = 0
		return
	}
	b.next = min(2*b.next+1, maxPollSkip)
	b.skip = b.next
}

// quiesce answers a pending control-side request.
func (p *pmd) quiesce() {
	if r := p.req.Load(); r != p.served {
		p.serve(r)
	}
}

// serve publishes statistics and acknowledges request r.
func (p *pmd) serve(r uint64) {
	p.emc.invProb = p.dp.tun.emcInvProb.Load()
	p.pub.ctr = p.ctr
	p.pub.drops = p.drops
	p.pub.out = p.out
	p.pub.deltas = p.pub.deltas[:0]
	for _, id := range p.touched {
		fs := &p.fstats[id]
		if fs.packets == 0 {
			continue
		}
		p.pub.deltas = append(p.pub.deltas, flowDelta{
			id: id, gen: fs.gen, tcpFlags: fs.tcpFlags,
			packets: fs.packets, bytes: fs.bytes, used: fs.used,
		})
		*fs = pmdFlowStats{gen: fs.gen}
	}
	p.touched = p.touched[:0]
	p.pub.subHits = append(p.pub.subHits[:0], p.subHits...)
	clear(p.subHits)
	p.served = r
	p.ack.Store(r)
}

// A PMD sleeping in idle is parked: it holds no snapshot and touches
// nothing it shares, so it is in a quiescent state for as long as it
// sleeps. The control side answers its own requests for a parked PMD
// (syncLocked: parked -> held, serve, -> parked) instead of waking it: a
// wake-up is a thread-locked goroutine made runnable on a sleeping vCPU,
// hundreds of microseconds here, and every flow-mod waits for a
// rendezvous. On waking, the PMD takes itself back (parked -> running),
// waiting while the control side holds it.
const (
	pmdRunning int32 = iota
	pmdParked
	pmdHeld
)

// idle sleeps, longer each idle iteration up to PMDSleepMax, or until the
// control side wakes the PMD.
func (p *pmd) idle() {
	if p.sleep == 0 {
		p.sleep = minSleep
	} else {
		limit := time.Duration(p.dp.tun.sleepMax.Load())
		if p.fwdIdle.Load() {
			limit = max(limit, forwardIdleSleep)
		}
		p.sleep = max(min(2*p.sleep, limit), minSleep)
	}
	start := time.Now()
	p.timer.Reset(p.sleep)
	p.state.Store(pmdParked)
	select {
	case <-p.timer.C:
	case <-p.wake:
		p.timer.Stop()
	}
	for !p.state.CompareAndSwap(pmdParked, pmdRunning) {
		runtime.Gosched() // the control side is serving a request for us
	}
	p.ctr.idleNs += uint64(time.Since(start))
}

// request asks the PMD for a quiescent point and returns the request to
// wait for.
func (p *pmd) request() uint64 {
	r := p.req.Add(1)
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return r
}

// waitAck waits until the PMD answered request r or exited.
func (p *pmd) waitAck(r uint64) {
	for spins := 0; p.ack.Load() < r; spins++ {
		select {
		case <-p.done:
			return
		default:
		}
		if spins < 100 {
			runtime.Gosched()
		} else {
			time.Sleep(20 * time.Microsecond)
		}
	}
}
