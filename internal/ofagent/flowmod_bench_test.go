package ofagent

import (
	"testing"
	"time"

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
		var got ofproto.FlowMod
		err = flowModFrom13(&got, dm.(*of13.FlowMod))
		if err != nil || got.Match != m {
			b.Fatalf("%v %+v", err, got)
		}
	}
}

// BenchmarkDumpFlows100k is the switch's side of `ovs-ofctl dump-flows`
// of bench/flows.sh's 100 000 rules: selecting them and encoding the
// NXST_FLOW replies (not sending them).
func BenchmarkDumpFlows100k(b *testing.B) {
	const n = 100000
	br := ofproto.NewBridge("br0")
	fms := make([]*ofproto.FlowMod, n)
	for i := range fms {
		fm := ofproto.NewFlowMod(ofproto.FlowAdd)
		fm.Priority = 100
		fm.Match = ofproto.Match{Key: flow.Key{EthType: 0x0800, NwSrc: uint32(0x0a000000 + i), NwDst: 0xc0a80001},
			Mask: flow.Mask{EthType: 0xffff, NwSrc: 0xffffffff, NwDst: 0xffffffff}}
		fm.Apply = []ofproto.Action{{Type: ofproto.ActOutput, Port: 2}}
		fms[i] = fm
	}
	if _, err := br.FlowMods(fms); err != nil {
		b.Fatal(err)
	}
	bytes := 0
	p := newReplyPacker(nil, replyBudget-12, func(body []byte, more bool) { bytes += len(body) })
	b.ReportAllocs()
	for b.Loop() {
		bytes = 0
		packFlowStats(p, br.FlowChunks(ofproto.AllFlows(), dumpChunk), time.Now(), nxFlowStats)
		if bytes < n*64 {
			b.Fatalf("%d bytes for %d flows", bytes, n)
		}
	}
}

// BenchmarkBundle100k is the switch's side of bench/flows.sh's bundle,
// but for reading the socket: 100 000 OpenFlow 1.3 flow-mods decoded,
// converted and packed into a bundle as bundleAdd does (the flows share
// their actions, as bench/flows.sh's do), then committed.
func BenchmarkBundle100k(b *testing.B) {
	const n = 100000
	msgs := make([][]byte, n)
	for i := range msgs {
		m := ofproto.Match{Key: flow.Key{EthType: 0x0800, NwSrc: uint32(0x0a000000 + i), NwDst: 0xc0a80001},
			Mask: flow.Mask{EthType: 0xffff, NwSrc: 0xffffffff, NwDst: 0xffffffff}}
		in := ofproto.Instructions{GotoTable: -1, Apply: []ofproto.Action{{Type: ofproto.ActOutput, Port: 2}}}
		fm := &of13.FlowMod{Xid: uint32(i), Priority: 100, BufferID: ofproto.NoBuffer, OutPort: ofproto.PortAny,
			OutGroup: ofproto.GroupAny, Match: of13.Match{Type: of13.OXMTypeMatch, Fields: TLVsFromMatch(&m, false)},
			Instructions: InstructionsTo13(&in)}
		msgs[i] = fm.AppendTo(nil)
	}
	br := ofproto.NewBridge("br0")
	del := ofproto.NewFlowMod(ofproto.FlowDelete)
	del.Table = ofproto.TableAll
	c := &ofconn{}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		if err := br.FlowMod(del); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		var bd bundle
		for _, msg := range msgs {
			if err := c.bundleFlowMod(msg); err != nil {
				b.Fatal(err)
			}
			bd.add(c.bundleFM.Pack())
		}
		if _, err := br.FlowModsPacked(bd.mods); err != nil {
			b.Fatal(err)
		}
	}
}
