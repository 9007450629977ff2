package dpif

import (
	"slices"
	"sync"
	"time"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/odp"
)

// Kernel forwarding (other_config:hw-offload): OVS offloads megaflows to
// TC; govs offloads the one kind of megaflow the kernel can run with no
// classifier at all, a port's whole input sent unchanged to one other
// port. When a megaflow matches only in_port (X), its only action is
// output:Y, it is X's only megaflow, X's device can forward in the kernel
// (netdev.KernelForwarder) and Y's Send transmits on a kernel device
// (netdev.Transmitter), X's frames go to Y in X's receive path and never
// reach a PMD: the "in_port=1,actions=output:2" cross-connect of the
// OVS-DPDK recipes, a patch panel between two VMs or containers.
//
// The forward stands for the megaflow, which stays installed:
//
//   - it is started by a revalidation round (after a flow-mod, or at most
//     RevalidateInterval after the megaflow was installed), on the CPUs of
//     the PMDs that poll X, which let it run by sleeping when idle;
//   - it is stopped before the megaflow is deleted or given other actions,
//     and before X or Y leaves the datapath, so when Revalidate, DelFlows
//     or DelPort return no frame takes a path the tables no longer give;
//   - its counters are credited to the megaflow each round (and when it
//     stops), so OpenFlow rule statistics, idle timeouts and port
//     statistics see the forwarded packets.
//
// A capture on X or Y keeps the ports in user space, where it sees them.

// wholePort reports whether a megaflow matches all of its in_port's
// packets: its mask has in_port and, as every megaflow's, recirc_id (which
// must be 0, a packet's first pass), and nothing else.
func wholePort(st *flowState) bool {
	m := st.mask
	m.InPort, m.RecircID = 0, 0
	return m == flow.Mask{} && st.mf.key.RecircID == 0
}

// forwardIdleSleep bounds the idle sleep of a PMD whose CPU also runs
// kernel forwarding, when pmd-sleep-max does not ask for more: the
// forwarding threads get the CPU while the PMD's queues are empty, and a
// first packet on one of them waits at most this long, as under
// pmd-sleep-max=1000. Each wake-up costs the shared CPU some 7 µs (timer,
// futex, two context switches), so 1 ms keeps the idle PMD under 1 % of
// it; at 250 µs it took 3 % of the forwarding's CPU.
const forwardIdleSleep = time.Millisecond

// kernelFwd is one running kernel forward.
type kernelFwd struct {
	fwdWant
	cpus        []int
	pkts, bytes uint64 // Forwarded() when last credited
	stopFailed  bool   // a stop failed and was logged
}

// fwdWant is a forward a megaflow calls for.
type fwdWant struct {
	dev     netdev.KernelForwarder
	to      uint32 // odp port
	ifindex int    // to's kernel device
	id, gen uint32 // the megaflow
}

// offloadState is the datapath's kernel forwarding state, under pmdMu.
type offloadState struct {
	on  bool
	fwd map[uint32]*kernelFwd // by odp in_port
	// failed remembers forwards the kernel refused, so a round does not
	// retry them; a change of what is wanted, of the port, or of
	// hw-offload clears the entry.
	failed map[uint32]fwdWant
}

// fwdTotals are the packets and bytes forwarded in the kernel for each odp
// port, as received (in_port) and as sent (output): the ports' own
// counters never see them. PortStats reads them without pmdMu.
type fwdTotals struct {
	mu     sync.Mutex
	rx, tx map[uint32][2]uint64 // +checklocks:mu
}

func (t *fwdTotals) add(from, to uint32, pkts, bytes uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rx == nil {
		t.rx, t.tx = map[uint32][2]uint64{}, map[uint32][2]uint64{}
	}
	r, x := t.rx[from], t.tx[to]
	t.rx[from] = [2]uint64{r[0] + pkts, r[1] + bytes}
	t.tx[to] = [2]uint64{x[0] + pkts, x[1] + bytes}
}

// addTo adds port's forwarded traffic to s.
func (t *fwdTotals) addTo(port uint32, s *netdev.Stats) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, x := t.rx[port], t.tx[port]
	s.RxPackets += r[0]
	s.RxBytes += r[1]
	s.TxPackets += x[0]
	s.TxBytes += x[1]
}

// forget drops a port's totals when it leaves the datapath (a port added
// again under the same number starts from zero, as its device does).
func (t *fwdTotals) forget(port uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.rx, port)
	delete(t.tx, port)
}

// SetOffload turns kernel forwarding on or off (other_config:hw-offload).
// Off, every forward has stopped on return.
func (dp *Datapath) SetOffload(on bool) {
	dp.pmdMu.Lock()
	defer dp.pmdMu.Unlock()
	if dp.off.on == on {
		return
	}
	dp.off.on = on
	clear(dp.off.failed)
	dp.reconcileForwardsLocked()
}

// Offload reports whether kernel forwarding is on.
func (dp *Datapath) Offload() bool {
	dp.pmdMu.Lock()
	defer dp.pmdMu.Unlock()
	return dp.off.on
}

// wantedForwardsLocked returns the forwards the installed megaflows call
// for, by in_port.
// +checklocks:dp.mu
func (dp *Datapath) wantedForwardsLocked() map[uint32]fwdWant {
	c := &dp.ctl
	var cands []*flowState
	for _, st := range c.states {
		// A plain output: no truncation or other argument the kernel's
		// redirect would not honour.
		if st != nil && wholePort(st) && len(st.mf.actions) == 1 && st.mf.actions[0] == odp.Output(st.mf.actions[0].Arg) {
			cands = append(cands, st)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	// An in_port-only megaflow covers its port's every packet, so one
	// beside it can only be a leftover the next round deletes; until
	// then the PMDs choose between them, and so the kernel must not.
	perPort := map[uint32]int{}
	for _, st := range c.states {
		if st != nil {
			perPort[st.mf.inPort]++
		}
	}
	taps := dp.taps.cur.Load()
	want := map[uint32]fwdWant{}
	for _, st := range cands {
		if perPort[st.mf.inPort] != 1 {
			continue
		}
		from, to := st.mf.inPort, st.mf.actions[0].Arg
		src, dst := c.ports[from], c.ports[to]
		if from == to || src == nil || dst == nil || taps.watches(from) || taps.watches(to) {
			continue
		}
		kf, ok := src.dev.(netdev.KernelForwarder)
		tx, ok2 := dst.dev.(netdev.Transmitter)
		if !ok || !ok2 || tx.TransmitIfindex() <= 0 {
			continue
		}
		want[from] = fwdWant{dev: kf, to: to, ifindex: tx.TransmitIfindex(), id: st.mf.id, gen: st.mf.gen}
	}
	return want
}

// reconcileForwardsLocked starts, stops and re-pins forwards to match the
// installed megaflows.
// +checklocks:dp.pmdMu
func (dp *Datapath) reconcileForwardsLocked() {
	var want map[uint32]fwdWant
	if dp.off.on {
		dp.mu.Lock()
		want = dp.wantedForwardsLocked()
		dp.mu.Unlock()
	}
	dp.stopForwardsLocked(func(from uint32, f *kernelFwd) bool {
		return want[from] != f.fwdWant
	})
	for from, w := range want {
		if dp.off.fwd[from] != nil {
			continue
		}
		if failed, ok := dp.off.failed[from]; ok && failed == w {
			continue
		}
		delete(dp.off.failed, from)
		cpus := dp.pollingCPUsLocked(from)
		pkts, bytes := w.dev.Forwarded()
		if err := w.dev.ForwardTo(w.ifindex, cpus); err != nil {
			// The megaflow goes on being served by the PMDs; the
			// forward is tried again when what is wanted changes.
			dp.off.failed[from] = w
			dp.cfg.Log.Warn("hw-offload: the kernel refused a forward; the PMDs keep serving it",
				"in_port", from, "output", w.to, "err", err)
			continue
		}
		dp.off.fwd[from] = &kernelFwd{fwdWant: w, cpus: cpus, pkts: pkts, bytes: bytes}
	}
	dp.retuneForwardsLocked()
}

// stopForwardsLocked stops the forwards stop selects and credits what
// they forwarded to their megaflows. Callers that delete megaflows stop
// their forwards first, so the last packets reach the statistics the
// deletion hands to the Releaser.
// +checklocks:dp.pmdMu
func (dp *Datapath) stopForwardsLocked(stop func(from uint32, f *kernelFwd) bool) {
	for from, f := range dp.off.fwd {
		if !stop(from, f) {
			continue
		}
		// A port that cannot stop forwarding (the kernel refused to swap
		// its XDP program back) keeps its record, so every later round
		// tries again; closing the port stops it for good.
		if err := f.dev.ForwardTo(0, nil); err != nil {
			if !f.stopFailed {
				f.stopFailed = true
				dp.cfg.Log.Error("hw-offload: a forward does not stop; trying again each round",
					"in_port", from, "output", f.to, "err", err)
			}
			continue
		}
		dp.creditForward(from, f)
		delete(dp.off.fwd, from)
	}
}

// foldForwardsLocked credits every running forward's new packets to its
// megaflow.
// +checklocks:dp.pmdMu
func (dp *Datapath) foldForwardsLocked() {
	for from, f := range dp.off.fwd {
		dp.creditForward(from, f)
	}
}

// creditForward adds what f forwarded since it was last credited to its
// megaflow (if it is still the one f stands for) and to the ports'
// totals. It takes mu.
// +checklocks:dp.pmdMu
func (dp *Datapath) creditForward(from uint32, f *kernelFwd) {
	pkts, bytes := f.dev.Forwarded()
	newPkts, newBytes := pkts-f.pkts, bytes-f.bytes
	f.pkts, f.bytes = pkts, bytes
	if newPkts == 0 {
		return
	}
	dp.fwdTotals.add(from, f.to, newPkts, newBytes)
	now := time.Now().UnixNano()
	dp.mu.Lock()
	if int(f.id) < len(dp.ctl.states) {
		if st := dp.ctl.states[f.id]; st != nil && st.mf.gen == f.gen {
			st.packets += newPkts
			st.bytes += newBytes
			st.newPackets += newPkts
			st.newBytes += newBytes
			st.used = max(st.used, now)
		}
	}
	dp.mu.Unlock()
}

// forwarding reports whether megaflow id/gen is forwarded in the kernel.
// +checklocks:dp.pmdMu
func (dp *Datapath) forwarding(id, gen uint32) bool {
	for _, f := range dp.off.fwd {
		if f.id == id && f.gen == gen {
			return true
		}
	}
	return false
}

// pollingCPUsLocked returns the CPUs of the pinned PMDs that poll port.
// +checklocks:dp.pmdMu
func (dp *Datapath) pollingCPUsLocked(port uint32) []int {
	var cpus []int
	for _, p := range dp.pmds {
		if p.cpu < 0 || slices.Contains(cpus, p.cpu) {
			continue
		}
		if slices.ContainsFunc(*p.polls.Load(), func(e pollEntry) bool { return e.port == port }) {
			cpus = append(cpus, p.cpu)
		}
	}
	slices.Sort(cpus)
	return cpus
}

// retuneForwardsLocked moves forwards onto the CPUs of the PMDs that poll
// their ports now, and tells each PMD whether it shares its CPU with
// kernel forwarding (then it sleeps when idle).
// +checklocks:dp.pmdMu
func (dp *Datapath) retuneForwardsLocked() {
	for from, f := range dp.off.fwd {
		cpus := dp.pollingCPUsLocked(from)
		if slices.Equal(cpus, f.cpus) {
			continue
		}
		if err := f.dev.ForwardTo(f.ifindex, cpus); err != nil {
			// It goes on forwarding where it was; the next round
			// tries again.
			dp.cfg.Log.Warn("hw-offload: cannot move a forward's kernel work to the PMDs' CPUs",
				"in_port", from, "cpus", cpus, "err", err)
			continue
		}
		f.cpus = cpus
	}
	for _, p := range dp.pmds {
		shares := false
		for _, e := range *p.polls.Load() {
			if dp.off.fwd[e.port] != nil {
				shares = true
				break
			}
		}
		p.fwdIdle.Store(shares)
	}
}
