package ofproto

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/govs/govs/internal/flow"
)

// flowTablesDump renders everything a rolled-back FlowMods must restore:
// each table's subtables in probe order (mask, creation stamp, priority
// counts) and their rules (identity, fields, counters, removed flag,
// insertion stamp), plus the bridge's version and insertion counter.
func flowTablesDump(b *Bridge) string {
	b.RLock()
	defer b.RUnlock()
	var sb strings.Builder
	fmt.Fprintf(&sb, "version %d seq %d\n", b.Version(), b.seq)
	for _, t := range b.tables {
		if t.cls.n == 0 {
			continue
		}
		fmt.Fprintf(&sb, "table %d n %d\n", t.ID, t.cls.n)
		for _, st := range t.cls.subtables {
			fmt.Fprintf(&sb, " subtable %x seq %d max %d n %d prios %v %v\n",
				st.mask.Words(), st.seq, st.maxPrio, st.n, st.prios, st.counts)
			var rules []*Rule
			for _, head := range st.rules {
				for r := head; r != nil; r = r.next {
					rules = append(rules, r)
				}
			}
			slices.SortFunc(rules, func(a, b *Rule) int { return int(a.seq) - int(b.seq) })
			for _, r := range rules {
				fmt.Fprintf(&sb, "  %p prio %d cookie %#x flags %#x instr %+v mod %v pkts %d bytes %d used %d removed %v seq %d\n",
					r, r.Priority, r.Cookie, r.Flags, r.Instructions, r.Modified.UnixNano(),
					r.Packets.Load(), r.Bytes.Load(), r.Used.Load(), r.IsRemoved(), r.seq)
			}
		}
	}
	return sb.String()
}

func fmNew(t *testing.T, cmd FlowModCommand, table uint8, prio uint16, match string, set func(*FlowMod)) *FlowMod {
	t.Helper()
	fm := NewFlowMod(cmd)
	fm.Table, fm.Priority, fm.Match = table, prio, fmMatch(t, match)
	if set != nil {
		set(fm)
	}
	return fm
}

func TestFlowModsRollback(t *testing.T) {
	overlapping := func(fm *FlowMod) { fm.Flags = FlagCheckOverlap }
	resetTo9 := func(fm *FlowMod) { fm.Flags, fm.Apply = FlagResetCounts, fmOutput(9) }
	cookie7 := func(fm *FlowMod) { fm.Cookie, fm.Apply = 7, fmOutput(7) }
	badGroup := func(fm *FlowMod) { fm.Write = []Action{{Type: ActGroup, Group: 9}} }
	all := func(fm *FlowMod) { fm.Table = TableAll }
	for _, c := range []struct {
		name      string
		mods      func(t *testing.T) []*FlowMod
		failed    int
		typ, code uint16
	}{
		{"first fails", func(t *testing.T) []*FlowMod {
			return []*FlowMod{fmNew(t, FlowAdd, 0, 1, "in_port=1", badGroup)}
		}, 0, ErrBadAction, BadActionBadOutGroup},
		{"add then overlap", func(t *testing.T) []*FlowMod {
			return []*FlowMod{
				fmNew(t, FlowAdd, 0, 40, "in_port=7", nil),
				fmNew(t, FlowAdd, 0, 40, "in_port=7,ip", overlapping),
			}
		}, 1, ErrFlowModFailed, FlowModOverlap},
		{"delete all, re-add, overlap", func(t *testing.T) []*FlowMod {
			return []*FlowMod{
				fmNew(t, FlowDelete, 0, 0, "", all),
				fmNew(t, FlowAdd, 0, 10, "in_port=1", cookie7),
				fmNew(t, FlowAdd, 0, 10, "ip", nil),
				fmNew(t, FlowAdd, 0, 10, "ip,nw_src=10.0.0.9", overlapping),
			}
		}, 3, ErrFlowModFailed, FlowModOverlap},
		{"delete strict, modify with reset, replace, bad match", func(t *testing.T) []*FlowMod {
			return []*FlowMod{
				fmNew(t, FlowDeleteStrict, 0, 20, "ip,nw_src=10.0.0.1", nil),
				fmNew(t, FlowAdd, 0, 30, "ip,nw_src=10.0.0.2", nil),
				fmNew(t, FlowModify, 0, 0, "in_port=1", resetTo9),
				fmNew(t, FlowAdd, 1, 5, "in_port=2", cookie7),
				fmNew(t, FlowModifyStrict, 0, 10, "in_port=1", func(fm *FlowMod) {
					fm.SetCookie, fm.NewCookie = true, 0x55
				}),
				{Command: FlowAdd, Match: Match{Key: flow.Key{NwSrc: 1}, Mask: flow.Mask{NwSrc: 0xffffffff}}},
			}
		}, 5, ErrBadMatch, BadMatchBadPrereq},
		{"delete then re-add same rules, bad table", func(t *testing.T) []*FlowMod {
			return []*FlowMod{
				fmNew(t, FlowDelete, 0, 0, "in_port=1", nil),
				fmNew(t, FlowAdd, 0, 10, "in_port=1", nil),
				fmNew(t, FlowDelete, 1, 0, "", nil),
				fmNew(t, FlowAdd, 1, 5, "in_port=2", nil),
				fmNew(t, FlowAdd, 0, 1, "", func(fm *FlowMod) { fm.Table = 254 }),
			}
		}, 4, ErrFlowModFailed, FlowModBadTableID},
		{"modify adds (OF1.0), then unknown group", func(t *testing.T) []*FlowMod {
			return []*FlowMod{
				fmNew(t, FlowModify, 0, 3, "udp", func(fm *FlowMod) { fm.ModifyAdds = true }),
				fmNew(t, FlowAdd, 0, 3, "arp", badGroup),
			}
		}, 1, ErrBadAction, BadActionBadOutGroup},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := NewBridge("br0")
			fmAdd(t, b, 0, 10, "in_port=1", 0x1, fmOutput(2))
			fmAdd(t, b, 0, 20, "ip,nw_src=10.0.0.1", 0x2, fmOutput(3))
			fmAdd(t, b, 0, 10, "ip", 0x3, fmOutput(4))
			fmAdd(t, b, 1, 5, "in_port=2", 0x4, fmOutput(1))
			for _, r := range b.Flows(AllFlows()) {
				r.AddStats(uint64(r.Cookie), 100*r.Cookie, int64(r.Cookie))
				r.Flags |= FlagSendFlowRem
			}
			before := flowTablesDump(b)
			changes, removed := 0, 0
			b.OnChange = func() { changes++ }
			b.OnRemoved = func(rm []Removed) { removed += len(rm) }

			failed, err := b.FlowMods(c.mods(t))
			fmWantErr(t, err, c.typ, c.code)
			if failed != c.failed {
				t.Errorf("failed index %d, want %d", failed, c.failed)
			}
			if after := flowTablesDump(b); after != before {
				t.Errorf("bridge changed by a failed transaction:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			if changes != 0 || removed != 0 {
				t.Errorf("OnChange called %d times, OnRemoved told of %d rules", changes, removed)
			}
		})
	}
}

func TestFlowModsCommitOnce(t *testing.T) {
	b := NewBridge("br0")
	fmAdd(t, b, 0, 10, "in_port=1", 0x1, fmOutput(2))
	fmAdd(t, b, 0, 10, "in_port=2", 0x2, fmOutput(2))
	for _, r := range b.Flows(AllFlows()) {
		r.Flags |= FlagSendFlowRem
	}
	v := b.Version()
	changes := 0
	var removed []Removed
	b.OnChange = func() { changes++ }
	b.OnRemoved = func(rm []Removed) { removed = append(removed, rm...) }
	failed, err := b.FlowMods([]*FlowMod{
		fmNew(t, FlowDeleteStrict, 0, 10, "in_port=1", nil),
		fmNew(t, FlowDelete, 0, 0, "in_port=2", nil),
		fmNew(t, FlowAdd, 0, 10, "in_port=3", nil),
		fmNew(t, FlowAdd, 0, 10, "in_port=4", nil),
	})
	if err != nil || failed != -1 {
		t.Fatalf("FlowMods = %d, %v", failed, err)
	}
	if changes != 1 || len(removed) != 2 || b.Version() != v+1 {
		t.Fatalf("OnChange %d times, %d removed, version %d (was %d)", changes, len(removed), b.Version(), v)
	}
	if n := len(b.Flows(AllFlows())); n != 2 {
		t.Fatalf("%d rules, want 2", n)
	}
	// A transaction that changes nothing signals nothing.
	if _, err := b.FlowMods([]*FlowMod{fmNew(t, FlowDelete, 0, 0, "in_port=9", nil)}); err != nil || changes != 1 {
		t.Fatalf("no-op transaction: %v, OnChange %d times", err, changes)
	}
}

// TestFlowModsNeverSeenHalfApplied replaces n rules' actions in one
// transaction while readers look packets up the way translations do
// (under the read lock): every packet must see all old or all new rules.
// One FlowMod per rule fails this.
func TestFlowModsNeverSeenHalfApplied(t *testing.T) {
	const n = 200
	b := NewBridge("br0")
	mods := func(port uint32) []*FlowMod {
		var out []*FlowMod
		for i := range n {
			fm := NewFlowMod(FlowAdd)
			fm.Priority, fm.Match = 10, fmMatch(t, fmt.Sprintf("in_port=%d", i+1))
			fm.Apply = fmOutput(port)
			out = append(out, fm)
		}
		return out
	}
	if _, err := b.FlowMods(mods(1000)); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var mixed atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for !stop.Load() {
				b.RLock()
				first := b.Table(0).Lookup(&flow.Key{InPort: 1}, nil)
				last := b.Table(0).Lookup(&flow.Key{InPort: n}, nil)
				if first.Instructions.Apply[0].Port != last.Instructions.Apply[0].Port {
					mixed.Add(1)
				}
				b.RUnlock()
			}
		})
	}
	for round := range 50 {
		if _, err := b.FlowMods(mods(uint32(1001 + round))); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if mixed.Load() != 0 {
		t.Fatalf("%d lookups saw a half-applied transaction", mixed.Load())
	}
}

// BenchmarkValidateMatch validates the match of bench/flows.sh's flows
// (ip,nw_src=x), once per flow-mod.
func BenchmarkValidateMatch(b *testing.B) {
	m := Match{Key: flow.Key{EthType: 0x0800, NwSrc: 0x0a000001}, Mask: flow.Mask{EthType: 0xffff, NwSrc: 0xffffffff}}
	b.ReportAllocs()
	for b.Loop() {
		if err := ValidateMatch(&m); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTimedRulesTracked checks the set expiry walks: only rules with a
// timeout, through add, replace, delete and a rolled-back bundle.
func TestTimedRulesTracked(t *testing.T) {
	br := NewBridge("br0")
	add := func(src uint32, hard uint16) *FlowMod {
		fm := NewFlowMod(FlowAdd)
		fm.Priority = 100
		fm.HardTimeout = hard
		fm.Match = Match{Key: flow.Key{EthType: 0x0800, NwSrc: src}, Mask: flow.Mask{EthType: 0xffff, NwSrc: 0xffffffff}}
		fm.Apply = []Action{{Type: ActOutput, Port: 2}}
		return fm
	}
	timed := func() int { return len(br.tables[0].cls.timed) }
	for i := range 100 {
		if err := br.FlowMod(add(uint32(i), 0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := br.FlowMod(add(1000, 5)); err != nil {
		t.Fatal(err)
	}
	if n := timed(); n != 1 {
		t.Fatalf("%d timed rules, want 1", n)
	}
	if err := br.FlowMod(add(1000, 0)); err != nil { // replaces it
		t.Fatal(err)
	}
	if err := br.FlowMod(add(7, 3)); err != nil { // gives one a timeout
		t.Fatal(err)
	}
	if n := timed(); n != 1 {
		t.Fatalf("after replacing: %d timed rules, want 1", n)
	}
	// A bundle that adds a timed rule, then fails: undone.
	bad := NewFlowMod(FlowAdd)
	bad.Table = MaxTables // no such table
	if _, err := br.FlowMods([]*FlowMod{add(2000, 9), bad}); err == nil {
		t.Fatal("bad bundle applied")
	}
	if n := timed(); n != 1 {
		t.Fatalf("after a rollback: %d timed rules, want 1", n)
	}
	del := NewFlowMod(FlowDelete)
	del.Table = TableAll
	if err := br.FlowMod(del); err != nil {
		t.Fatal(err)
	}
	if n := timed(); n != 0 {
		t.Fatalf("after delete-all: %d timed rules", n)
	}
	if !br.NextTimeout().IsZero() {
		t.Fatal("NextTimeout with no rules")
	}
}
