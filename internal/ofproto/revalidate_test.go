package ofproto

import (
	"testing"

	"github.com/govs/govs/internal/dpif"
	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
)

// TestRevalidateSkipsUnchanged checks that revalidating a megaflow when
// nothing translation reads has changed pushes statistics but does not
// translate again, and that any rule change makes it translate again.
func TestRevalidateSkipsUnchanged(t *testing.T) {
	o, b, _ := newTestSwitch(t, 3)
	addFlow(t, b, 0, 10, matchOf(flow.FieldInPort, 1), apply(outAct(2)))
	u := upcall(t, o, tcpKey(1, 1, 2, 3, 80))
	lookups := func() uint64 {
		b.RLock()
		defer b.RUnlock()
		return b.Table(0).Lookups.Load()
	}
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
		t.Errorf("unchanged switch: revalidation made %d table lookups, want 0", n)
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
		t.Errorf("second revalidation after the change made %d lookups, want 0", n)
	}
}
