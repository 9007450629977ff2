package dpif_test

import (
	"fmt"
	"testing"

	"github.com/govs/govs/internal/dpif"
	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/ofproto"
)

// The upcall benchmarks translate with the real OpenFlow pipeline: one
// bridge whose OpenFlow port n is datapath port n, and the rules
//
//	priority=100,in_port=1,udp actions=output:2
//	priority=200,in_port=1,udp,tp_dst=9 actions=drop
//	priority=300,in_port=1,udp,nw_src=192.0.2.1 actions=drop
//
// The other two rules are there for their matches: the classifier looks at
// tp_dst and nw_src for every UDP packet from port 1, so each megaflow
// matches them exactly (as in OVS), and a packet with a new destination
// port or source address is a new megaflow.
func init() { dpif.SetBenchUpcaller(newOfprotoUpcaller) }

func newOfprotoUpcaller(tb testing.TB, ports int) dpif.Upcaller {
	o := ofproto.New(ofproto.Options{})
	br := ofproto.NewBridge("br0")
	for i := 1; i <= ports; i++ {
		if err := br.AddPort(&ofproto.Port{OFPort: uint32(i), Name: fmt.Sprintf("p%d", i), ODPPort: uint32(i)}); err != nil {
			tb.Fatal(err)
		}
	}
	o.AddBridge(br)
	for _, r := range []struct {
		prio  uint16
		match string
		acts  []ofproto.Action
	}{
		{100, "in_port=1,udp", []ofproto.Action{{Type: ofproto.ActOutput, Port: 2, MaxLen: 0xffff}}},
		{200, "in_port=1,udp,tp_dst=9", nil},
		{300, "in_port=1,udp,nw_src=192.0.2.1", nil},
	} {
		k, m, err := flow.ParseMatch(r.match)
		if err != nil {
			tb.Fatal(err)
		}
		fm := ofproto.NewFlowMod(ofproto.FlowAdd)
		fm.Priority = r.prio
		fm.Match = ofproto.Match{Key: k, Mask: m}
		fm.Instructions.Apply = r.acts
		if err := br.FlowMod(fm); err != nil {
			tb.Fatal(err)
		}
	}
	return o
}

// TestOfprotoBenchUpcaller checks what the upcall benchmarks rely on: a
// UDP packet from port 1 is output to datapath port 2 under a megaflow
// that matches nw_src and tp_dst exactly.
func TestOfprotoBenchUpcaller(t *testing.T) {
	up := newOfprotoUpcaller(t, 4)
	var k flow.Key
	k.InPort, k.EthType, k.NwProto, k.NwDst, k.TpDst = 1, 0x0800, 17, 0x0a000002, 1000
	u := &dpif.Upcall{Key: k}
	if err := up.Upcall(u); err != nil {
		t.Fatal(err)
	}
	if len(u.Actions) != 1 || u.Actions[0].Arg != 2 || u.Mask.TpDst != 0xffff || u.Mask.NwSrc != ^uint32(0) || u.NoInstall {
		t.Fatalf("actions %v, mask %+v, no-install %v", u.Actions, u.Mask, u.NoInstall)
	}
}
