package ofproto

import (
	"testing"
)

// TestHiddenRule: a hidden rule beats a priority-65535 OpenFlow rule,
// forwards (NORMAL floods here), shows in ofproto/trace, and is invisible
// to and untouched by OpenFlow: flow and aggregate stats, table counts,
// delete-all by FlowMod and by a FlowMods transaction.
func TestHiddenRule(t *testing.T) {
	o, b, _ := newTestSwitch(t, 3)
	addFlow(t, b, 0, 0xffff, MatchAll(), apply(outAct(2)))
	normal := apply(Action{Type: ActOutput, Port: PortNormal})
	if err := b.SetHiddenRule(0, 0, MatchAll(), normal); err != nil {
		t.Fatal(err)
	}
	k := tcpKey(1, 1, 2, 3, 4)
	if got := outPorts(upcall(t, o, k).Actions); !eqPorts(got, []uint32{12, 13}) {
		t.Fatalf("with the hidden NORMAL rule, in_port=1 goes to %v, want flooding to 12, 13", got)
	}
	tr, err := o.Trace("br0", &k)
	if err != nil || len(tr.Steps) == 0 || tr.Steps[0].Rule == nil || !tr.Steps[0].Rule.Hidden {
		t.Fatalf("trace does not show the hidden rule: %v\n%s", err, tr)
	}

	if rules := b.Flows(AllFlows()); len(rules) != 1 || rules[0].Hidden {
		t.Fatalf("flow stats see %d rules", len(rules))
	}
	if _, _, n := b.Aggregate(AllFlows()); n != 1 {
		t.Fatalf("aggregate counts %d flows", n)
	}
	if n := b.Table(0).Len(); n != 1 {
		t.Fatalf("table 0 active count %d", n)
	}

	del := NewFlowMod(FlowDelete)
	del.Table = TableAll
	if err := b.FlowMod(del); err != nil {
		t.Fatal(err)
	}
	strict := NewFlowMod(FlowDeleteStrict)
	strict.Priority = 0
	if _, err := b.FlowMods([]*FlowMod{del, strict}); err != nil {
		t.Fatal(err)
	}
	if n := len(b.HiddenRules(0)); n != 1 || len(b.Flows(AllFlows())) != 0 {
		t.Fatalf("after OpenFlow delete-all: %d hidden rules, %d OpenFlow rules", n, len(b.Flows(AllFlows())))
	}
	if got := outPorts(upcall(t, o, k).Actions); !eqPorts(got, []uint32{12, 13}) {
		t.Fatalf("after delete-all in_port=1 goes to %v", got)
	}

	// Setting it again replaces it; deleting it leaves the table empty.
	if err := b.SetHiddenRule(0, 0, MatchAll(), apply(outAct(3))); err != nil {
		t.Fatal(err)
	}
	if got := outPorts(upcall(t, o, k).Actions); !eqPorts(got, []uint32{13}) || len(b.HiddenRules(0)) != 1 {
		t.Fatalf("replaced hidden rule: output %v, %d rules", got, len(b.HiddenRules(0)))
	}
	if !b.DelHiddenRule(0, 0, MatchAll()) || b.DelHiddenRule(0, 0, MatchAll()) {
		t.Fatal("DelHiddenRule: want true then false")
	}
	if got := outPorts(upcall(t, o, k).Actions); len(got) != 0 {
		t.Fatalf("without rules in_port=1 goes to %v", got)
	}
}
