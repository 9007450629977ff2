package dpif

import (
	"slices"
	"time"

	"github.com/govs/govs/internal/odp"
)

// Revalidation flow (OVS's revalidator threads, here one goroutine, plus
// the synchronous Revalidate the OpenFlow side calls after rule changes):
//
//  1. sync with the PMDs: collect per-megaflow statistics;
//  2. under mu, copy out every megaflow's key, mask, actions and new
//     statistics, and re-rank subtables by hits;
//  3. without mu (PMDs keep installing), ask the Upcaller to re-translate
//     each megaflow (pushing its statistics), and decide:
//     keep (same mask, same actions), replace actions (mask unchanged or
//     narrower, actions changed), delete (anything else, an error, a
//     Delete request, or idle longer than MaxIdle);
//  4. under mu, apply the decisions to megaflows that still are what was
//     copied out, and publish;
//  5. sync again: on return every PMD uses the new decisions.

// Revalidate re-translates every megaflow now and returns when every PMD
// obeys the result (call it after OpenFlow rule changes, before replying
// to a barrier).
func (dp *Datapath) Revalidate() {
	dp.pmdMu.Lock()
	defer dp.pmdMu.Unlock()
	dp.revalidateLocked(time.Now().UnixNano())
}

func (dp *Datapath) revalidator(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(dp.cfg.RevalidateInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			dp.pmdMu.Lock()
			dp.revalidateLocked(time.Now().UnixNano())
			dp.pmdMu.Unlock()
		}
	}
}

type revalItem struct {
	id, gen uint32
	idle    bool
	oldRef  uint64 // r.Ref before Revalidate
	r       Revalidation
	old     odp.Actions // the installed actions, to compare r.Actions with
}

// revalScratch is revalidateLocked's storage, kept from round to round
// (under pmdMu) so a round allocates nothing in steady state: with 64k
// megaflows a round used to allocate some 45 MB every 500 ms, and the
// collections that caused took CPU from whatever shared the control
// threads' core (in the PVP benchmark, the traffic generator).
type revalScratch struct {
	items     []revalItem
	decisions []revalDecision
}

type revalDecision uint8

const (
	revalKeep revalDecision = iota
	revalReplace
	revalDelete
)

// +checklocks:dp.pmdMu
func (dp *Datapath) revalidateLocked(now int64) {
	defer dp.revalTimes.record(monotime())
	dp.syncLocked()
	dp.foldForwardsLocked()

	dp.mu.Lock()
	items := dp.reval.items[:0]
	maxIdle := dp.tun.maxIdle.Load()
	for id, st := range dp.ctl.states {
		if st == nil {
			continue
		}
		if len(items) < cap(items) {
			items = items[:len(items)+1]
		} else {
			items = append(items, revalItem{})
		}
		it := &items[len(items)-1]
		// The item's action buffers are reused from earlier rounds.
		acts, old := it.r.Actions[:0], it.old[:0]
		last := max(st.used, st.created)
		*it = revalItem{id: uint32(id), gen: st.mf.gen, idle: now-last > maxIdle, oldRef: st.ref}
		it.r = Revalidation{
			Key: st.mf.key, Mask: st.mask, Actions: append(acts, st.mf.actions...), Ref: st.ref,
			Packets: st.newPackets, Bytes: st.newBytes, TCPFlags: st.newTCPFlags, Used: st.used,
		}
		it.old = append(old, st.mf.actions...)
		st.newPackets, st.newBytes, st.newTCPFlags = 0, 0, 0
	}
	dp.reval.items = items
	for _, cb := range dp.ctl.cls {
		cb.rank(func(id uint32) uint64 { return dp.ctl.subHits[id] })
	}
	// Halve the hit history so the ranking follows changes in traffic.
	for id, h := range dp.ctl.subHits {
		dp.ctl.subHits[id] = h / 2
	}
	dp.mu.Unlock()

	decisions := slices.Grow(dp.reval.decisions[:0], len(items))[:len(items)]
	dp.reval.decisions = decisions
	for i := range items {
		decisions[i] = dp.revalidateOne(&items[i])
	}

	// A forward stops before its megaflow is deleted or changed, and what
	// it forwarded until then goes with the megaflow's statistics.
	if len(dp.off.fwd) > 0 {
		dp.stopForwardsLocked(func(_ uint32, f *kernelFwd) bool {
			for i := range items {
				if decisions[i] != revalKeep && items[i].id == f.id && items[i].gen == f.gen {
					return true
				}
			}
			return false
		})
	}

	changed := false // a megaflow deleted or given new actions
	dp.mu.Lock()
	for i := range items {
		it := &items[i]
		st := dp.ctl.states[it.id]
		if st == nil || st.mf.gen != it.gen {
			if dp.rel != nil && it.r.Ref != 0 && it.r.Ref != it.oldRef {
				// Revalidate made a Ref for a megaflow gone meanwhile.
				dp.ctl.released = append(dp.ctl.released, releasedFlow{ref: it.r.Ref})
			}
			continue
		}
		switch decisions[i] {
		case revalDelete:
			st.ref = it.r.Ref
			dp.deleteFlowLocked(it.id)
			changed = true
		case revalReplace:
			dp.replaceActionsLocked(it.id, it.r.Actions)
			st.ref = it.r.Ref
			changed = true
		case revalKeep:
			st.ref = it.r.Ref
		}
	}
	dp.publishLocked()
	dp.mu.Unlock()
	dp.releaseDeleted()
	if changed {
		// The round is over when no PMD can use what it deleted or
		// replaced. A round that changed nothing (the common case: a
		// flow-mod that touches no installed megaflow) needs no second
		// rendezvous; the first one already covered everything
		// published before the round.
		dp.syncLocked()
	}
	if dp.off.on || len(dp.off.fwd) > 0 {
		dp.reconcileForwardsLocked()
	}
}

// revalidateOne asks the slow path about one megaflow and decides its fate.
func (dp *Datapath) revalidateOne(it *revalItem) revalDecision {
	oldMask := it.r.Mask
	oldActions := it.old
	err := dp.up.Revalidate(&it.r)
	switch {
	case err != nil, it.r.Delete, it.idle:
		return revalDelete
	}
	it.r.Mask.InPort = ^uint32(0)
	// A megaflow installed with oldMask still only covers packets the new
	// mask would.
	if !it.r.Mask.Within(&oldMask) {
		return revalDelete
	}
	if slices.Equal(it.r.Actions, oldActions) {
		return revalKeep
	}
	return revalReplace
}
