package ofproto

import "time"

// FlowMods applies fms in order as one transaction (an atomic OpenFlow
// bundle): all under one write lock, with one version bump, one
// OnRemoved and one OnChange at the end, so no translation and no
// revalidation ever sees part of it. On the first failure every change
// already made is undone — rules, their counters and stamps, the
// insertion order — nobody hears of the rules it had deleted, and
// FlowMods returns the index of the flow-mod that failed with its error
// (failed is -1 on success).
func (b *Bridge) FlowMods(fms []*FlowMod) (failed int, err error) {
	return b.FlowModsFunc(len(fms), func(i int) *FlowMod { return fms[i] })
}

// FlowModsPacked is FlowMods over packed flow-mods, unpacked one at a
// time into one FlowMod: a bundle's commit never holds more than one of
// them whole.
func (b *Bridge) FlowModsPacked(chunks [][]PackedFlowMod) (failed int, err error) {
	n := 0
	for _, c := range chunks {
		n += len(c)
	}
	var fm FlowMod
	c, j := 0, 0
	return b.flowMods(n, func(int) *FlowMod {
		for j == len(chunks[c]) {
			c, j = c+1, 0
		}
		chunks[c][j].Unpack(&fm)
		j++
		return &fm
	}, true)
}

// FlowModsFunc is FlowMods over the n flow-mods that at returns, called
// once each, in order, under the bridge's lock. The flow-mod at returns
// is only read before the next call.
func (b *Bridge) FlowModsFunc(n int, at func(i int) *FlowMod) (failed int, err error) {
	return b.flowMods(n, at, false)
}

// flowMods is FlowModsFunc; handOver says the flow-mods' action lists
// are the transaction's to keep: the rules it adds take them rather than
// copies.
func (b *Bridge) flowMods(n int, at func(i int) *FlowMod, handOver bool) (failed int, err error) {
	b.mu.Lock()
	u := &undoLog{seq: b.seq, entries: make([]undoEntry, 0, n), handOver: handOver, now: b.Now()}
	b.undo = u
	var removed []Removed
	changed := false
	for i := 0; i < n; i++ {
		fm := at(i)
		err := checkFlowMod(fm, &u.valid)
		var rm []Removed
		var ch bool
		if err == nil {
			rm, ch, err = b.flowModLocked(fm, &fm.Match)
		}
		if err != nil {
			b.undo = nil
			u.rollback(b)
			b.mu.Unlock()
			return i, err
		}
		removed = append(removed, rm...)
		changed = changed || ch
	}
	b.undo = nil
	if !changed {
		b.mu.Unlock()
		return -1, nil
	}
	b.changed(removed)
	return -1, nil
}

// undoOp is what an undo entry reverses.
type undoOp uint8

const (
	undoInsert  undoOp = iota // a new rule went in
	undoReplace               // an add replaced old by r
	undoModify                // r's instructions, cookie, stamps changed
	undoRemove                // r left its table
)

// undoEntry is kept small: a bundle of 100 000 adds logs 100 000 of them.
type undoEntry struct {
	op     undoOp
	r, old *Rule
	// undoModify: r's previous state; undoRemove: the creation stamp of
	// r's subtable, in case removing r emptied it.
	modify *undoModified
	stSeq  uint64
}

// undoModified is a modified rule's previous state; reset says the
// modify zeroed the counters.
type undoModified struct {
	instr    Instructions
	modified time.Time
	cookie   uint64
	reset    bool
	packets  uint64
	bytes    uint64
}

// undoLog records the changes of a FlowMods transaction. A nil log (a
// single FlowMod, which never fails half-way) records nothing.
type undoLog struct {
	seq     uint64 // Bridge.seq before the transaction
	entries []undoEntry
	// handOver: the transaction's flow-mods give added rules their
	// action lists (FlowModsPacked's, which nobody else holds).
	handOver bool
	now      time.Time // the transaction's stamp (Bridge.stamp)
	valid    matchMemo // checkFlowMod's last valid match
}

func (u *undoLog) log(e undoEntry) {
	if u != nil {
		u.entries = append(u.entries, e)
	}
}

func (u *undoLog) logModify(r *Rule, reset bool) {
	if u == nil {
		return
	}
	m := &undoModified{instr: r.Instructions, modified: r.Modified, cookie: r.Cookie, reset: reset}
	if reset {
		m.packets, m.bytes = r.Packets.Load(), r.Bytes.Load()
	}
	u.entries = append(u.entries, undoEntry{op: undoModify, r: r, modify: m})
}

func (u *undoLog) logRemove(b *Bridge, r *Rule) {
	if u == nil {
		return
	}
	var seq uint64
	mask := r.Match.Mask()
	if st := b.tables[r.Table].cls.subtable(&mask); st != nil {
		seq = st.seq
	}
	u.entries = append(u.entries, undoEntry{op: undoRemove, r: r, stSeq: seq})
}

// rollback undoes the entries, last first. The caller holds the write
// lock.
func (u *undoLog) rollback(b *Bridge) {
	for i := len(u.entries) - 1; i >= 0; i-- {
		e := &u.entries[i]
		cls := &b.tables[e.r.Table].cls
		switch e.op {
		case undoInsert:
			cls.remove(e.r)
			e.r.removed.Store(true)
		case undoReplace:
			cls.replace(e.r, e.old)
			e.r.removed.Store(true)
			e.old.removed.Store(false)
		case undoModify:
			m := e.modify
			e.r.Instructions, e.r.Modified, e.r.Cookie = m.instr, m.modified, m.cookie
			if m.reset {
				// Zeroed by the modify; traffic counted since is kept.
				e.r.Packets.Add(m.packets)
				e.r.Bytes.Add(m.bytes)
			}
		case undoRemove:
			cls.reinsert(e.r, e.stSeq)
			e.r.removed.Store(false)
		}
	}
	b.seq = u.seq
	b.learnLeft = nil // nothing the transaction replaced left after all
	u.entries = nil
}
