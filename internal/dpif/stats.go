package dpif

import (
	"fmt"

	"github.com/govs/govs/internal/netdev"
)

// PMDStats are one PMD's counters (dpif-netdev/pmd-stats-show), since the
// last ClearPMDStats.
type PMDStats struct {
	PMD int // index; NonPMD for the non-PMD path
	CPU int // -1: unpinned

	Packets         uint64 // received
	EMCHits         uint64
	MegaflowHits    uint64
	SubtableLookups uint64  // subtables searched for the megaflow hits
	LookupsPerHit   float64 // SubtableLookups / MegaflowHits
	Upcalls         uint64  // misses sent to the slow path
	Lost            uint64  // misses the slow path failed
	Iterations      uint64
	BusyNs, IdleNs  uint64

	// Drops by reason.
	DropNoPort, DropPoolEmpty, DropAction, DropMeter uint64
	DropUnsupported, DropTxFailed, DropNoActions     uint64
	DropUpcallLost                                   uint64

	// What the PMD handed to ports' Send, and in how many batches.
	TxPackets, TxBatches uint64
}

// NonPMD is the PMD index of the non-PMD path's statistics, and of the
// totals of PMDs that SetPMDCPUs retired.
const NonPMD = -1

// PMDStats returns every PMD's statistics, then those of the non-PMD path
// (packet-out, and PMDs retired by SetPMDCPUs).
func (dp *Datapath) PMDStats() []PMDStats {
	dp.pmdMu.Lock()
	defer dp.pmdMu.Unlock()
	dp.syncLocked()
	out := make([]PMDStats, 0, len(dp.pmds)+1)
	for i, p := range dp.pmds {
		out = append(out, makePMDStats(i, p.cpu, subCounters(p.published(), dp.baseline[i])))
	}
	dp.execMu.Lock()
	nonPMD := dp.retired
	nonPMD.drops = addDrops(nonPMD.drops, dp.exec.drops)
	nonPMD.out = nonPMD.out.add(dp.exec.out)
	dp.execMu.Unlock()
	out = append(out, makePMDStats(NonPMD, -1, nonPMD))
	return out
}

// ClearPMDStats zeroes the PMD statistics (dpif-netdev/pmd-stats-clear).
func (dp *Datapath) ClearPMDStats() {
	dp.pmdMu.Lock()
	defer dp.pmdMu.Unlock()
	dp.syncLocked()
	for i, p := range dp.pmds {
		dp.baseline[i] = p.published()
	}
	dp.retired = pmdCounters{}
	dp.execMu.Lock()
	dp.exec.drops = dropCounters{}
	dp.exec.out = outputCounters{}
	dp.execMu.Unlock()
}

// PortStats returns the counters of port odpPort.
func (dp *Datapath) PortStats(odpPort uint32) (netdev.Stats, error) {
	p := dp.snap.Load().port(odpPort)
	if p == nil {
		return netdev.Stats{}, fmt.Errorf("dpif: no port %d", odpPort)
	}
	s := p.dev.Stats()
	dp.fwdTotals.addTo(odpPort, &s)
	return s, nil
}

func makePMDStats(idx, cpu int, c pmdCounters) PMDStats {
	s := PMDStats{
		PMD: idx, CPU: cpu,
		Packets: c.packets, EMCHits: c.emcHits, MegaflowHits: c.megaflowHits,
		SubtableLookups: c.subtableLookups, Upcalls: c.upcalls, Lost: c.lost,
		Iterations: c.iterations, BusyNs: c.busyNs, IdleNs: c.idleNs,
		DropNoPort: c.drops.NoPort, DropPoolEmpty: c.drops.PoolEmpty,
		DropAction: c.drops.Action, DropMeter: c.drops.Meter,
		DropUnsupported: c.drops.Unsupported, DropTxFailed: c.drops.TxFailed,
		DropNoActions: c.drops.NoActions, DropUpcallLost: c.drops.UpcallLost,
		TxPackets: c.out.packets, TxBatches: c.out.batches,
	}
	if c.megaflowHits > 0 {
		s.LookupsPerHit = float64(c.subtableLookups) / float64(c.megaflowHits)
	}
	return s
}

func addCounters(a, b pmdCounters) pmdCounters {
	a.packets += b.packets
	a.emcHits += b.emcHits
	a.megaflowHits += b.megaflowHits
	a.subtableLookups += b.subtableLookups
	a.upcalls += b.upcalls
	a.lost += b.lost
	a.iterations += b.iterations
	a.busyNs += b.busyNs
	a.idleNs += b.idleNs
	a.drops = addDrops(a.drops, b.drops)
	a.out = a.out.add(b.out)
	return a
}

func subCounters(a, b pmdCounters) pmdCounters {
	a.packets -= b.packets
	a.emcHits -= b.emcHits
	a.megaflowHits -= b.megaflowHits
	a.subtableLookups -= b.subtableLookups
	a.upcalls -= b.upcalls
	a.lost -= b.lost
	a.iterations -= b.iterations
	a.busyNs -= b.busyNs
	a.idleNs -= b.idleNs
	d := &a.drops
	d.NoPort -= b.drops.NoPort
	d.PoolEmpty -= b.drops.PoolEmpty
	d.Action -= b.drops.Action
	d.Meter -= b.drops.Meter
	d.Unsupported -= b.drops.Unsupported
	d.TxFailed -= b.drops.TxFailed
	d.NoActions -= b.drops.NoActions
	d.UpcallLost -= b.drops.UpcallLost
	a.out.packets -= b.out.packets
	a.out.batches -= b.out.batches
	return a
}

func addDrops(a, b dropCounters) dropCounters {
	a.NoPort += b.NoPort
	a.PoolEmpty += b.PoolEmpty
	a.Action += b.Action
	a.Meter += b.Meter
	a.Unsupported += b.Unsupported
	a.TxFailed += b.TxFailed
	a.NoActions += b.NoActions
	a.UpcallLost += b.UpcallLost
	return a
}
