package ofproto

import (
	"testing"

	"github.com/govs/govs/internal/dpif"
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

// TestRevalidatePopMPLSDeletesMegaflow is the same Ryu case after an
// earlier test left a megaflow for the labelled packets: revalidation
// (which has no packet) used to turn it into "pop_mpls" and nothing more,
// so the switch sent nothing until it expired. A translation that needs
// the headers under the stack must take the megaflow away instead.
func TestRevalidatePopMPLSDeletesMegaflow(t *testing.T) {
	o, b, _ := newTestSwitch(t, 2)
	mpls := matchOf(flow.FieldEthType, int(flow.EthTypeMPLS))
	addFlow(t, b, 0, 10, mpls, apply(outAct(2)))
	k := flow.Key{InPort: 11, EthType: flow.EthTypeMPLS}
	k.MPLS[0] = 100<<12 | 1<<8 | 64
	u := upcall(t, o, k)
	if u.NoInstall {
		t.Fatal("plain output of a labelled packet not installed")
	}

	in := apply(Action{Type: ActPopMPLS, Ethertype: flow.EthTypeIPv6})
	in.GotoTable = 1
	addFlow(t, b, 0, 10, mpls, in)
	addFlow(t, b, 1, 10, matchOf(flow.FieldEthType, int(flow.EthTypeIPv6)),
		apply(Action{Type: ActSetNwTTL, TTL: 32}, outAct(2)))
	r := &dpif.Revalidation{Key: u.Key, Mask: u.Mask, Actions: u.Actions, Ref: u.Ref}
	if err := o.Revalidate(r); err != nil {
		t.Fatal(err)
	}
	if !r.Delete {
		t.Errorf("megaflow kept with actions %+v, want it deleted", r.Actions)
	}
}
