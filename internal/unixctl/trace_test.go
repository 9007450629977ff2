package unixctl

import (
	"strings"
	"testing"

	"github.com/govs/govs/internal/ofproto"
)

// TestTraceHiddenRulePriority: ofproto/trace shows a hidden rule (the
// fail-open rule) at OVS's priority for it, 0xf0f0f0, not at its rank
// among hidden rules.
func TestTraceHiddenRulePriority(t *testing.T) {
	ls := newLiveSwitch(t)
	normal := ofproto.Instructions{GotoTable: -1, Apply: []ofproto.Action{{Type: ofproto.ActOutput, Port: ofproto.PortNormal}}}
	if err := ls.sw.Bridge("br0").SetHiddenRule(0, 0, ofproto.MatchAll(), normal); err != nil {
		t.Fatal(err)
	}
	out := ls.mustCall(t, "ofproto/trace", "br0", "in_port=1,dl_dst=02:00:00:00:00:99")
	if !strings.Contains(out, "\n 0. priority 15790320\n    NORMAL\n") {
		t.Errorf("no hidden rule at priority 15790320 in:\n%s", out)
	}
}
