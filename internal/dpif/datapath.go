package dpif

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/odp"
	"github.com/govs/govs/internal/packet"
)

// Datapath is a userspace datapath: ports, PMD threads, megaflows, meters.
//
// Locks, in order: pmdMu (PMD set and rx queue assignment), then mu (ports,
// megaflows, meters, publication), then execMu (the non-PMD executor). PMDs
// take mu only to install megaflows (misses), never pmdMu; nothing waits
// for PMDs while holding mu.
type Datapath struct {
	cfg   Config
	up    Upcaller
	rel   Releaser // up, if it keeps state per megaflow; else nil
	snap  atomic.Pointer[snapshot]
	epoch int64 // unix ns at New: meters get time since then
	// epochMono turns monotime() into unix ns (monotime() + epochMono), so
	// PMDs stamp megaflows' last use without reading the wall clock.
	epochMono int64

	mu sync.Mutex
	// +checklocks:mu
	ctl control

	pmdMu   sync.Mutex
	pmds    []*pmd // +checklocks:pmdMu
	cpus    []int  // +checklocks:pmdMu
	started bool   // +checklocks:pmdMu
	// Counters of PMDs that were stopped by SetPMDCPUs, and the baseline
	// ClearPMDStats subtracts.
	retired  pmdCounters   // +checklocks:pmdMu
	baseline []pmdCounters // +checklocks:pmdMu

	execMu sync.Mutex
	exec   *executor // +checklocks:execMu

	reval revalScratch // +checklocks:pmdMu

	tun tunables // other_config settings that change live (tunables.go)

	off offloadState // kernel forwarding (offload.go) // +checklocks:pmdMu
	// fwdTotals counts what the kernel forwarded for each port, for
	// PortStats, which reads it without pmdMu (it has its own lock).
	fwdTotals fwdTotals

	taps tapHook // running packet captures (capture.go)
	// revalidation round durations (reval_stats.go)
	revalTimes revalTimes

	revalStop chan struct{}
	revalDone chan struct{}
}

// control is the control side's mutable state: megaflows and their
// statistics, the classifiers being built, ports and meters. publish turns
// it into a snapshot.
type control struct {
	flows   flowTableBuilder
	states  []*flowState // by megaflow id; nil: free
	freeIDs []uint32     // megaflow ids free for reuse
	// Ids of deleted megaflows, reusable once every PMD has passed a
	// quiescent point after their deletion was published (syncLocked):
	// installs go into subtables in place, so a PMD on an older snapshot
	// could otherwise find a new megaflow's entry under an id its flow
	// table gives to the deleted one.
	pendingFree []uint32
	// Deleted megaflows whose Ref the Releaser has not been told about
	// yet (releaseDeleted tells it, without mu).
	released  []releasedFlow
	nflows    int
	lastGen   uint32
	cls       map[uint32]*classifierBuilder
	nextSubID uint32
	subHits   map[uint32]uint64 // accumulated subtable hits, for ranking
	ports     map[uint32]*dpPort
	meters    map[uint32]*odp.Meter
	nexec     int // executors that may send: PMDs + the non-PMD path
	dirty     bool
}

// flowState is the control side's record of one megaflow.
type flowState struct {
	mf      *megaflow
	mask    flow.Mask
	sub     *subtable
	ref     uint64
	created int64

	packets, bytes uint64
	used           int64
	tcpFlags       uint16

	// Since the previous Upcaller.Revalidate of this megaflow.
	newPackets, newBytes uint64
	newTCPFlags          uint16
}

// New creates a datapath with no ports. PMDs start with Start.
func New(cfg Config, up Upcaller) (*Datapath, error) {
	if up == nil {
		return nil, errors.New("dpif: nil Upcaller")
	}
	cfg = cfg.withDefaults()
	dp := &Datapath{cfg: cfg, up: up, cpus: cfg.PMDCPUs, epoch: time.Now().UnixNano()}
	dp.epochMono = dp.epoch - monotime()
	dp.tun.store(cfg)
	dp.off = offloadState{fwd: map[uint32]*kernelFwd{}, failed: map[uint32]fwdWant{}}
	dp.rel, _ = up.(Releaser)
	dp.ctl = control{
		flows:   flowTableBuilder{chunkFresh: map[uint32]bool{}},
		cls:     map[uint32]*classifierBuilder{},
		subHits: map[uint32]uint64{},
		ports:   map[uint32]*dpPort{},
		meters:  map[uint32]*odp.Meter{},
	}
	x, err := newExecutor(dp, 0)
	if err != nil {
		return nil, err
	}
	dp.exec = x
	dp.mu.Lock()
	dp.ctl.dirty = true
	dp.publishLocked()
	dp.mu.Unlock()
	if err := dp.makePMDs(); err != nil {
		x.close()
		return nil, err
	}
	return dp, nil
}

// makePMDs creates (without starting) one PMD per configured CPU.
// +checklocks:dp.pmdMu (or before the datapath is shared)
func (dp *Datapath) makePMDs() error {
	n := len(dp.cpus)
	if n == 0 {
		n = dp.cfg.NumPMDs
	}
	pmds := make([]*pmd, 0, n)
	for i := range n {
		cpu := -1
		if len(dp.cpus) > 0 {
			cpu = dp.cpus[i]
		}
		p, err := newPMD(dp, i, cpu)
		if err != nil {
			for _, q := range pmds {
				q.close()
			}
			return err
		}
		pmds = append(pmds, p)
	}
	dp.pmds = pmds
	dp.baseline = make([]pmdCounters, n)
	dp.mu.Lock()
	dp.ctl.nexec = n + 1
	dp.ctl.dirty = true
	dp.publishLocked()
	dp.mu.Unlock()
	return nil
}

// Start starts the PMDs and the periodic revalidator.
func (dp *Datapath) Start() error {
	dp.pmdMu.Lock()
	defer dp.pmdMu.Unlock()
	if dp.started {
		return nil
	}
	if err := dp.startPMDsLocked(); err != nil {
		return err
	}
	dp.started = true
	dp.revalStop = make(chan struct{})
	dp.revalDone = make(chan struct{})
	go dp.revalidator(dp.revalStop, dp.revalDone)
	return nil
}

func (dp *Datapath) startPMDsLocked() error {
	dp.assignLocked()
	reserveProcs(len(dp.pmds))
	for _, p := range dp.pmds {
		ready := make(chan error, 1)
		go p.run(ready)
		if err := <-ready; err != nil {
			<-p.done
			dp.stopPMDsLocked()
			return err
		}
		p.running = true
	}
	return nil
}

// reserveProcs makes GOMAXPROCS at least pmds+1. A PMD goroutine keeps its
// P while it polls, so the control plane needs one more. The runtime sizes
// GOMAXPROCS from the process's CPU affinity and cgroup quota: under
// `taskset -c 0` (the non-PMD threads kept off the PMD's core, as OVS-DPDK
// keeps its own with dpdk-lcore-mask) that is 1, and the PMD then shares
// its only P with every other goroutine: in the PVP benchmark it ran 7 %
// of the time and forwarded 0.16 instead of 5.4 Mpps.
func reserveProcs(pmds int) {
	if need := pmds + 1; runtime.GOMAXPROCS(0) < need {
		runtime.GOMAXPROCS(need)
	}
}

// Stop stops the revalidator and the PMDs; it returns when their
// goroutines have exited. Megaflows stay installed; Start resumes.
func (dp *Datapath) Stop() {
	dp.pmdMu.Lock()
	if !dp.started {
		dp.pmdMu.Unlock()
		return
	}
	dp.started = false
	close(dp.revalStop)
	dp.pmdMu.Unlock()
	<-dp.revalDone
	dp.pmdMu.Lock()
	dp.stopForwardsLocked(func(uint32, *kernelFwd) bool { return true })
	dp.stopPMDsLocked()
	dp.pmdMu.Unlock()
}

func (dp *Datapath) stopPMDsLocked() {
	for _, p := range dp.pmds {
		if !p.running {
			continue
		}
		p.stop.Store(true)
		p.request()
		<-p.done
		p.running = false
		p.stop.Store(false)
		p.done = make(chan struct{})
	}
	dp.collectLocked()
}

// Close stops the datapath and releases its packet pools. Ports are not
// closed: whoever opened them closes them.
func (dp *Datapath) Close() {
	dp.Stop()
	dp.pmdMu.Lock()
	for _, p := range dp.pmds {
		p.close()
	}
	dp.pmds = nil
	dp.pmdMu.Unlock()
	dp.execMu.Lock()
	dp.exec.close()
	dp.execMu.Unlock()
}

// AddPort attaches dev as datapath port odpPort. Its rx queues are
// assigned to PMDs at once.
func (dp *Datapath) AddPort(odpPort uint32, dev netdev.Netdev) error {
	if odpPort >= maxPorts {
		return fmt.Errorf("dpif: port number %d out of range", odpPort)
	}
	dp.pmdMu.Lock()
	defer dp.pmdMu.Unlock()
	dp.mu.Lock()
	if _, dup := dp.ctl.ports[odpPort]; dup {
		dp.mu.Unlock()
		return fmt.Errorf("dpif: port %d already exists", odpPort)
	}
	ntxq := max(dev.TxQueues(), 1)
	dp.ctl.ports[odpPort] = &dpPort{no: odpPort, dev: dev, ntxq: ntxq, txLocks: make([]sync.Mutex, ntxq)}
	dp.ctl.dirty = true
	dp.publishLocked()
	dp.mu.Unlock()
	dp.assignLocked()
	return nil
}

// maxPorts bounds odp port numbers (the snapshot's port table is indexed
// by them).
const maxPorts = 1 << 16

// DelPort detaches port odpPort and deletes the megaflows whose in_port it
// was. On return no PMD polls or sends to the port any more; the caller
// may close it.
func (dp *Datapath) DelPort(odpPort uint32) error {
	dp.pmdMu.Lock()
	defer dp.pmdMu.Unlock()
	dp.mu.Lock()
	_, ok := dp.ctl.ports[odpPort]
	dp.mu.Unlock()
	if !ok {
		return fmt.Errorf("dpif: no port %d", odpPort)
	}
	// The kernel must stop forwarding from or to the port before its
	// megaflows go and the caller closes it.
	dp.stopForwardsLocked(func(from uint32, f *kernelFwd) bool { return from == odpPort || f.to == odpPort })
	delete(dp.off.failed, odpPort)
	dp.fwdTotals.forget(odpPort)
	dp.mu.Lock()
	delete(dp.ctl.ports, odpPort)
	for id, st := range dp.ctl.states {
		if st != nil && st.mf.inPort == odpPort {
			dp.deleteFlowLocked(uint32(id))
		}
	}
	delete(dp.ctl.cls, odpPort)
	dp.ctl.dirty = true
	dp.publishLocked()
	dp.mu.Unlock()
	// A packet-out that loaded the old snapshot may still be sending to
	// the port: wait for it, so the caller can close the device (an
	// Execute that starts from now on finds no such port).
	dp.execMu.Lock()
	//lint:ignore SA2001 the empty critical section is the wait
	dp.execMu.Unlock()
	dp.releaseDeleted()
	dp.assignLocked()
	dp.syncLocked()
	return nil
}

// SetRxqAffinity pins rx queues of a port to CPUs (pmd-rxq-affinity,
// queue -> CPU). Queues whose CPU has no PMD are assigned like others.
func (dp *Datapath) SetRxqAffinity(odpPort uint32, aff map[int]int) error {
	dp.pmdMu.Lock()
	defer dp.pmdMu.Unlock()
	dp.mu.Lock()
	p := dp.ctl.ports[odpPort]
	if p == nil {
		dp.mu.Unlock()
		return fmt.Errorf("dpif: no port %d", odpPort)
	}
	np := *p
	np.affinity = maps(aff)
	dp.ctl.ports[odpPort] = &np
	dp.ctl.dirty = true
	dp.publishLocked()
	dp.mu.Unlock()
	dp.assignLocked()
	return nil
}

func maps(m map[int]int) map[int]int {
	c := make(map[int]int, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// SetPMDCPUs changes the PMD set live (pmd-cpu-mask): the PMDs stop, new
// ones start on cpus and the rx queues are assigned again. EMCs start
// empty; megaflows are kept. Empty cpus means Config.NumPMDs unpinned PMDs.
func (dp *Datapath) SetPMDCPUs(cpus []int) error {
	dp.pmdMu.Lock()
	defer dp.pmdMu.Unlock()
	if slices.Equal(cpus, dp.cpus) {
		return nil
	}
	wasRunning := dp.started
	if wasRunning {
		dp.stopPMDsLocked()
	}
	old := dp.pmds
	for i, p := range old {
		dp.retired = addCounters(dp.retired, subCounters(p.published(), dp.baseline[i]))
		p.close()
	}
	dp.cpus = append([]int(nil), cpus...)
	if err := dp.makePMDs(); err != nil {
		return err
	}
	dp.mu.Lock()
	dp.ctl.dirty = true
	dp.publishLocked() // tx queue sharing depends on the number of PMDs
	dp.mu.Unlock()
	if wasRunning {
		return dp.startPMDsLocked()
	}
	dp.assignLocked()
	return nil
}

// Execute runs actions on a packet that did not come from a port
// (OpenFlow packet-out), on the non-PMD path. inPort is the packet's
// in_port (for its flow key; odp port numbers, or a number no port has).
func (dp *Datapath) Execute(pkt []byte, inPort uint32, actions odp.Actions) error {
	dp.execMu.Lock()
	defer dp.execMu.Unlock()
	x := dp.exec
	var buf packet.Buffer
	if err := x.pool.Get(&buf); err != nil {
		return fmt.Errorf("dpif execute: %w", err)
	}
	if !buf.SetLen(len(pkt)) {
		x.pool.Put(&buf)
		return errors.New("dpif execute: packet larger than a frame")
	}
	copy(buf.Data(), pkt)
	buf.InPort = inPort
	// The frame goes back after the flush; actions work on a copy of the
	// descriptor, which pushes may move to another frame.
	x.toFree = append(x.toFree, buf)
	work := buf
	var k flow.Key
	flow.Parse(&work, &k)
	x.now = time.Now().UnixNano()
	snap := dp.snap.Load()
	x.execute(snap, []*packet.Buffer{&work}, []*flow.Key{&k}, actions)
	x.flush(snap)
	return nil
}
