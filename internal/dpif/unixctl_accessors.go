package dpif

import (
	"sort"

	"github.com/govs/govs/internal/netdev"
)

// Read-only views and one control for the operator tools (internal/unixctl,
// internal/metrics). Nothing here runs on the packet path.

// PortEntry is one datapath port (dpctl/show).
type PortEntry struct {
	No  uint32
	Dev netdev.Netdev
}

// PortEntries returns the datapath's ports ordered by number.
func (dp *Datapath) PortEntries() []PortEntry {
	dp.mu.Lock()
	out := make([]PortEntry, 0, len(dp.ctl.ports))
	for _, p := range dp.ctl.ports {
		out = append(out, PortEntry{No: p.no, Dev: p.dev})
	}
	dp.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].No < out[j].No })
	return out
}

// NumFlows returns the number of installed megaflows.
func (dp *Datapath) NumFlows() int {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	return dp.ctl.nflows
}

// FlowLimit returns the configured megaflow limit (flow-limit).
func (dp *Datapath) FlowLimit() int { return int(dp.tun.flowLimit.Load()) }

// PMDCounters returns every PMD's counters since the PMD started, ignoring
// ClearPMDStats, so that they only grow while the PMD lives (Prometheus
// counters); the last entry is the non-PMD path, as in PMDStats (it is
// zeroed by ClearPMDStats).
func (dp *Datapath) PMDCounters() []PMDStats {
	dp.pmdMu.Lock()
	defer dp.pmdMu.Unlock()
	dp.syncLocked()
	out := make([]PMDStats, 0, len(dp.pmds)+1)
	for i, p := range dp.pmds {
		out = append(out, makePMDStats(i, p.cpu, p.published()))
	}
	dp.execMu.Lock()
	nonPMD := dp.retired
	nonPMD.drops = addDrops(nonPMD.drops, dp.exec.drops)
	nonPMD.out = nonPMD.out.add(dp.exec.out)
	dp.execMu.Unlock()
	out = append(out, makePMDStats(NonPMD, -1, nonPMD))
	return out
}

// RebalanceRxqs assigns the rx queues to PMDs again
// (dpif-netdev/pmd-rxq-rebalance). The placement is recomputed from the
// current ports, PMDs and pmd-rxq-affinity; queues that keep their PMD are
// not disturbed.
func (dp *Datapath) RebalanceRxqs() {
	dp.pmdMu.Lock()
	defer dp.pmdMu.Unlock()
	dp.assignLocked()
}
