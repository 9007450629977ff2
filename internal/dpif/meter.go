package dpif

import (
	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
	"github.com/govs/govs/internal/packet"
)

// SetMeter creates or replaces datapath meter id (OpMeter's Arg). A
// replaced meter starts with full buckets.
func (dp *Datapath) SetMeter(id uint32, cfg odp.MeterConfig) {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	dp.ctl.meters[id] = odp.NewMeter(cfg)
	dp.ctl.dirty = true
	dp.publishLocked()
}

// DelMeter deletes meter id; packets sent to a missing meter pass, as in
// OVS.
func (dp *Datapath) DelMeter(id uint32) {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	delete(dp.ctl.meters, id)
	dp.ctl.dirty = true
	dp.publishLocked()
}

// MeterStats returns meter id's counters.
func (dp *Datapath) MeterStats(id uint32) (odp.MeterStats, bool) {
	var s odp.MeterStats
	m := dp.snap.Load().meters[id]
	if m == nil {
		return s, false
	}
	m.Stats(&s)
	return s, true
}

// meter passes pkts through meter id and returns those that pass (pkts
// and keys compacted in place). The meters are lock-free.
func (x *executor) meter(snap *snapshot, id uint32, pkts []*packet.Buffer, keys []*flow.Key) ([]*packet.Buffer, []*flow.Key) {
	m := snap.meters[id]
	if m == nil {
		return pkts, keys
	}
	now := x.now - x.dp.epoch
	n := 0
	for i, p := range pkts {
		pass, prec := m.Pass(now, p.Len)
		if !pass {
			x.drops.Meter++
			x.release(pkts[i : i+1])
			continue
		}
		if prec > 0 && !odp.RemarkDSCP(p, prec, x.pool) {
			x.drops.Action++
			x.release(pkts[i : i+1])
			continue
		}
		pkts[n], keys[n] = p, keys[i]
		n++
	}
	return pkts[:n], keys[:n]
}
