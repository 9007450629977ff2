package bridge

import (
	"log/slog"
	"testing"
	"time"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/ofproto"
	"github.com/govs/govs/internal/vswitchd"
)

func TestLastCPUIn(t *testing.T) {
	for _, c := range []struct {
		list string
		want int
	}{
		{"0-1\n", 1},
		{"0", 0},
		{"0,2-5,7", 7},
		{"0-3,8,10-11", 11},
		{"", -1},
		{"garbage", -1},
	} {
		if got := lastCPUIn(c.list); got != c.want {
			t.Errorf("lastCPUIn(%q) = %d, want %d", c.list, got, c.want)
		}
	}
}

func TestParseCPUMask(t *testing.T) {
	for _, c := range []struct {
		mask string
		want []int
		err  bool
	}{
		{"", nil, false},
		{"0x2", []int{1}, false},
		{"3", []int{0, 1}, false},
		{"0x1", []int{0}, false},
		{"zz", nil, true},
	} {
		got, err := parseCPUMask(c.mask)
		if (err != nil) != c.err {
			t.Errorf("parseCPUMask(%q) error %v, want error %v", c.mask, err, c.err)
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("parseCPUMask(%q) = %v, want %v", c.mask, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("parseCPUMask(%q) = %v, want %v", c.mask, got, c.want)
			}
		}
	}
}

// TestFailOpenHiddenRule drives the fail-mode state machine on a bare
// ofproto bridge: unconnected with a controller, a standalone bridge
// fails open through a hidden NORMAL rule that OpenFlow cannot see or
// delete, and that goes when a controller connects or the controller
// goes (and then OVS's default rule comes back).
func TestFailOpenHiddenRule(t *testing.T) {
	s := &Switch{log: slog.New(slog.DiscardHandler)}
	b := &bridge{name: "br0", ofb: ofproto.NewBridge("br0")}
	b.spec.Controllers = []vswitchd.ControllerSpec{{Target: "tcp:127.0.0.1:1", InactivityProbe: 5000}}
	s.byName.Store(b.name, b)
	failOpenTriggerOf = func(*bridge) time.Duration { return 30 * time.Millisecond } // not 15 s
	t.Cleanup(func() { failStateOf(b).stop(); failStates.Delete(b); failOpenTriggerOf = failOpenTrigger })

	k := flow.Key{InPort: 1, EthType: 0x0800}
	lookup := func() *ofproto.Rule {
		b.ofb.RLock()
		defer b.ofb.RUnlock()
		return b.ofb.Table(0).Lookup(&k, nil)
	}
	waitOpen := func(want bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if open := len(b.ofb.HiddenRules(0)) == 1; open == want {
				return
			} else if time.Now().After(deadline) {
				t.Fatalf("fail-open rule present = %v, want %v", open, want)
			}
		}
	}

	s.applyFailMode(b) // first controller: flush, fail open after 3 probes
	waitOpen(true)
	r := lookup()
	if r == nil || !r.Hidden || len(r.Instructions.Apply) != 1 || r.Instructions.Apply[0].Port != ofproto.PortNormal {
		t.Fatalf("a packet meets %+v, want the hidden NORMAL rule", r)
	}
	if n := len(b.ofb.Flows(ofproto.AllFlows())); n != 0 || b.ofb.Table(0).Len() != 0 {
		t.Fatalf("OpenFlow sees %d rules", n)
	}
	// An OpenFlow priority-65535 drop rule and a delete-all change
	// nothing: the hidden rule outranks the one and survives the other.
	drop := ofproto.NewFlowMod(ofproto.FlowAdd)
	drop.Priority = 0xffff
	if err := b.ofb.FlowMod(drop); err != nil {
		t.Fatal(err)
	}
	if r := lookup(); r == nil || !r.Hidden {
		t.Fatalf("priority 65535 beats the fail-open rule: %+v", r)
	}
	del := ofproto.NewFlowMod(ofproto.FlowDelete)
	del.Table = ofproto.TableAll
	if err := b.ofb.FlowMod(del); err != nil || len(b.ofb.HiddenRules(0)) != 1 {
		t.Fatalf("delete-all: %v, %d hidden rules", err, len(b.ofb.HiddenRules(0)))
	}

	s.controllerConnectivity(b, true) // the controller takes over
	waitOpen(false)
	if r := lookup(); r != nil {
		t.Fatalf("connected: a packet meets %+v", r)
	}
	s.controllerConnectivity(b, false)
	waitOpen(true)

	b.spec.Controllers = nil // no controller: flush, default rule back
	s.applyFailMode(b)
	waitOpen(false)
	if r := lookup(); r == nil || r.Hidden || r.Priority != 0 || r.Instructions.Apply[0].Port != ofproto.PortNormal {
		t.Fatalf("without controllers a packet meets %+v, want priority=0,actions=NORMAL", r)
	}
}

// TestFailOpenTrigger: a bridge fails open after three times its
// controllers' longest probe interval as OVS derives it (whole seconds,
// at least 5 s, 5 s when unset), or after 15 s when none probes.
func TestFailOpenTrigger(t *testing.T) {
	for _, c := range []struct {
		probes []int // Controller.inactivity_probe, ms
		want   time.Duration
	}{
		{[]int{vswitchd.ProbeUnset}, 15 * time.Second},
		{[]int{1000}, 15 * time.Second},
		{[]int{7500}, 21 * time.Second},
		{[]int{0}, 15 * time.Second},
		{[]int{0, 9000, 6000}, 27 * time.Second},
	} {
		b := &bridge{name: "br0"}
		for _, p := range c.probes {
			b.spec.Controllers = append(b.spec.Controllers, vswitchd.ControllerSpec{Target: "tcp:127.0.0.1:1", InactivityProbe: p})
		}
		if got := failOpenTrigger(b); got != c.want {
			t.Errorf("inactivity_probe %v: fail-open after %v, want %v", c.probes, got, c.want)
		}
	}
}
