package ofproto

import (
	"testing"
	"time"

	"github.com/govs/govs/internal/flow"
)

// learnRuleFM is a flow-mod adding a rule of table 0 at priority prio whose learn action
// fills table 1 with cookie 0x77, delete_learned set or not.
func learnRuleFM(prio uint16, deleteLearned bool) *FlowMod {
	l := &Learn{Table: 1, Priority: 5, Cookie: 0x77, Specs: []LearnSpec{
		{Dst: LearnMatch, NBits: 48, SrcField: flow.FieldEthSrc, DstField: flow.FieldEthDst},
		{Dst: LearnOutput, NBits: 16, SrcField: flow.FieldInPort},
	}}
	if deleteLearned {
		l.Flags = LearnDeleteLearned
	}
	fm := NewFlowMod(FlowAdd)
	fm.Table, fm.Priority = 0, prio
	fm.Match = matchOf(flow.FieldInPort, uint64(prio))
	fm.Instructions = apply(Action{Type: ActLearn, Learn: l})
	return fm
}

// cookieRule adds a rule to table 1 with cookie c, as learning would.
func cookieRule(t *testing.T, b *Bridge, prio uint16, c uint64) {
	t.Helper()
	fm := NewFlowMod(FlowAdd)
	fm.Table, fm.Priority, fm.Cookie = 1, prio, c
	fm.Match = matchOf(flow.FieldEthDst, uint64(prio))
	fm.Instructions = apply(outAct(2))
	if err := b.FlowMod(fm); err != nil {
		t.Fatal(err)
	}
}

func table1(b *Bridge) (learned, other int) {
	for _, v := range b.Flows(FlowFilter{Table: 1, OutPort: PortAny, OutGroup: GroupAny}) {
		if v.Cookie == 0x77 {
			learned++
		} else {
			other++
		}
	}
	return learned, other
}

// setUp installs learn rules at priorities prios (with delete_learned),
// three rules with the learned cookie and one without.
func setUpLearned(t *testing.T, prios ...uint16) (*Bridge, *[]Removed) {
	t.Helper()
	_, b, _ := newTestSwitch(t, 2)
	var removed []Removed
	b.OnRemoved = func(r []Removed) { removed = append(removed, r...) }
	for _, p := range prios {
		if err := b.FlowMod(learnRuleFM(p, true)); err != nil {
			t.Fatal(err)
		}
	}
	for p := uint16(1); p <= 3; p++ {
		cookieRule(t, b, p, 0x77)
	}
	cookieRule(t, b, 4, 0x78)
	return b, &removed
}

func deleteStrict(t *testing.T, b *Bridge, prio uint16) {
	t.Helper()
	fm := learnRuleFM(prio, true)
	fm.Command = FlowDeleteStrict
	fm.OutPort, fm.OutGroup = PortAny, GroupAny
	if err := b.FlowMod(fm); err != nil {
		t.Fatal(err)
	}
}

// The learned rules go with the last rule whose learn action has
// delete_learned for their table and cookie, and only with it.
func TestDeleteLearnedOnDelete(t *testing.T) {
	b, removed := setUpLearned(t, 10, 11)
	deleteStrict(t, b, 10)
	if l, o := table1(b); l != 3 || o != 1 {
		t.Fatalf("after deleting one of two learn rules: %d learned, %d other; want 3, 1", l, o)
	}
	deleteStrict(t, b, 11)
	if l, o := table1(b); l != 0 || o != 1 {
		t.Fatalf("after deleting the last learn rule: %d learned, %d other; want 0, 1", l, o)
	}
	n := 0
	for _, r := range *removed {
		if r.Rule.Table == 1 {
			if r.Reason != RemovedDelete {
				t.Errorf("learned rule removed for reason %d", r.Reason)
			}
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d learned rules reported removed, want 3", n)
	}
}

func TestDeleteLearnedOnModify(t *testing.T) {
	b, _ := setUpLearned(t, 10)
	// A modify that keeps the learn action keeps the learned rules.
	mod := learnRuleFM(10, true)
	mod.Command = FlowModifyStrict
	if err := b.FlowMod(mod); err != nil {
		t.Fatal(err)
	}
	if l, _ := table1(b); l != 3 {
		t.Fatalf("a modify to the same learn action deleted learned rules: %d left", l)
	}
	mod.Instructions = apply(outAct(1))
	if err := b.FlowMod(mod); err != nil {
		t.Fatal(err)
	}
	if l, o := table1(b); l != 0 || o != 1 {
		t.Fatalf("after a modify took the learn action away: %d learned, %d other", l, o)
	}
}

func TestDeleteLearnedOnReplace(t *testing.T) {
	b, _ := setUpLearned(t, 11)
	add := learnRuleFM(11, true)
	add.Instructions = apply(outAct(1))
	if err := b.FlowMod(add); err != nil {
		t.Fatal(err)
	}
	if l, o := table1(b); l != 0 || o != 1 {
		t.Fatalf("after an add replaced the learn rule: %d learned, %d other", l, o)
	}
}

func TestDeleteLearnedOnExpiry(t *testing.T) {
	b, removed := setUpLearned(t)
	fm := learnRuleFM(10, true)
	fm.HardTimeout = 5
	if err := b.FlowMod(fm); err != nil {
		t.Fatal(err)
	}
	got := b.Expire(time.Now().Add(time.Hour))
	if len(got) != 4 || got[0].Reason != RemovedHardTimeout {
		t.Fatalf("expired %+v; want the learn rule and its 3 learned rules", got)
	}
	if l, _ := table1(b); l != 0 {
		t.Fatalf("%d learned rules left after their learn rule expired", l)
	}
	if len(*removed) != 0 {
		t.Errorf("Expire's caller reports its removals; OnRemoved got %d", len(*removed))
	}
}

// Without the flag, and when a failing bundle's delete is rolled back,
// learned rules stay.
func TestDeleteLearnedNotWhenUnflaggedOrRolledBack(t *testing.T) {
	b, _ := setUpLearned(t, 10)
	del := learnRuleFM(10, true)
	del.Command, del.OutPort, del.OutGroup = FlowDeleteStrict, PortAny, GroupAny
	bad := NewFlowMod(FlowAdd)
	bad.Table = 1
	bad.Instructions = apply(Action{Type: ActGroup, Group: 99}) // no such group
	if failed, err := b.FlowMods([]*FlowMod{del, bad}); failed != 1 || err == nil {
		t.Fatalf("bundle: failed %d, %v", failed, err)
	}
	if l, _ := table1(b); l != 3 {
		t.Fatalf("a rolled-back delete removed learned rules: %d left", l)
	}
	// The rule is there again; a later unrelated commit flushes nothing.
	cookieRule(t, b, 9, 0x78)
	if l, _ := table1(b); l != 3 {
		t.Fatalf("a later commit flushed learned rules: %d left", l)
	}

	b2, _ := setUpLearned(t)
	if err := b2.FlowMod(learnRuleFM(10, false)); err != nil {
		t.Fatal(err)
	}
	deleteStrict(t, b2, 10)
	if l, _ := table1(b2); l != 3 {
		t.Fatalf("learn without delete_learned: %d learned rules left, want 3", l)
	}
}

// A learned flow-mod still queued when its rule leaves or changes is not
// applied: it would come back after delete_learned's flush.
func TestLearnedModDroppedAfterItsRuleChanges(t *testing.T) {
	b, _ := setUpLearned(t, 10)
	src := b.Flows(FlowFilter{Table: 0, OutPort: PortAny, OutGroup: GroupAny})[0].Rule
	learned := func() *learnedMod {
		fm := NewFlowMod(FlowAdd)
		fm.Table, fm.Priority, fm.Cookie = 1, 5, 0x77
		fm.Match = matchOf(flow.FieldEthDst, 0x99)
		fm.Instructions = apply(outAct(1))
		return &learnedMod{bridge: "br0", fm: fm, src: src, srcModified: src.Modified}
	}
	if _, err := b.learnFlow(learned()); err != nil {
		t.Fatalf("a learned flow-mod of a live rule: %v", err)
	}
	m := learned()
	mod := learnRuleFM(10, true)
	mod.Command = FlowModifyStrict
	b.Now = func() time.Time { return src.Modified.Add(time.Second) }
	if err := b.FlowMod(mod); err != nil {
		t.Fatal(err)
	}
	if _, err := b.learnFlow(m); err != errStaleLearn {
		t.Fatalf("a flow-mod learned before its rule was modified: %v", err)
	}
	m = learned()
	m.srcModified = src.Modified
	deleteStrict(t, b, 10)
	if _, err := b.learnFlow(m); err != errStaleLearn {
		t.Fatalf("a flow-mod learned before its rule was deleted: %v", err)
	}
	if l, _ := table1(b); l != 0 {
		t.Fatalf("%d learned rules in table 1 after the learn rule went", l)
	}
}
