package ofproto

import (
	"testing"

	"github.com/govs/govs/internal/flow"
)

// TestXlatePopMPLSSetNwTTLIPv6 is Ryu's 23_SET_NW_TTL_IPv6 mpls case: table
// 0 pops the bottom label to IPv6, table 1 matches only eth_type and sets
// the hop limit. No rule needs the L3 fields, only the action.
func TestXlatePopMPLSSetNwTTLIPv6(t *testing.T) {
	o, b, _ := newTestSwitch(t, 2)
	in := apply(Action{Type: ActPopMPLS, Ethertype: flow.EthTypeIPv6})
	in.GotoTable = 1
	addFlow(t, b, 0, 10, matchOf(flow.FieldEthType, int(flow.EthTypeMPLS)), in)
	addFlow(t, b, 1, 10, matchOf(flow.FieldEthType, int(flow.EthTypeIPv6)),
		apply(Action{Type: ActSetNwTTL, TTL: 32}, outAct(2)))

	frame := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0x47, 0, 0x06, 0x47, 64,
		0x62, 0, 0, 100, 0, 20, 6, 64,
		0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
		0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20,
		0x2b, 0x67, 0x08, 0xae, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0}
	u, outs := upcallFrame(t, o, frame)
	if len(outs) != 1 || outs[0].port != 12 {
		t.Fatalf("actions %+v: outputs %+v, want one to port 12", u.Actions, outs)
	}
	if k := outs[0].key; k.EthType != flow.EthTypeIPv6 || k.NwTTL != 32 {
		t.Errorf("output %+v, want IPv6 hop limit 32", k)
	}
}
