package ofproto

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/govs/govs/internal/flow"
)

// macLearn is the MAC-learning recipe: learn dl_dst=<dl_src> ->
// output:<in_port> into table 1, with a VLAN match and a tunnel load.
func macLearn() *Learn {
	return &Learn{Table: 1, Priority: 5, Cookie: 7, HardTimeout: 60, Specs: []LearnSpec{
		{Dst: LearnMatch, NBits: 48, SrcField: flow.FieldEthSrc, DstField: flow.FieldEthDst},
		{Dst: LearnMatch, NBits: 12, SrcField: flow.FieldVLANTCI, DstField: flow.FieldVLANTCI},
		{Dst: LearnLoad, NBits: 8, Imm: [16]byte{15: 0x5a}, DstField: flow.FieldReg0, DstOfs: 4},
		{Dst: LearnOutput, NBits: 16, SrcField: flow.FieldInPort},
	}}
}

func waitLearned(t *testing.T, o *Ofproto, n uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, _, added, refreshed, failed := o.LearnStats()
		if added+refreshed+failed >= n {
			if failed != 0 {
				t.Fatalf("%d learned flow-mods failed", failed)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("learned flow-mods not applied: %d of %d", added+refreshed, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestLearnUpcall: an upcall through a learn action is installed (its
// xcache entry replays the learn, learn_replay_test.go), makes every
// source bit exact in its mask, and the learned flow lands in table 1 with
// the learn's priority, cookie and timeout; the same packet upcalled again
// only refreshes it.
func TestLearnUpcall(t *testing.T) {
	o, b, clk := newTestSwitch(t, 2)
	addFlow(t, b, 0, 1, Match{}, apply(Action{Type: ActLearn, Learn: macLearn()}, outAct(2)))
	k := tcpKey(1, 1, 2, 3, 4)
	u := upcall(t, o, k)
	if u.NoInstall || u.Ref == 0 {
		t.Fatal("a translation that learns was not installed")
	}
	if u.Mask.EthSrc != [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff} || u.Mask.VLANs[0].TCI&0xfff != 0xfff {
		t.Fatalf("learn's sources not exact in the mask: eth_src %x tci %#x", u.Mask.EthSrc, u.Mask.VLANs[0].TCI)
	}
	if u.Mask.EthDst != [6]byte{} || u.Mask.NwSrc != 0 {
		t.Fatalf("fields learn does not read were un-wildcarded: %+v", u.Mask)
	}
	if got := outPorts(u.Actions); !eqPorts(got, []uint32{12}) {
		t.Fatalf("packet output to %v, want datapath port 12", got)
	}
	waitLearned(t, o, 1)
	rules := b.Flows(FlowFilter{Table: 1, OutPort: PortAny, OutGroup: GroupAny})
	if len(rules) != 1 {
		t.Fatalf("table 1 has %d rules, want 1", len(rules))
	}
	r := rules[0]
	if r.Priority != 5 || r.Cookie != 7 || r.HardTimeout != 60 {
		t.Fatalf("learned rule priority %d cookie %d hard %d", r.Priority, r.Cookie, r.HardTimeout)
	}
	if r.Match.Key().EthDst != k.EthSrc || r.Match.Mask().EthDst != [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff} ||
		r.Match.Mask().VLANs[0].TCI != 0xfff {
		t.Fatalf("learned match %+v", r.Match.Expand())
	}
	acts := r.Instructions.Apply
	if len(acts) != 2 || acts[0].Type != ActSetField || acts[0].Field != flow.FieldReg0 ||
		flow.FieldByID(flow.FieldReg0).Uint(acts[0].Value) != 0x5a0 || acts[1].Type != ActOutput || acts[1].Port != 1 {
		t.Fatalf("learned actions %+v", acts)
	}
	version := b.Version()
	created := r.Created
	clk.t = clk.t.Add(10 * time.Second)
	upcall(t, o, k)
	waitLearned(t, o, 2)
	if _, _, added, refreshed, _ := o.LearnStats(); added != 1 || refreshed != 1 {
		t.Fatalf("relearning: added %d refreshed %d, want 1 and 1", added, refreshed)
	}
	again := b.Flows(FlowFilter{Table: 1, OutPort: PortAny, OutGroup: GroupAny})
	if b.Version() != version || len(again) != 1 || again[0].Rule != r.Rule || !again[0].Created.After(created) {
		t.Fatal("relearning an identical rule changed the bridge or did not refresh the rule")
	}
	// A learned rule deleted meanwhile comes back with the next upcall.
	del := NewFlowMod(FlowDelete)
	del.Table = 1
	if err := b.FlowMod(del); err != nil {
		t.Fatal(err)
	}
	upcall(t, o, k)
	waitLearned(t, o, 3)
	if n := len(b.Flows(FlowFilter{Table: 1, OutPort: PortAny, OutGroup: GroupAny})); n != 1 {
		t.Fatalf("learned rule not relearned after delete: %d rules", n)
	}
}

// TestLearnTrace: ofproto/trace shows what learn would add, adds
// nothing, and reports the megaflow installable.
func TestLearnTrace(t *testing.T) {
	o, b, _ := newTestSwitch(t, 2)
	addFlow(t, b, 0, 1, Match{}, apply(Action{Type: ActLearn, Learn: macLearn()}))
	k := tcpKey(1, 1, 2, 3, 4)
	k.InPort = 1
	tr, err := o.Trace("br0", &k)
	if err != nil {
		t.Fatal(err)
	}
	s := tr.String()
	if !strings.Contains(s, "learn: table=1,priority=5,cookie=0x7,hard_timeout=60,") ||
		!strings.Contains(s, "actions=load:0x5a->reg0,output:1") || tr.NoInstall {
		t.Fatalf("trace:\n%s", s)
	}
	time.Sleep(10 * time.Millisecond)
	if queued, _, _, _, _ := o.LearnStats(); queued != 0 {
		t.Fatal("trace queued a learned flow-mod")
	}
}

// TestLearnValidate: learn's specs are checked against the rule's match
// and the learned match, with OVS's errors.
func TestLearnValidate(t *testing.T) {
	_, b, _ := newTestSwitch(t, 1)
	ipSrc := LearnSpec{Dst: LearnMatch, NBits: 32, SrcField: flow.FieldIPv4Src, DstField: flow.FieldIPv4Dst}
	ethIP := LearnSpec{Dst: LearnMatch, NBits: 16, Imm: [16]byte{14: 0x08}, DstField: flow.FieldEthType}
	for _, c := range []struct {
		name  string
		m     Match
		specs []LearnSpec
		table uint8
		code  uint16
	}{
		{"source without prerequisites", Match{}, []LearnSpec{ethIP, ipSrc}, 1, BadActionMatchInconsistent},
		{"learned match without prerequisites", matchOf(flow.FieldEthType, int(flow.EthTypeIPv4)), []LearnSpec{ipSrc}, 1, BadActionMatchInconsistent},
		{"n_bits beyond the field", Match{}, []LearnSpec{{Dst: LearnMatch, NBits: 49, SrcField: flow.FieldEthSrc, DstField: flow.FieldEthDst}}, 1, BadActionBadSetLen},
		{"zero bits", Match{}, []LearnSpec{{Dst: LearnOutput, SrcField: flow.FieldInPort}}, 1, BadActionBadSetLen},
		{"load into read-only", Match{}, []LearnSpec{{Dst: LearnLoad, NBits: 8, DstField: flow.FieldEthType}}, 1, BadActionBadSetArgument},
		{"bad table", Match{}, nil, MaxTables, BadActionBadArgument},
	} {
		fm := NewFlowMod(FlowAdd)
		fm.Match = c.m
		fm.Apply = []Action{{Type: ActLearn, Learn: &Learn{Table: c.table, Specs: c.specs}}}
		err := b.FlowMod(fm)
		var oe *OFError
		if !errors.As(err, &oe) || oe.Type != ErrBadAction || oe.Code != c.code {
			t.Errorf("%s: got %v, want bad action code %d", c.name, err, c.code)
		}
	}
	fm := NewFlowMod(FlowAdd)
	fm.Match = matchOf(flow.FieldEthType, int(flow.EthTypeIPv4))
	fm.Apply = []Action{{Type: ActLearn, Learn: &Learn{Table: 1, Specs: []LearnSpec{ethIP, ipSrc}}}}
	if err := b.FlowMod(fm); err != nil {
		t.Fatalf("valid learn refused: %v", err)
	}
}
