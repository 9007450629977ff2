package dpif

import (
	"github.com/govs/govs/internal/netdev"
	"slices"
	"sort"
)

// RxqInfo says which PMD polls one rx queue (dpif-netdev/pmd-rxq-show).
type RxqInfo struct {
	Port     uint32
	PortName string
	Queue    int
	PMD      int  // index into PMDStats
	CPU      int  // the PMD's CPU, -1 unpinned
	Pinned   bool // placed by pmd-rxq-affinity
}

// RxqAssignment returns the current rx queue placement, by port and queue.
func (dp *Datapath) RxqAssignment() []RxqInfo {
	dp.pmdMu.Lock()
	defer dp.pmdMu.Unlock()
	_, infos := dp.planLocked()
	return infos
}

// planLocked computes every PMD's poll list: queues pinned by affinity go
// to the PMD on their CPU, which is then isolated (OVS's default
// pmd-rxq-isolate=true); the others are dealt round-robin to the
// remaining PMDs (to all PMDs when every one is isolated).
// +checklocks:dp.pmdMu
func (dp *Datapath) planLocked() ([][]pollEntry, []RxqInfo) {
	dp.mu.Lock()
	ports := make([]*dpPort, 0, len(dp.ctl.ports))
	for _, p := range dp.ctl.ports {
		ports = append(ports, p)
	}
	dp.mu.Unlock()
	sort.Slice(ports, func(i, j int) bool { return ports[i].no < ports[j].no })

	plan := make([][]pollEntry, len(dp.pmds))
	var infos []RxqInfo
	if len(dp.pmds) == 0 {
		return plan, nil
	}
	byCPU := map[int]int{}
	for i, p := range dp.pmds {
		if p.cpu >= 0 {
			byCPU[p.cpu] = i
		}
	}
	isolated := make([]bool, len(dp.pmds))
	type rxq struct {
		port *dpPort
		q    int
		pmd  int
	}
	var all []rxq
	for _, p := range ports {
		for _, q := range p.dev.RxQueues() {
			r := rxq{port: p, q: q.ID(), pmd: -1}
			if cpu, ok := p.affinity[r.q]; ok {
				if i, ok := byCPU[cpu]; ok {
					r.pmd = i
					isolated[i] = true
				}
			}
			all = append(all, r)
		}
	}
	var free []int
	for i := range dp.pmds {
		if !isolated[i] {
			free = append(free, i)
		}
	}
	if len(free) == 0 {
		for i := range dp.pmds {
			free = append(free, i)
		}
	}
	next := 0
	for _, r := range all {
		pinned := r.pmd >= 0
		if !pinned {
			r.pmd = free[next%len(free)]
			next++
		}
		q := r.port.dev.RxQueues()[r.q]
		sp, ok := q.(netdev.SyscallPoller)
		plan[r.pmd] = append(plan[r.pmd], pollEntry{port: r.port.no, queue: r.q, rxq: q,
			syscall: ok && sp.PollIsSyscall()})
		infos = append(infos, RxqInfo{
			Port: r.port.no, PortName: r.port.dev.Name(), Queue: r.q,
			PMD: r.pmd, CPU: dp.pmds[r.pmd].cpu, Pinned: pinned,
		})
	}
	return plan, infos
}

// assignLocked gives every PMD its planned poll list. A queue that moves
// is first removed from its old PMD, and only after that PMD has passed a
// quiescent point added to the new one, so no queue is ever polled by two
// PMDs at once.
// +checklocks:dp.pmdMu
func (dp *Datapath) assignLocked() {
	plan, _ := dp.planLocked()
	moved := false
	for i, p := range dp.pmds {
		old := *p.polls.Load()
		keep := slices.DeleteFunc(slices.Clone(old), func(e pollEntry) bool {
			return !slices.Contains(plan[i], e)
		})
		if len(keep) != len(old) {
			p.polls.Store(&keep)
			moved = true
		}
	}
	if moved {
		dp.syncLocked()
	}
	for i, p := range dp.pmds {
		pl := plan[i]
		p.polls.Store(&pl)
	}
	dp.retuneForwardsLocked()
}
