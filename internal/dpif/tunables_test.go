package dpif

import (
	"testing"
	"time"
)

// Each tunable changes behaviour on a running datapath, without a restart.
func TestSetTunablesLive(t *testing.T) {
	up := &testUpcaller{}
	dp, ports := newTestDP(t, testCfg, up, 3, nil)
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	send := func(dst uint32, n int) {
		for i := range n {
			ports[1].Inject(0, udpFrame(dst, uint16(i), 80))
		}
	}
	emcHits := func() (h uint64) {
		for _, s := range dp.PMDStats() {
			h += s.EMCHits
		}
		return h
	}
	drain := func(want int) {
		t.Helper()
		got := 0
		waitFor(t, "packets out", func() bool {
			got += len(ports[2].Transmitted()) + len(ports[3].Transmitted())
			return got >= want
		})
	}

	// flow-limit: with room for one megaflow, a second destination is
	// forwarded but not installed.
	dp.SetTunables(Tunables{FlowLimit: 1, EMCInsertInvProb: -1})
	if got := dp.CurrentTunables(); got.FlowLimit != 1 || got.EMCInsertInvProb != -1 {
		t.Fatalf("CurrentTunables = %+v", got)
	}
	send(0x0a000002, 1)
	drain(1)
	send(0x0a000003, 5)
	drain(5)
	if n := len(dp.FlowDump()); n != 1 {
		t.Fatalf("%d megaflows under flow-limit 1", n)
	}
	// Raising it installs the second one; a different mask puts it in a
	// second subtable, so that lookups use the EMC at all.
	dp.SetTunables(Tunables{FlowLimit: 10, EMCInsertInvProb: -1})
	up.matchTpDst.Store(true)
	send(0x0a000003, 1)
	drain(1)
	if n := len(dp.FlowDump()); n != 2 {
		t.Fatalf("%d megaflows after raising flow-limit, want 2", n)
	}
	// emc-insert-inv-prob 0 (here -1): hits stay in the megaflow cache.
	for range 2 { // a first batch would insert, a second hit
		send(0x0a000002, 20)
		drain(20)
	}
	if h := emcHits(); h != 0 {
		t.Fatalf("%d EMC hits with insertion disabled", h)
	}
	dp.SetTunables(Tunables{FlowLimit: 10, EMCInsertInvProb: 1})
	for range 2 {
		send(0x0a000002, 20)
		drain(20)
	}
	// Every packet of the second round hits what the first inserted.
	if h := emcHits(); h != 20 {
		t.Fatalf("%d EMC hits after enabling insertion, want 20", h)
	}

	// max-idle: a short one lets the next round delete both.
	dp.SetTunables(Tunables{MaxIdle: time.Millisecond})
	time.Sleep(5 * time.Millisecond)
	dp.Revalidate()
	if n := len(dp.FlowDump()); n != 0 {
		t.Fatalf("%d megaflows left after max-idle", n)
	}

	// pmd-sleep-max 0: the PMD never parks, so it is never idle in a sleep.
	dp.SetTunables(Tunables{PMDSleepMax: 0})
	if got := dp.CurrentTunables().PMDSleepMax; got != 0 {
		t.Fatalf("PMDSleepMax = %v", got)
	}
	dp.SetTunables(Tunables{PMDSleepMax: 2 * time.Millisecond})
	if got := dp.CurrentTunables().PMDSleepMax; got != 2*time.Millisecond {
		t.Fatalf("PMDSleepMax = %v", got)
	}
}
