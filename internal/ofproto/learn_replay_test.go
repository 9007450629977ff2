package ofproto

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/govs/govs/internal/dpif"
	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
)

// The megaflow of a translation that learns is installed; its xcache
// entry replays the learn whenever revalidation sees its packets (OVS's
// XC_LEARN). These tests drive Upcall, Revalidate and Release as the
// datapath does, with a test clock for the learned rules' timeouts.

// learnSwitch is br0 with table 0 "learn(idle_timeout=10, the MAC-learning
// recipe), output:2"; the bridge's clock is clk, so Expire is exact.
func learnSwitch(t *testing.T) (*Ofproto, *Bridge, *testClock) {
	t.Helper()
	o, b, clk := newTestSwitch(t, 2)
	b.Now = clk.now
	l := macLearn()
	l.HardTimeout, l.IdleTimeout = 0, 10
	addFlow(t, b, 0, 1, Match{}, apply(Action{Type: ActLearn, Learn: l}, outAct(2)))
	return o, b, clk
}

// megaflow is an installed megaflow as the datapath keeps it.
type megaflow struct {
	key  flow.Key
	mask flow.Mask
	acts odp.Actions
	ref  uint64
}

func installLearn(t *testing.T, o *Ofproto, k flow.Key) *megaflow {
	t.Helper()
	u := upcall(t, o, k)
	if u.NoInstall || u.Ref == 0 {
		t.Fatalf("a translation that learns was not installed (NoInstall %v, Ref %d)", u.NoInstall, u.Ref)
	}
	return &megaflow{key: u.Key, mask: u.Mask, acts: append(odp.Actions(nil), u.Actions...), ref: u.Ref}
}

// reval is one revalidator round for mf that saw pkts packets.
func (mf *megaflow) reval(t *testing.T, o *Ofproto, pkts uint64) {
	t.Helper()
	r := &dpif.Revalidation{Key: mf.key, Mask: mf.mask, Actions: append(odp.Actions(nil), mf.acts...),
		Ref: mf.ref, Packets: pkts, Bytes: 60 * pkts, Used: o.opts.Now().UnixNano()}
	if err := o.Revalidate(r); err != nil {
		t.Fatal(err)
	}
	if r.Delete {
		t.Fatal("revalidation deleted the learn megaflow")
	}
	mf.mask, mf.acts, mf.ref = r.Mask, r.Actions, r.Ref
}

func learnQueued(o *Ofproto) uint64 { q, _, _, _, _ := o.LearnStats(); return q }

// queuesNothing fails the test if f queues a learned flow-mod.
func queuesNothing(t *testing.T, o *Ofproto, what string, f func()) {
	t.Helper()
	q := learnQueued(o)
	f()
	if got := learnQueued(o) - q; got != 0 {
		t.Fatalf("%s queued %d learns", what, got)
	}
}

func learnedRules(b *Bridge) []FlowView {
	return b.Flows(FlowFilter{Table: 1, OutPort: PortAny, OutGroup: GroupAny})
}

// wantLearnedRules fails the test (saying what went wrong) unless table 1
// holds n rules.
func wantLearnedRules(t *testing.T, b *Bridge, n int, what string) {
	t.Helper()
	if got := len(learnedRules(b)); got != n {
		t.Fatalf("%s: %d learned rules, want %d", what, got, n)
	}
}

func delLearned(t *testing.T, b *Bridge) {
	t.Helper()
	del := NewFlowMod(FlowDelete)
	del.Table = 1
	if err := b.FlowMod(del); err != nil {
		t.Fatal(err)
	}
	wantLearnedRules(t, b, 0, "after delete")
}

// TestLearnReplayRefreshes: the first packet learns at once; then the
// megaflow's traffic, seen by revalidation, keeps the learned rule alive
// past its idle timeout (as refreshes, not new rules); a round without
// traffic learns nothing, and the rule expires.
func TestLearnReplayRefreshes(t *testing.T) {
	o, b, clk := learnSwitch(t)
	mf := installLearn(t, o, tcpKey(1, 1, 2, 3, 4))
	waitLearned(t, o, 1)
	if rules := learnedRules(b); len(rules) != 1 || rules[0].IdleTimeout != 10 {
		t.Fatalf("first packet did not learn: %v", rules)
	}
	for i := uint64(1); i <= 5; i++ {
		clk.t = clk.t.Add(4 * time.Second)
		q := learnQueued(o)
		mf.reval(t, o, 3)
		if got := learnQueued(o) - q; got != 1 {
			t.Fatalf("round %d with traffic queued %d learns, want 1", i, got)
		}
		waitLearned(t, o, 1+i)
		if rm := b.Expire(clk.now()); len(rm) != 0 {
			t.Fatalf("learned rule expired after %d s of traffic", 4*i)
		}
	}
	if _, _, added, refreshed, _ := o.LearnStats(); added != 1 || refreshed != 5 {
		t.Fatalf("replays: added %d refreshed %d, want 1 and 5", added, refreshed)
	}

	// No traffic: nothing replays, and the idle timeout runs out.
	queuesNothing(t, o, "a megaflow without traffic", func() {
		mf.reval(t, o, 0)
		clk.t = clk.t.Add(11 * time.Second)
		mf.reval(t, o, 0)
	})
	if rm := b.Expire(clk.now()); len(rm) != 1 || rm[0].Reason != RemovedIdleTimeout {
		t.Fatalf("idle learned rule not expired: %v", rm)
	}
	// The next round that sees traffic learns it again.
	mf.reval(t, o, 2)
	waitLearned(t, o, 7)
	wantLearnedRules(t, b, 1, "expired learned rule not relearned")
}

// TestLearnReplayAfterDelete: a learned rule deleted by del-flows comes
// back at the next revalidation that sees traffic, including one that
// translated again in between (the bridge changed) and, last, the
// datapath deleting the megaflow with packets not yet pushed.
func TestLearnReplayAfterDelete(t *testing.T) {
	o, b, _ := learnSwitch(t)
	mf := installLearn(t, o, tcpKey(1, 1, 2, 3, 4))
	waitLearned(t, o, 1)

	delLearned(t, b)
	// This round translates again (the delete changed the bridge) but
	// saw no packets: it keeps the learn and queues nothing.
	queuesNothing(t, o, "a revalidation translation", func() { mf.reval(t, o, 0) })
	wantLearnedRules(t, b, 0, "learned rule back without traffic")
	mf.reval(t, o, 1)
	waitLearned(t, o, 2)
	wantLearnedRules(t, b, 1, "deleted learned rule not relearned")

	delLearned(t, b)
	o.Release(mf.ref, 4, 240, o.opts.Now().UnixNano())
	waitLearned(t, o, 3)
	wantLearnedRules(t, b, 1, "a released megaflow's last packets did not relearn")
	if _, _, added, refreshed, _ := o.LearnStats(); added != 3 || refreshed != 0 {
		t.Fatalf("added %d refreshed %d, want 3 and 0", added, refreshed)
	}

	// A megaflow released without traffic learns nothing.
	mf2 := installLearn(t, o, tcpKey(1, 1, 2, 3, 5))
	waitLearned(t, o, 4)
	queuesNothing(t, o, "a megaflow released without traffic", func() { o.Release(mf2.ref, 0, 0, 0) })
}

// TestLearnMegaflowPerSource: the megaflow is exact on every bit learn
// reads, so two packets that differ only in a learned source field get
// distinct megaflows, and each learns its own rule.
func TestLearnMegaflowPerSource(t *testing.T) {
	o, b, _ := learnSwitch(t)
	k1, k2 := tcpKey(1, 1, 2, 3, 4), tcpKey(1, 1, 2, 3, 4)
	k2.EthSrc[5] = 9
	mf1, mf2 := installLearn(t, o, k1), installLearn(t, o, k2)
	if mf1.mask != mf2.mask || mf1.mask.EthSrc != [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff} {
		t.Fatalf("eth_src not exact in the learn megaflows: %x, %x", mf1.mask.EthSrc, mf2.mask.EthSrc)
	}
	var m1, m2 flow.Key
	m1.MaskFrom(&k1, &mf1.mask)
	m2.MaskFrom(&k2, &mf2.mask)
	if m1 == m2 {
		t.Fatal("packets from two sources share a megaflow")
	}
	waitLearned(t, o, 2)
	rules := learnedRules(b)
	if len(rules) != 2 || rules[0].Match.Key().EthDst == rules[1].Match.Key().EthDst {
		t.Fatalf("want one learned rule per source, got %d", len(rules))
	}
	// Each megaflow replays its own source's rule.
	delLearned(t, b)
	mf2.reval(t, o, 1)
	waitLearned(t, o, 3)
	if rules := learnedRules(b); len(rules) != 1 || rules[0].Match.Key().EthDst != k2.EthSrc {
		t.Fatalf("mf2 replayed the wrong rule: %v", rules)
	}
}

// TestLearnReplayMaskedKey: a revalidation whose installed mask lacks bits
// learn reads (the datapath deletes that megaflow) keeps nothing to
// replay: the key it came with has those bits zeroed, not the packets'.
func TestLearnReplayMaskedKey(t *testing.T) {
	o, b, _ := learnSwitch(t)
	k := tcpKey(1, 1, 2, 3, 4)
	k.EthSrc = [6]byte{}
	r := &dpif.Revalidation{Key: k, Mask: flow.Mask{InPort: ^uint32(0)}}
	if err := o.Revalidate(r); err != nil {
		t.Fatal(err)
	}
	queuesNothing(t, o, "releasing a megaflow translated from a masked key", func() { o.Release(r.Ref, 3, 180, 1) })
	wantLearnedRules(t, b, 0, "rules learned from a masked key")
}

// TestLearnReplaySharesFlowMods: replays queue the very flow-mods the
// translation built; applying them (adding, refreshing, re-adding) must
// never change them, and the learned rule must not share their memory.
func TestLearnReplaySharesFlowMods(t *testing.T) {
	o, b, _ := learnSwitch(t)
	mf := installLearn(t, o, tcpKey(1, 1, 2, 3, 4))
	// kept returns the entry's learned flow-mod and a deep copy of it.
	kept := func() (*FlowMod, FlowMod) {
		t.Helper()
		o.xc.mu.Lock()
		defer o.xc.mu.Unlock()
		e := o.xc.lookup(mf.ref)
		if e == nil || len(e.learned) != 1 {
			t.Fatal("xcache entry does not keep the learned flow-mod")
		}
		fm := e.learned[0].fm
		c := *fm
		c.Instructions = cloneInstructions(&fm.Instructions)
		return fm, c
	}
	fm1, want1 := kept()
	waitLearned(t, o, 1) // added from the upcall's queue
	mf.reval(t, o, 1)    // refreshed by the replay
	waitLearned(t, o, 2)
	delLearned(t, b)
	mf.reval(t, o, 0) // translates again after the delete: a new flow-mod
	fm2, want2 := kept()
	mf.reval(t, o, 1) // re-adds from it
	waitLearned(t, o, 3)
	if !reflect.DeepEqual(*fm1, want1) || !reflect.DeepEqual(*fm2, want2) {
		t.Fatalf("applying a learned flow-mod changed it:\n got %+v, %+v\nwant %+v, %+v", *fm1, *fm2, want1, want2)
	}
	r := learnedRules(b)[0]
	if &r.Instructions.Apply[0] == &fm2.Apply[0] {
		t.Fatal("the learned rule shares its actions with the flow-mod")
	}
}

// TestLearnReplayConcurrent: revalidations on several goroutines (the
// periodic revalidator and the synchronous one after flow-mods) replay
// while the applier applies and flow-mods delete; run with -race.
func TestLearnReplayConcurrent(t *testing.T) {
	o, b, _ := learnSwitch(t)
	var mfs []*megaflow
	for i := range 4 {
		k := tcpKey(1, 1, 2, 3, 4)
		k.EthSrc[5] = byte(i + 1)
		mfs = append(mfs, installLearn(t, o, k))
	}
	var wg sync.WaitGroup
	for _, mf := range mfs {
		wg.Go(func() {
			for range 200 {
				mf.reval(t, o, 1)
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			del := NewFlowMod(FlowDelete)
			del.Table = 1
			if err := b.FlowMod(del); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	queued, dropped, _, _, _ := o.LearnStats()
	waitLearned(t, o, queued)
	if dropped != 0 {
		t.Logf("%d learns dropped (queue full)", dropped)
	}
	for _, mf := range mfs {
		mf.reval(t, o, 1)
	}
	waitLearned(t, o, queued+4)
	wantLearnedRules(t, b, 4, "after the last replay")
}

// TestLearnPacketOut: a packet-out through a learn action learns at once,
// as before megaflows cached learning (a packet-out has no megaflow).
func TestLearnPacketOut(t *testing.T) {
	o, b, _ := newTestSwitch(t, 2)
	pkt := make([]byte, 60)
	copy(pkt[6:12], []byte{2, 0, 0, 0, 0, 7})
	pkt[12], pkt[13] = 0x08, 0x06
	if _, err := o.PacketOut("br0", 1, []Action{{Type: ActLearn, Learn: macLearn()}}, pkt); err != nil {
		t.Fatal(err)
	}
	waitLearned(t, o, 1)
	rules := learnedRules(b)
	if len(rules) != 1 || rules[0].Match.Key().EthDst != [6]byte{2, 0, 0, 0, 0, 7} {
		t.Fatalf("packet-out learned %v", rules)
	}
}
