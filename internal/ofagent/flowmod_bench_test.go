package ofagent

import (
	"testing"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/ofp/of13"
	"github.com/govs/govs/internal/ofproto"
)

// BenchmarkFlowModDecode13 decodes and converts one OpenFlow 1.3
// flow-mod as bench/flows.sh's bundles carry them (ip,nw_src=x,
// actions=output:2): the per-flow-mod cost of a bundle add before the
// commit.
func BenchmarkFlowModDecode13(b *testing.B) {
	m := ofproto.Match{Key: flow.Key{EthType: 0x0800, NwSrc: 0x0a000001}, Mask: flow.Mask{EthType: 0xffff, NwSrc: 0xffffffff}}
	in := ofproto.Instructions{GotoTable: -1, Apply: []ofproto.Action{{Type: ofproto.ActOutput, Port: 2}}}
	fm := &of13.FlowMod{Xid: 7, Priority: 100, BufferID: ofproto.NoBuffer, OutPort: ofproto.PortAny, OutGroup: ofproto.GroupAny,
		Match: of13.Match{Type: of13.OXMTypeMatch, Fields: TLVsFromMatch(&m, false)}, Instructions: InstructionsTo13(&in)}
	msg := fm.AppendTo(nil)
	b.ReportAllocs()
	for b.Loop() {
		dm, err := of13.Decode(msg)
		if err != nil {
			b.Fatal(err)
		}
		got, err := flowModFrom13(dm.(*of13.FlowMod))
		if err != nil || got.Match != m {
			b.Fatalf("%v %+v", err, got)
		}
	}
}
