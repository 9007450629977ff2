package ofproto

import (
	"testing"
	"time"

	"github.com/govs/govs/internal/dpif"
	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
)

// TestRevalidateSkipsUnchanged checks that revalidating a megaflow when
// nothing translation reads has changed pushes statistics but does not
// translate again, and that any rule change makes it translate again.
func TestRevalidateSkipsUnchanged(t *testing.T) {
	o, b, clk := newTestSwitch(t, 3)
	// Every translation reads the clock once (xlateCtx.start); with
	// Used set, Revalidate itself does not.
	var translations uint64
	o.opts.Now = func() time.Time { translations++; return clk.now() }
	addFlow(t, b, 0, 10, matchOf(flow.FieldInPort, 1), apply(outAct(2)))
	u := upcall(t, o, tcpKey(1, 1, 2, 3, 80))
	lookups := func() uint64 { return translations }
	reval := func() *dpif.Revalidation {
		r := &dpif.Revalidation{Key: u.Key, Mask: u.Mask, Actions: append(odp.Actions(nil), u.Actions...), Ref: u.Ref, Packets: 1, Bytes: 60, Used: 7}
		if err := o.Revalidate(r); err != nil {
			t.Fatal(err)
		}
		if r.Delete || r.Mask != u.Mask || !sameActions(r.Actions, u.Actions) {
			t.Fatalf("revalidation changed an unchanged megaflow: %+v", r)
		}
		return r
	}

	before := lookups()
	for range 3 {
		reval()
	}
	if n := lookups() - before; n != 0 {
		t.Errorf("unchanged switch: revalidation translated %d times, want 0", n)
	}
	b.RLock()
	rule := b.Table(0).Find(&Match{Key: matchOf(flow.FieldInPort, 1).Key, Mask: matchOf(flow.FieldInPort, 1).Mask}, 10)
	b.RUnlock()
	if rule == nil || rule.Packets.Load() < 4 {
		t.Fatalf("statistics not pushed while skipping: %+v", rule)
	}

	// A rule change anywhere on the bridge: translate again.
	addFlow(t, b, 0, 5, matchOf(flow.FieldInPort, 3), apply(outAct(1)))
	before = lookups()
	reval()
	if lookups() == before {
		t.Error("after a rule change, revalidation did not translate again")
	}
	// And once translated, it is skipped again.
	before = lookups()
	reval()
	if n := lookups() - before; n != 0 {
		t.Errorf("second revalidation after the change translated %d times, want 0", n)
	}
}

// TestTableStatsCountMegaflowPackets: ofp_table_stats count the packets
// of a megaflow (pushed by revalidation and on release) in every table its
// translation looked up, matched or missed; the upcall counts its own
// packet; revalidating and tracing count nothing themselves.
func TestTableStatsCountMegaflowPackets(t *testing.T) {
	o, b, _ := newTestSwitch(t, 2)
	in := apply(outAct(2))
	in.GotoTable = 1
	addFlow(t, b, 0, 10, matchOf(flow.FieldInPort, 1), in) // table 1 is empty: a miss
	stats := func() [4]uint64 {
		b.RLock()
		defer b.RUnlock()
		t0, t1 := b.Table(0), b.Table(1)
		return [4]uint64{t0.Lookups.Load(), t0.Matched.Load(), t1.Lookups.Load(), t1.Matched.Load()}
	}
	u := upcall(t, o, tcpKey(1, 1, 2, 3, 80))
	if got := stats(); got != [4]uint64{1, 1, 1, 0} {
		t.Fatalf("after the upcall: table 0 lookups/matched, table 1 lookups/matched = %v, want [1 1 1 0]", got)
	}
	r := &dpif.Revalidation{Key: u.Key, Mask: u.Mask, Actions: append(odp.Actions(nil), u.Actions...), Ref: u.Ref, Packets: 5, Bytes: 300, Used: 7}
	if err := o.Revalidate(r); err != nil {
		t.Fatal(err)
	}
	if got := stats(); got != [4]uint64{6, 6, 6, 0} {
		t.Fatalf("after 5 megaflow packets: %v, want [6 6 6 0]", got)
	}
	// A revalidation that translates again (a rule changed) and one with
	// no traffic add nothing.
	addFlow(t, b, 0, 5, matchOf(flow.FieldInPort, 2), apply(outAct(1)))
	r.Packets, r.Bytes = 0, 0
	if err := o.Revalidate(r); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Trace("br0", &flow.Key{InPort: 1, EthType: flow.EthTypeIPv4}); err != nil {
		t.Fatal(err)
	}
	if got := stats(); got != [4]uint64{6, 6, 6, 0} {
		t.Fatalf("after a re-translation and a trace: %v, want [6 6 6 0]", got)
	}
	o.Release(r.Ref, 2, 120, 8)
	if got := stats(); got != [4]uint64{8, 8, 8, 0} {
		t.Fatalf("after the release of 2 more packets: %v, want [8 8 8 0]", got)
	}
}

// TestEpochNeverRepeats: the epoch megaflow translations are stamped with
// must never come back to an earlier value, or a megaflow translated
// before some changes would be taken as current after them. Deleting a
// bridge used to lower it (it summed the live bridges' versions).
func TestEpochNeverRepeats(t *testing.T) {
	o, b, _ := newTestSwitch(t, 2)
	b2 := NewBridge("br1")
	o.AddBridge(b2)
	for i := range 5 {
		addFlow(t, b2, 0, uint16(10+i), matchOf(flow.FieldInPort, 1), apply(outAct(2)))
	}
	seen := map[uint64]bool{o.epoch(): true}
	o.DelBridge("br1")
	for i := range 10 {
		e := o.epoch()
		addFlow(t, b, 0, uint16(10+i), matchOf(flow.FieldInPort, 1), apply(outAct(2)))
		if seen[o.epoch()] || o.epoch() <= e {
			t.Fatalf("epoch %d after change %d: repeated or not grown (from %d)", o.epoch(), i, e)
		}
		seen[o.epoch()] = true
	}
}

// TestPortMapFollowsPortsOnly: a flow-mod does not rebuild the port map
// (it used to, on every bridge version change); adding, renaming and
// deleting ports does.
func TestPortMapFollowsPortsOnly(t *testing.T) {
	o, b, _ := newTestSwitch(t, 2)
	pm := o.portsFresh()
	addFlow(t, b, 0, 10, matchOf(flow.FieldInPort, 1), apply(outAct(2)))
	if o.portsFresh() != pm {
		t.Error("a flow-mod rebuilt the port map")
	}
	if err := b.AddPort(&Port{Name: "p9", OFPort: 9, ODPPort: 99}); err != nil {
		t.Fatal(err)
	}
	pm = o.portsFresh()
	if loc, ok := pm.byODP[99]; !ok || loc.ofport != 9 {
		t.Fatalf("added port missing from the port map: %+v %v", loc, ok)
	}
	b.UpdatePort(9, func(p *Port) { p.Name, p.ODPPort = "p9b", 98 })
	pm = o.portsFresh()
	if _, ok := pm.byName["p9b"]; !ok {
		t.Error("renamed port not in the port map")
	}
	if _, ok := pm.byODP[98]; !ok {
		t.Error("renumbered port not in the port map")
	}
	b.DelPort(9)
	if _, ok := o.portsFresh().byName["p9b"]; ok {
		t.Error("deleted port still in the port map")
	}
}
