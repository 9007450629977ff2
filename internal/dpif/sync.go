package dpif

// syncLocked waits until every PMD has passed a quiescent point after the
// call began, then merges the statistics they published. After it, no PMD
// uses a snapshot, poll list or port older than the call. PMDs that are
// not running are served on the caller's goroutine.
// +checklocks:dp.pmdMu
func (dp *Datapath) syncLocked() {
	// Deleted megaflows' ids become reusable after this sync, if their
	// deletion is published before it starts.
	dp.mu.Lock()
	dp.publishLocked()
	freed := len(dp.ctl.pendingFree)
	dp.mu.Unlock()
	reqs := make([]uint64, len(dp.pmds))
	for i, p := range dp.pmds {
		switch {
		case !p.running:
			p.serve(p.req.Add(1))
		case p.state.CompareAndSwap(pmdParked, pmdHeld):
			// Asleep, hence quiescent: answer for it (pmd.go, idle).
			p.serve(p.req.Add(1))
			p.state.Store(pmdParked)
		default:
			reqs[i] = p.request()
		}
	}
	for i, p := range dp.pmds {
		if reqs[i] != 0 {
			p.waitAck(reqs[i])
		}
	}
	dp.mu.Lock()
	for _, p := range dp.pmds {
		dp.mergeLocked(&p.pub)
	}
	c := &dp.ctl
	c.freeIDs = append(c.freeIDs, c.pendingFree[:freed]...)
	c.pendingFree = append(c.pendingFree[:0], c.pendingFree[freed:]...)
	dp.mu.Unlock()
}

// collectLocked gathers statistics of PMDs that just stopped.
// +checklocks:dp.pmdMu
func (dp *Datapath) collectLocked() { dp.syncLocked() }
