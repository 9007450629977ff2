package ofproto

import (
	"cmp"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/govs/govs/internal/flow"
)

func fmMatch(t *testing.T, s string) Match {
	t.Helper()
	k, m, err := flow.ParseMatch(s)
	if err != nil {
		t.Fatal(err)
	}
	return Match{Key: k, Mask: m}
}

func fmOutput(port uint32) []Action { return []Action{{Type: ActOutput, Port: port}} }

func fmAdd(t *testing.T, b *Bridge, table uint8, prio uint16, match string, cookie uint64, acts []Action) {
	t.Helper()
	fm := NewFlowMod(FlowAdd)
	fm.Table, fm.Priority, fm.Match, fm.Cookie, fm.Apply = table, prio, fmMatch(t, match), cookie, acts
	if err := b.FlowMod(fm); err != nil {
		t.Fatalf("add %s: %v", match, err)
	}
}

func fmLookup(b *Bridge, table uint8, k flow.Key) *Rule {
	b.RLock()
	defer b.RUnlock()
	return b.Table(table).Lookup(&k, nil)
}

func fmWantErr(t *testing.T, err error, typ, code uint16) {
	t.Helper()
	if !errors.Is(err, &OFError{Type: typ, Code: code}) {
		t.Fatalf("error = %v, want type %d code %d", err, typ, code)
	}
}

func TestFlowModAddAndReplace(t *testing.T) {
	b := NewBridge("br0")
	changes := 0
	b.OnChange = func() { changes++ }
	fmAdd(t, b, 0, 10, "in_port=1", 0x1, fmOutput(2))
	r := fmLookup(b, 0, flow.Key{InPort: 1})
	if r == nil || r.Cookie != 1 || b.Version() != 1 || changes != 1 {
		t.Fatalf("rule %v version %d changes %d", r, b.Version(), changes)
	}
	r.AddStats(3, 300, 5)

	// Same match and priority replaces, keeping counters.
	fmAdd(t, b, 0, 10, "in_port=1", 0x2, fmOutput(3))
	r2 := fmLookup(b, 0, flow.Key{InPort: 1})
	if r2 == r || !r.IsRemoved() || r2.Cookie != 2 || r2.Packets.Load() != 3 || r2.Instructions.Apply[0].Port != 3 {
		t.Fatalf("replace: %+v", r2)
	}
	if b.Table(0).Len() != 1 {
		t.Fatalf("Len = %d", b.Table(0).Len())
	}

	// With RESET_COUNTS the counters start over.
	fm := NewFlowMod(FlowAdd)
	fm.Priority, fm.Match, fm.Flags = 10, fmMatch(t, "in_port=1"), FlagResetCounts
	if err := b.FlowMod(fm); err != nil {
		t.Fatal(err)
	}
	if r3 := fmLookup(b, 0, flow.Key{InPort: 1}); r3.Packets.Load() != 0 {
		t.Fatal("RESET_COUNTS kept counters")
	}
}

func TestFlowModCheckOverlap(t *testing.T) {
	b := NewBridge("br0")
	fmAdd(t, b, 0, 10, "ip,nw_src=10.0.0.0/8", 0, nil)
	fm := NewFlowMod(FlowAdd)
	fm.Priority, fm.Flags = 10, FlagCheckOverlap
	fm.Match = fmMatch(t, "in_port=1")
	fmWantErr(t, b.FlowMod(fm), ErrFlowModFailed, FlowModOverlap)
	fm.Match = fmMatch(t, "ip,nw_src=11.0.0.0/8") // disjoint
	if err := b.FlowMod(fm); err != nil {
		t.Fatal(err)
	}
	fm.Priority, fm.Match = 11, fmMatch(t, "in_port=1") // other priority
	if err := b.FlowMod(fm); err != nil {
		t.Fatal(err)
	}
}

func TestFlowModModify(t *testing.T) {
	for _, c := range []struct {
		name    string
		cmd     FlowModCommand
		match   string
		prio    uint16
		cookie  uint64
		mask    uint64
		adds    bool
		changed []string // rules (by match) whose output becomes 9
		added   bool
	}{
		{"loose selects more specific", FlowModify, "ip", 0, 0, 0, false, []string{"ip,nw_src=10.0.0.1", "tcp"}, false},
		{"loose with cookie filter", FlowModify, "ip", 0, 0x20, 0xf0, false, []string{"tcp"}, false},
		{"strict needs priority", FlowModifyStrict, "tcp", 5, 0, 0, false, nil, false},
		{"strict exact", FlowModifyStrict, "tcp", 20, 0, 0, false, []string{"tcp"}, false},
		{"no match no add in OF1.3", FlowModify, "udp", 7, 0, 0, false, nil, false},
		{"no match adds in OF1.0", FlowModify, "udp", 7, 0, 0, true, nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := NewBridge("br0")
			fmAdd(t, b, 0, 10, "ip,nw_src=10.0.0.1", 0x10, fmOutput(1))
			fmAdd(t, b, 0, 20, "tcp", 0x20, fmOutput(2))
			fmAdd(t, b, 0, 30, "arp", 0x30, fmOutput(3))
			fm := NewFlowMod(c.cmd)
			fm.Match, fm.Priority, fm.Cookie, fm.CookieMask, fm.ModifyAdds = fmMatch(t, c.match), c.prio, c.cookie, c.mask, c.adds
			fm.Apply = fmOutput(9)
			if err := b.FlowMod(fm); err != nil {
				t.Fatal(err)
			}
			changed := map[string]bool{}
			for _, s := range c.changed {
				changed[s] = true
			}
			for _, s := range []string{"ip,nw_src=10.0.0.1", "tcp", "arp"} {
				m := fmMatch(t, s)
				var r FlowView
				for _, x := range b.Flows(AllFlows()) {
					if x.Match.Equal(&m) {
						r = x
					}
				}
				if got := r.Instructions.Apply[0].Port == 9; got != changed[s] {
					t.Errorf("%s: modified = %v, want %v", s, got, changed[s])
				}
			}
			n := len(b.Flows(AllFlows()))
			if (n == 4) != c.added {
				t.Errorf("%d rules; added = %v", n, c.added)
			}
		})
	}
}

func TestFlowModDelete(t *testing.T) {
	for _, c := range []struct {
		name  string
		fm    func(fm *FlowMod)
		left  int
		table uint8
	}{
		{"delete all tables", func(fm *FlowMod) { fm.Table = TableAll }, 0, 0},
		{"delete one table", func(fm *FlowMod) { fm.Table = 1 }, 3, 0},
		{"delete by out_port", func(fm *FlowMod) { fm.Table = TableAll; fm.OutPort = 2 }, 3, 0},
		{"delete by out_group", func(fm *FlowMod) { fm.Table = TableAll; fm.OutGroup = 7 }, 3, 0},
		{"delete by cookie", func(fm *FlowMod) { fm.Table = TableAll; fm.Cookie, fm.CookieMask = 0x30, 0xff }, 3, 0},
		{"delete loose ip", func(fm *FlowMod) {
			fm.Table = TableAll
			k, m, _ := flow.ParseMatch("ip")
			fm.Match = Match{k, m}
		}, 2, 0},
		{"delete strict wrong priority", func(fm *FlowMod) {
			fm.Command, fm.Table, fm.Priority = FlowDeleteStrict, 0, 99
			k, m, _ := flow.ParseMatch("tcp")
			fm.Match = Match{k, m}
		}, 4, 0},
		{"delete strict", func(fm *FlowMod) {
			fm.Command, fm.Table, fm.Priority = FlowDeleteStrict, 0, 20
			k, m, _ := flow.ParseMatch("tcp")
			fm.Match = Match{k, m}
		}, 3, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := NewBridge("br0")
			if err := b.GroupMod(&GroupMod{Command: GroupAdd, GroupSpec: GroupSpec{ID: 7, Type: GroupTypeAll}}); err != nil {
				t.Fatal(err)
			}
			var removed []Removed
			b.OnRemoved = func(r []Removed) { removed = append(removed, r...) }
			fmAdd(t, b, 0, 10, "ip,nw_src=10.0.0.1", 0x10, fmOutput(1))
			fmAdd(t, b, 0, 20, "tcp", 0x20, fmOutput(2))
			fmAdd(t, b, 0, 30, "arp", 0x30, []Action{{Type: ActGroup, Group: 7}})
			fmAdd(t, b, 1, 30, "in_port=4", 0x40, fmOutput(3))
			fm := NewFlowMod(FlowDelete)
			c.fm(fm)
			if err := b.FlowMod(fm); err != nil {
				t.Fatal(err)
			}
			if n := len(b.Flows(AllFlows())); n != c.left {
				t.Fatalf("%d rules left, want %d", n, c.left)
			}
			if len(removed) != 4-c.left {
				t.Fatalf("OnRemoved got %d rules", len(removed))
			}
			for _, r := range removed {
				if r.Reason != RemovedDelete || !r.Rule.IsRemoved() {
					t.Fatalf("removed %+v", r)
				}
			}
		})
	}
}

func TestFlowModErrors(t *testing.T) {
	b := NewBridge("br0")
	if err := b.AddPort(&Port{Name: "p1", OFPort: 1}); err != nil {
		t.Fatal(err)
	}
	raw := func(k flow.Key, m flow.Mask) Match { return Match{Key: k, Mask: m} }
	for _, c := range []struct {
		name      string
		fm        func(fm *FlowMod)
		typ, code uint16
	}{
		{"bad command", func(fm *FlowMod) { fm.Command = 9 }, ErrFlowModFailed, FlowModBadCommand},
		{"bad table", func(fm *FlowMod) { fm.Table = 254 }, ErrFlowModFailed, FlowModBadTableID},
		{"add to all tables", func(fm *FlowMod) { fm.Table = TableAll }, ErrFlowModFailed, FlowModBadTableID},
		{"missing prerequisite", func(fm *FlowMod) {
			fm.Match = raw(flow.Key{NwSrc: 1}, flow.Mask{NwSrc: 0xffffffff})
		}, ErrBadMatch, BadMatchBadPrereq},
		{"tcp port on udp", func(fm *FlowMod) {
			fm.Match = raw(flow.Key{EthType: 0x0800, NwProto: 17, TCPFlags: 2}, flow.Mask{EthType: 0xffff, NwProto: 0xff, TCPFlags: 2})
		}, ErrBadMatch, BadMatchBadPrereq},
		{"value outside mask", func(fm *FlowMod) {
			fm.Match = raw(flow.Key{InPort: 3}, flow.Mask{})
		}, ErrBadMatch, BadMatchBadWildcards},
		{"mask on unmaskable", func(fm *FlowMod) {
			fm.Match = raw(flow.Key{EthType: 0x0800}, flow.Mask{EthType: 0xff00})
		}, ErrBadMatch, BadMatchBadMask},
		{"bits no field owns", func(fm *FlowMod) {
			var m flow.Mask
			m.VLANs[1].TCI = 0xffff
			fm.Match = raw(flow.Key{}, m)
		}, ErrBadMatch, BadMatchBadField},
		{"vid without present bit", func(fm *FlowMod) {
			var k flow.Key
			var m flow.Mask
			k.VLANs[0].TCI, m.VLANs[0].TCI = 5, 0x1fff
			fm.Match = raw(k, m)
		}, ErrBadMatch, BadMatchBadValue},
		{"goto backwards", func(fm *FlowMod) { fm.Table = 3; fm.GotoTable = 2 }, ErrBadInstruction, BadInstBadTableID},
		{"goto self", func(fm *FlowMod) { fm.Table = 3; fm.GotoTable = 3 }, ErrBadInstruction, BadInstBadTableID},
		{"output to port 0", func(fm *FlowMod) { fm.Apply = fmOutput(0) }, ErrBadAction, BadActionBadOutPort},
		{"output to TABLE in a flow", func(fm *FlowMod) { fm.Apply = fmOutput(PortTable) }, ErrBadAction, BadActionBadOutPort},
		{"unknown group", func(fm *FlowMod) { fm.Write = []Action{{Type: ActGroup, Group: 9}} }, ErrBadAction, BadActionBadOutGroup},
		{"unknown meter", func(fm *FlowMod) { fm.Meter = 4 }, ErrMeterModFailed, MeterModUnknownMeter},
		{"set_field without prereq", func(fm *FlowMod) {
			fm.Apply = []Action{{Type: ActSetField, Field: flow.FieldIPv4Src, Mask: [16]byte{0xff, 0xff, 0xff, 0xff}}}
		}, ErrBadAction, BadActionMatchInconsistent},
		{"set_field read-only", func(fm *FlowMod) {
			fm.Apply = []Action{{Type: ActSetField, Field: flow.FieldEthType}}
		}, ErrBadAction, BadActionBadSetType},
		{"push_pbb", func(fm *FlowMod) {
			fm.Apply = []Action{{Type: ActPushPBB, Ethertype: flow.EthTypePBB}, fmOutput(2)[0]}
		}, ErrBadAction, BadActionBadType},
		{"pop_pbb in the action set", func(fm *FlowMod) {
			fm.Match = raw(flow.Key{EthType: flow.EthTypePBB}, flow.Mask{EthType: 0xffff})
			fm.Write = []Action{{Type: ActPopPBB}}
		}, ErrBadAction, BadActionBadType},
		{"set_field pbb_isid", func(fm *FlowMod) {
			fm.Match = raw(flow.Key{EthType: flow.EthTypePBB}, flow.Mask{EthType: 0xffff})
			fm.Apply = []Action{setFieldAct(flow.FieldPbbISID, 5)}
		}, ErrBadAction, BadActionBadSetLen},
		{"match pbb_isid", func(fm *FlowMod) {
			fm.Match = raw(flow.Key{EthType: flow.EthTypePBB, PbbISID: 5}, flow.Mask{EthType: 0xffff, PbbISID: 0xffffff})
		}, ErrBadMatch, BadMatchBadField},
		{"push_vlan bad ethertype", func(fm *FlowMod) {
			fm.Apply = []Action{{Type: ActPushVLAN, Ethertype: 0x0800}}
		}, ErrBadAction, BadActionBadArgument},
		{"reg_move out of range", func(fm *FlowMod) {
			fm.Apply = []Action{{Type: ActRegMove, SrcField: flow.FieldReg0, Field: flow.FieldReg1, SrcOfs: 30, NBits: 4}}
		}, ErrBadAction, BadActionBadArgument},
	} {
		t.Run(c.name, func(t *testing.T) {
			fm := NewFlowMod(FlowAdd)
			c.fm(fm)
			fmWantErr(t, b.FlowMod(fm), c.typ, c.code)
		})
	}
	if b.Version() != 1 { // only AddPort changed anything
		t.Fatalf("failed flow-mods bumped the version to %d", b.Version())
	}
}

func TestFlowModSetFieldFollowsActions(t *testing.T) {
	b := NewBridge("br0")
	fm := NewFlowMod(FlowAdd)
	// vlan_pcp needs a tag: push_vlan provides one.
	fm.Apply = []Action{
		{Type: ActPushVLAN, Ethertype: 0x8100},
		{Type: ActSetField, Field: flow.FieldVLANPCP, Value: [16]byte{3}, Mask: [16]byte{7}},
	}
	if err := b.FlowMod(fm); err != nil {
		t.Fatal(err)
	}
	fm.Priority = 1
	fm.Apply = fm.Apply[1:]
	fmWantErr(t, b.FlowMod(fm), ErrBadAction, BadActionMatchInconsistent)
	fm.Match = fmMatch(t, "tcp")
	fm.Apply = []Action{{Type: ActSetField, Field: flow.FieldTCPDst, Value: [16]byte{0, 80}, Mask: [16]byte{0xff, 0xff}}}
	if err := b.FlowMod(fm); err != nil {
		t.Fatal(err)
	}
}

func TestFlowModTableFull(t *testing.T) {
	b := NewBridge("br0")
	if err := b.ConfigureTable(0, "small", 1); err != nil {
		t.Fatal(err)
	}
	fmAdd(t, b, 0, 1, "in_port=1", 0, nil)
	fmAdd(t, b, 0, 1, "in_port=1", 0, fmOutput(2)) // replacing is fine
	fm := NewFlowMod(FlowAdd)
	fm.Match = fmMatch(t, "in_port=2")
	fmWantErr(t, b.FlowMod(fm), ErrFlowModFailed, FlowModTableFull)
	if b.Table(0).Name != "small" {
		t.Fatal("table name not set")
	}
}

func TestExpire(t *testing.T) {
	b := NewBridge("br0")
	t0 := time.Unix(1000, 0)
	b.Now = func() time.Time { return t0 }
	for _, c := range []struct {
		match      string
		idle, hard uint16
	}{{"in_port=1", 10, 0}, {"in_port=2", 0, 5}, {"in_port=3", 0, 0}, {"in_port=4", 10, 0}} {
		fm := NewFlowMod(FlowAdd)
		fm.Match, fm.IdleTimeout, fm.HardTimeout = fmMatch(t, c.match), c.idle, c.hard
		if err := b.FlowMod(fm); err != nil {
			t.Fatal(err)
		}
	}
	fmLookup(b, 0, flow.Key{InPort: 4}).AddStats(1, 64, t0.Add(8*time.Second).UnixNano())
	if next := b.NextTimeout(); !next.Equal(t0.Add(5 * time.Second)) {
		t.Fatalf("NextTimeout = %v", next)
	}
	if rm := b.Expire(t0.Add(4 * time.Second)); len(rm) != 0 {
		t.Fatalf("expired early: %v", rm)
	}
	rm := b.Expire(t0.Add(12 * time.Second))
	if len(rm) != 2 {
		t.Fatalf("expired %d rules, want 2", len(rm))
	}
	reasons := map[uint32]RemovedReason{}
	for _, r := range rm {
		reasons[r.Rule.Match.Key().InPort] = r.Reason
	}
	if reasons[1] != RemovedIdleTimeout || reasons[2] != RemovedHardTimeout {
		t.Fatalf("reasons %v", reasons)
	}
	if rm := b.Expire(t0.Add(19 * time.Second)); len(rm) != 1 || rm[0].Rule.Match.Key().InPort != 4 {
		t.Fatalf("used rule expiry: %v", rm)
	}
}

func TestAggregate(t *testing.T) {
	b := NewBridge("br0")
	fmAdd(t, b, 0, 1, "in_port=1", 0, nil)
	fmAdd(t, b, 2, 1, "in_port=2", 0, nil)
	fmLookup(b, 0, flow.Key{InPort: 1}).AddStats(2, 100, 1)
	fmLookup(b, 2, flow.Key{InPort: 2}).AddStats(3, 50, 1)
	p, by, n := b.Aggregate(AllFlows())
	if p != 5 || by != 150 || n != 2 {
		t.Fatalf("aggregate %d %d %d", p, by, n)
	}
	f := AllFlows()
	f.Table = 2
	if p, _, n := b.Aggregate(f); p != 3 || n != 1 {
		t.Fatalf("table 2 aggregate %d %d", p, n)
	}
}

// TestSortRules: table, then priority descending, then insertion order,
// also once insertion numbers outgrow the packed sort key.
func TestSortRules(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	// 200 rules are comparison sorted, 3000 radix sorted; the second base
	// crosses the 40 bits the packed key keeps of the insertion number.
	for _, c := range []struct{ base, n uint64 }{{1, 200}, {1<<40 - 50, 200}, {1, 3000}, {1<<32 - 1000, 3000}, {1<<40 - 1000, 3000}} {
		base := c.base
		var rules []*Rule
		for i := range c.n {
			rules = append(rules, &Rule{Table: uint8(rng.IntN(3)), Priority: uint16(rng.IntN(4)), seq: base + uint64(i)})
		}
		want := slices.Clone(rules)
		slices.SortStableFunc(want, func(a, b *Rule) int {
			if a.Table != b.Table {
				return cmp.Compare(a.Table, b.Table)
			}
			return cmp.Compare(b.Priority, a.Priority)
		})
		rng.Shuffle(len(rules), func(i, j int) { rules[i], rules[j] = rules[j], rules[i] })
		sortRules(rules)
		if !slices.Equal(rules, want) {
			t.Errorf("%d rules, insertion numbers from %d: wrong order", c.n, base)
		}
		// Sorted input is left alone; one pair out of place anywhere
		// is found (rulesSorted).
		sortRules(rules)
		if !slices.Equal(rules, want) {
			t.Errorf("%d sorted rules from %d: changed", c.n, base)
		}
		for _, i := range []int{0, len(rules) / 2, len(rules) - 2} {
			rules[i], rules[i+1] = rules[i+1], rules[i]
			sortRules(rules)
			if !slices.Equal(rules, want) {
				t.Errorf("%d rules from %d, %d and %d swapped: wrong order", c.n, base, i, i+1)
			}
		}
	}
}

// TestFlowsOrder: dumps give table, priority descending, insertion order
// (a replaced rule counts as new) through adds, replacements, deletes and
// a rolled-back transaction, whether a table's insertion list is in that
// order already (one priority) or not.
func TestFlowsOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, prios := range []int{1, 3} {
		b := NewBridge("br0")
		add := func(table uint8, src uint32, prio uint16) *FlowMod {
			fm := NewFlowMod(FlowAdd)
			fm.Table, fm.Priority = table, prio
			fm.Match = Match{Key: flow.Key{EthType: 0x0800, NwSrc: src}, Mask: flow.Mask{EthType: 0xffff, NwSrc: 0xffffffff}}
			fm.Apply = []Action{{Type: ActOutput, Port: 2}}
			return fm
		}
		for i := range 3000 {
			fm := add(uint8(rng.IntN(2)), uint32(rng.IntN(1000)), uint16(100+rng.IntN(prios)))
			if i%10 == 9 {
				fm.Command = FlowDeleteStrict
			}
			if err := b.FlowMod(fm); err != nil {
				t.Fatal(err)
			}
		}
		// A transaction that replaces rules and then fails is undone,
		// putting the replaced rules back with their old stamps.
		var fms []*FlowMod
		all := AllFlows()
		for _, r := range b.selectLocked(&all)[:20] {
			fm := add(r.Table, r.Match.Expand().Key.NwSrc, r.Priority)
			fms = append(fms, fm)
		}
		bad := add(0, 1, 100)
		bad.Apply = []Action{{Type: ActGroup, Group: 77}} // no such group
		if _, err := b.FlowMods(append(fms, bad)); err == nil {
			t.Fatal("a flow-mod to a missing group went through")
		}
		got := b.selectLocked(&all)
		want := slices.Clone(got)
		slices.SortFunc(want, func(a, b *Rule) int {
			if a.Table != b.Table {
				return cmp.Compare(a.Table, b.Table)
			}
			if a.Priority != b.Priority {
				return cmp.Compare(b.Priority, a.Priority)
			}
			return cmp.Compare(a.seq, b.seq)
		})
		if len(got) < 500 || !slices.Equal(got, want) {
			t.Errorf("%d priorities: %d rules, not in dump order", prios, len(got))
		}
	}
}

// TestDeleteAllUnchains: rules removed with their whole table hold no
// pointers to each other, so one still held elsewhere (an xlate cache) does
// not keep the rest alive.
func TestDeleteAllUnchains(t *testing.T) {
	b := NewBridge("br0")
	for i := range 5 {
		fm := NewFlowMod(FlowAdd)
		fm.Priority = uint16(100 + i%2)
		fm.Match = Match{Key: flow.Key{EthType: 0x0800, NwSrc: uint32(i % 3)}, Mask: flow.Mask{EthType: 0xffff, NwSrc: 0xffffffff}}
		if err := b.FlowMod(fm); err != nil {
			t.Fatal(err)
		}
	}
	all := AllFlows()
	rules := b.selectLocked(&all)
	if len(rules) != 5 {
		t.Fatalf("%d rules", len(rules))
	}
	del := NewFlowMod(FlowDelete)
	del.Table = TableAll
	if err := b.FlowMod(del); err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if r.next != nil || r.older != nil || r.newer != nil {
			t.Errorf("removed rule prio %d still linked", r.Priority)
		}
	}
}
