package ofproto

import (
	"cmp"
	"iter"
	"slices"
	"time"

	"github.com/govs/govs/internal/flow"
)

// FlowModCommand is ofp_flow_mod_command.
type FlowModCommand uint8

const (
	FlowAdd          FlowModCommand = 0
	FlowModify       FlowModCommand = 1
	FlowModifyStrict FlowModCommand = 2
	FlowDelete       FlowModCommand = 3
	FlowDeleteStrict FlowModCommand = 4
)

// NoBuffer is OFP_NO_BUFFER.
const NoBuffer uint32 = 0xffffffff

// FlowMod is a flow table modification, independent of wire version.
type FlowMod struct {
	Command     FlowModCommand
	Table       uint8 // TableAll: every table (delete only)
	Match       Match
	Priority    uint16
	Cookie      uint64 // add: the new rule's cookie; modify/delete: filter value
	CookieMask  uint64 // modify/delete: which cookie bits must equal Cookie; 0: any
	IdleTimeout uint16
	HardTimeout uint16
	Flags       uint16
	OutPort     uint32 // delete: only rules outputting here; PortAny: any
	OutGroup    uint32 // delete: only rules using this group; GroupAny: any
	Instructions
	BufferID uint32 // the codec applies it (govs does not buffer)

	// ModifyAdds gives OpenFlow 1.0/Nicira semantics: a modify that
	// matches nothing adds the rule, and modify sets the cookie to
	// NewCookie when SetCookie is set.
	ModifyAdds bool
	SetCookie  bool
	NewCookie  uint64

	// packed, when not nil, is Match packed: an unpacked flow-mod's
	// rule takes it rather than packing Match again. Only Unpack sets
	// it, and nothing changes the Match of a flow-mod it unpacked.
	packed *MiniMatch
}

// NewFlowMod returns a FlowMod with the "none" filters set: out_port and
// out_group any, no goto-table, no buffer.
func NewFlowMod(cmd FlowModCommand) *FlowMod {
	return &FlowMod{
		Command:      cmd,
		OutPort:      PortAny,
		OutGroup:     GroupAny,
		BufferID:     NoBuffer,
		Instructions: Instructions{GotoTable: -1},
	}
}

// FlowMod applies fm (OF1.3 §6.4).
func (b *Bridge) FlowMod(fm *FlowMod) error {
	if err := checkFlowMod(fm, nil); err != nil {
		return err
	}
	b.mu.Lock()
	removed, changed, err := b.flowModLocked(fm, &fm.Match)
	if err != nil || !changed {
		b.mu.Unlock()
		return err
	}
	b.changed(removed)
	return nil
}

// checkFlowMod validates what fm says on its own, without the tables;
// valid (nil: none) is its transaction's memo of the last valid match.
func checkFlowMod(fm *FlowMod, valid *matchMemo) error {
	switch fm.Command {
	case FlowAdd, FlowModify, FlowModifyStrict, FlowDelete, FlowDeleteStrict:
	default:
		return ofErr(ErrFlowModFailed, FlowModBadCommand, "flow-mod command %d", fm.Command)
	}
	if fm.Table == TableAll {
		if fm.Command != FlowDelete && fm.Command != FlowDeleteStrict {
			return ofErr(ErrFlowModFailed, FlowModBadTableID, "table all in add/modify")
		}
	} else if int(fm.Table) >= MaxTables {
		return ofErr(ErrFlowModFailed, FlowModBadTableID, "table %d", fm.Table)
	}
	return valid.validate(&fm.Match)
}

// flowModLocked applies a checked fm: the rules it removed, whether it
// changed anything, and an error (in which case it changed nothing).
func (b *Bridge) flowModLocked(fm *FlowMod, m *Match) (removed []Removed, changed bool, err error) {
	switch fm.Command {
	case FlowAdd:
		return nil, true, b.addLocked(fm, m)
	case FlowModify, FlowModifyStrict:
		changed, err = b.modifyLocked(fm, m)
		return nil, changed, err
	default:
		removed = b.deleteLocked(fm, m)
		return removed, len(removed) > 0, nil
	}
}

func (b *Bridge) addLocked(fm *FlowMod, m *Match) error {
	if err := b.validateInstructionsLocked(fm.Table, &fm.Instructions, m); err != nil {
		return err
	}
	t := b.tables[fm.Table]
	if fm.Flags&FlagCheckOverlap != 0 && b.overlapsLocked(t, m, fm.Priority) {
		return ofErr(ErrFlowModFailed, FlowModOverlap, "overlapping rule at priority %d", fm.Priority)
	}
	old := t.cls.find(m, fm.Priority)
	if old == nil && t.cls.n >= t.MaxEntries {
		return ofErr(ErrFlowModFailed, FlowModTableFull, "table %d holds %d rules", t.ID, t.cls.n)
	}
	now := b.stamp()
	b.seq++
	instr := fm.Instructions
	if b.undo == nil || !b.undo.handOver {
		instr = cloneInstructions(&fm.Instructions)
	}
	var mini MiniMatch
	if fm.packed != nil && m == &fm.Match {
		mini = *fm.packed
	} else {
		mini = m.Mini()
	}
	r := &Rule{
		Table:        fm.Table,
		Priority:     fm.Priority,
		Match:        mini,
		Cookie:       fm.Cookie,
		IdleTimeout:  fm.IdleTimeout,
		HardTimeout:  fm.HardTimeout,
		Flags:        fm.Flags,
		Instructions: instr,
		Created:      now,
		Modified:     now,
		seq:          b.seq,
	}
	if old == nil {
		t.cls.insertMasked(r, &m.Mask, 0)
		b.undo.log(undoEntry{op: undoInsert, r: r})
		return nil
	}
	if fm.Flags&FlagResetCounts == 0 {
		r.Packets.Store(old.Packets.Load())
		r.Bytes.Store(old.Bytes.Load())
		r.Used.Store(old.Used.Load())
	}
	b.noteLeavingLocked(&old.Instructions)
	t.cls.replace(old, r)
	old.removed.Store(true)
	b.undo.log(undoEntry{op: undoReplace, r: r, old: old})
	return nil
}

// stamp is the time for the Created/Modified stamps of a change: a
// transaction's flow-mods share the one it began with, as they take
// effect together (and a 100 000-flow bundle then reads the clock once).
func (b *Bridge) stamp() time.Time {
	if b.undo != nil {
		return b.undo.now
	}
	return b.Now()
}

// overlapsLocked reports whether some rule of priority prio in t matches a
// packet that m matches too: on the bits both masks care about, the keys
// agree.
func (b *Bridge) overlapsLocked(t *Table, m *Match, prio uint16) bool {
	found := false
	t.cls.each(func(r *Rule) bool {
		if r.Priority == prio && r.Match.overlaps(m) {
			found = true
			return false
		}
		return true
	})
	return found
}

// selectRules returns the rules a modify/delete/stats request names.
func (b *Bridge) selectRules(table uint8, m *Match, strict bool, prio uint16,
	cookie, cookieMask uint64, outPort, outGroup uint32) []*Rule {
	var out []*Rule
	// A filter that selects everything (dump-flows, del-flows) skips the
	// per-rule tests.
	all := !strict && selectsAll(m, cookieMask, outPort, outGroup)
	for _, t := range b.tables {
		if table != TableAll && t.ID != table {
			continue
		}
		if strict {
			if r := t.cls.find(m, prio); r != nil && ruleFiltered(r, cookie, cookieMask, outPort, outGroup) {
				out = append(out, r)
			}
			continue
		}
		if all {
			out = slices.Grow(out, t.cls.n)
			t.cls.each(func(r *Rule) bool { out = append(out, r); return true })
			continue
		}
		t.cls.each(func(r *Rule) bool {
			if r.Match.within(m) && ruleFiltered(r, cookie, cookieMask, outPort, outGroup) {
				out = append(out, r)
			}
			return true
		})
	}
	return out
}

// selectsAll reports whether a non-strict filter selects every rule.
func selectsAll(m *Match, cookieMask uint64, outPort, outGroup uint32) bool {
	return m.Mask.IsZero() && cookieMask == 0 && outPort == PortAny && outGroup == GroupAny
}

// clearTablesLocked removes every OpenFlow rule of table (TableAll: of
// every table) by dropping whole classifiers, rather than rule by rule.
func (b *Bridge) clearTablesLocked(table uint8) []Removed {
	var out []Removed
	for _, t := range b.tables {
		if (table != TableAll && t.ID != table) || t.cls.n == 0 {
			continue
		}
		out = slices.Grow(out, t.cls.n)
		t.cls.each(func(r *Rule) bool {
			r.removed.Store(true)
			// Unchained, so that a removed rule something still holds
			// (an xlate cache, a FLOW_REMOVED) does not keep the whole
			// old table alive through its neighbours.
			r.next, r.older, r.newer = nil, nil, nil
			out = append(out, Removed{r, RemovedDelete})
			return true
		})
		t.cls = newClassifier()
	}
	return out
}

func ruleFiltered(r *Rule, cookie, cookieMask uint64, outPort, outGroup uint32) bool {
	return (r.Cookie^cookie)&cookieMask == 0 && r.UsesPort(outPort) && r.UsesGroup(outGroup)
}

func (b *Bridge) modifyLocked(fm *FlowMod, m *Match) (bool, error) {
	strict := fm.Command == FlowModifyStrict
	rules := b.selectRules(fm.Table, m, strict, fm.Priority, fm.Cookie, fm.CookieMask, PortAny, GroupAny)
	if len(rules) == 0 {
		if !fm.ModifyAdds {
			return false, nil
		}
		add := *fm
		if fm.SetCookie {
			add.Cookie = fm.NewCookie
		}
		return true, b.addLocked(&add, m)
	}
	for _, r := range rules {
		rm := r.Match.Expand()
		if err := b.validateInstructionsLocked(r.Table, &fm.Instructions, &rm); err != nil {
			return false, err
		}
	}
	now := b.stamp()
	for _, r := range rules {
		b.undo.logModify(r, fm.Flags&FlagResetCounts != 0)
		b.noteLeavingLocked(&r.Instructions)
		r.Instructions = cloneInstructions(&fm.Instructions)
		r.Modified = now
		if fm.SetCookie {
			r.Cookie = fm.NewCookie
		}
		if fm.Flags&FlagResetCounts != 0 {
			r.Packets.Store(0)
			r.Bytes.Store(0)
		}
	}
	return true, nil
}

func (b *Bridge) deleteLocked(fm *FlowMod, m *Match) []Removed {
	if b.undo == nil && fm.Command == FlowDelete && selectsAll(m, fm.CookieMask, fm.OutPort, fm.OutGroup) {
		return b.clearTablesLocked(fm.Table)
	}
	rules := b.selectRules(fm.Table, m, fm.Command == FlowDeleteStrict, fm.Priority,
		fm.Cookie, fm.CookieMask, fm.OutPort, fm.OutGroup)
	return b.removeRulesLocked(rules, RemovedDelete)
}

func (b *Bridge) removeRulesLocked(rules []*Rule, why RemovedReason) []Removed {
	if len(rules) == 0 {
		return nil
	}
	out := make([]Removed, len(rules))
	for i, r := range rules {
		b.undo.logRemove(b, r)
		b.removeRuleLocked(r)
		out[i] = Removed{r, why}
	}
	return out
}

func cloneInstructions(in *Instructions) Instructions {
	out := *in
	if in.Apply != nil {
		out.Apply = append([]Action{}, in.Apply...)
	}
	if in.Write != nil {
		out.Write = append([]Action{}, in.Write...)
	}
	return out
}

// FlowFilter selects rules for flow and aggregate statistics.
type FlowFilter struct {
	Table      uint8 // TableAll: every table
	Match      Match
	Strict     bool
	Priority   uint16 // with Strict
	Cookie     uint64
	CookieMask uint64
	OutPort    uint32 // PortAny: any
	OutGroup   uint32 // GroupAny: any
}

// AllFlows is a filter that selects every rule.
func AllFlows() FlowFilter {
	return FlowFilter{Table: TableAll, OutPort: PortAny, OutGroup: GroupAny}
}

// Flows returns views of the rules filter selects, by table then
// descending priority. It takes the read lock.
func (b *Bridge) Flows(filter FlowFilter) []FlowView {
	b.mu.RLock()
	defer b.mu.RUnlock()
	rules := b.selectLocked(&filter)
	views := make([]FlowView, len(rules))
	for i, r := range rules {
		views[i] = ViewOf(r)
	}
	return views
}

// FlowChunks is Flows for a dump of many rules: it selects them once,
// then yields their views n at a time, each chunk taken under the read
// lock into one reused buffer, valid until the next. A dump of 100 000
// rules so copies 640 kB of views rather than 16 MB, and never holds
// the lock while it writes to a client. A rule modified or removed
// between chunks is shown as it is when its chunk is taken.
func (b *Bridge) FlowChunks(filter FlowFilter, n int) iter.Seq[[]FlowView] {
	return func(yield func([]FlowView) bool) {
		b.mu.RLock()
		rules := b.selectLocked(&filter)
		b.mu.RUnlock()
		buf := make([]FlowView, 0, min(n, len(rules)))
		for len(rules) > 0 {
			chunk := rules[:min(n, len(rules))]
			rules = rules[len(chunk):]
			buf = buf[:0]
			b.mu.RLock()
			for _, r := range chunk {
				buf = append(buf, ViewOf(r))
			}
			b.mu.RUnlock()
			if !yield(buf) {
				return
			}
		}
	}
}

// selectLocked is the sorted selection of Flows and FlowChunks.
func (b *Bridge) selectLocked(filter *FlowFilter) []*Rule {
	rules := b.selectRules(filter.Table, &filter.Match, filter.Strict, filter.Priority,
		filter.Cookie, filter.CookieMask, filter.OutPort, filter.OutGroup)
	sortRules(rules)
	return rules
}

// Aggregate sums the statistics of the rules filter selects.
func (b *Bridge) Aggregate(filter FlowFilter) (packets, bytes uint64, flows uint32) {
	for _, r := range b.Flows(filter) {
		packets += r.Packets.Load()
		bytes += r.Bytes.Load()
		flows++
	}
	return
}

// sortRules orders rules by table, then descending priority, then
// insertion. The rules come out of hash maps in no order, and a dump of
// 100 000 of them sorted through their pointers spent most of its time
// waiting for the rules' cache lines: the keys are copied out first and
// sorted as values.
func sortRules(rules []*Rule) {
	if len(rules) < 2 || rulesSorted(rules) {
		return
	}
	// One 64-bit key per rule: table, priority descending, then the
	// insertion number in the low 40 bits (a bridge would need a
	// trillion flow-mods to outgrow them; then the number is compared
	// apart).
	type sortKey struct {
		k   uint64
		seq uint64
		r   *Rule
	}
	const seqBits = 40
	keys := make([]sortKey, len(rules))
	wide := false
	for i, r := range rules {
		order := uint64(r.Table)<<16 | uint64(0xffff-r.Priority)
		keys[i] = sortKey{order<<seqBits | r.seq&(1<<seqBits-1), r.seq, r}
		wide = wide || r.seq >= 1<<seqBits
	}
	if wide {
		slices.SortFunc(keys, func(a, b sortKey) int {
			if c := cmp.Compare(a.k>>seqBits, b.k>>seqBits); c != 0 {
				return c
			}
			return cmp.Compare(a.seq, b.seq)
		})
	} else {
		keys = sortByKey(keys, func(x *sortKey) uint64 { return x.k })
	}
	for i := range keys {
		rules[i] = keys[i].r
	}
}

// rulesSorted reports whether rules are in sortRules' order already, as
// a dump of tables of one priority each finds them (classifiers list their
// rules in insertion order): checking is one pass where sorting is several.
func rulesSorted(rules []*Rule) bool {
	for i := 1; i < len(rules); i++ {
		a, b := rules[i-1], rules[i]
		if a.Table != b.Table {
			if a.Table > b.Table {
				return false
			}
			continue
		}
		if a.Priority != b.Priority {
			if a.Priority < b.Priority {
				return false
			}
			continue
		}
		if a.seq > b.seq {
			return false
		}
	}
	return true
}

// sortByKey sorts xs by key and returns the sorted slice (xs or a copy).
// Many are radix sorted, a byte per pass from the lowest, skipping the
// bytes every key shares (a dump's table and priority mostly do): for
// 100 000 rules that is several times quicker than comparison sorting
// through a function.
func sortByKey[T any](xs []T, key func(*T) uint64) []T {
	if len(xs) < 256 {
		slices.SortFunc(xs, func(a, b T) int { return cmp.Compare(key(&a), key(&b)) })
		return xs
	}
	var diff uint64
	first := key(&xs[0])
	for i := range xs {
		diff |= key(&xs[i]) ^ first
	}
	tmp := make([]T, len(xs))
	var count [256]int
	for shift := uint(0); shift < 64; shift += 8 {
		if diff>>shift&0xff == 0 {
			continue
		}
		clear(count[:])
		for i := range xs {
			count[key(&xs[i])>>shift&0xff]++
		}
		pos := 0
		for d, c := range count {
			count[d] = pos
			pos += c
		}
		for i := range xs {
			d := key(&xs[i]) >> shift & 0xff
			tmp[count[d]] = xs[i]
			count[d]++
		}
		xs, tmp = tmp, xs
	}
	return xs
}

// MatchAll is the match that matches every packet.
func MatchAll() Match { return Match{} }

// NewMatch returns the match of key k under mask m (k is masked).
func NewMatch(k *flow.Key, m *flow.Mask) Match {
	var out Match
	out.Mask = *m
	out.Key.MaskFrom(k, m)
	return out
}
