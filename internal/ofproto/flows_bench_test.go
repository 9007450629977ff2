package ofproto

import (
	"testing"

	"github.com/govs/govs/internal/flow"
)

// benchBridge holds n rules as bench/flows.sh installs them: one
// priority, exact IPv4 sources, output:2.
func benchBridge(b *testing.B, n int) (*Bridge, []*FlowMod) {
	br := NewBridge("br0")
	fms := make([]*FlowMod, n)
	for i := range fms {
		fm := NewFlowMod(FlowAdd)
		fm.Priority = 100
		fm.Match = Match{Key: flow.Key{EthType: 0x0800, NwSrc: uint32(0x0a000000 + i)},
			Mask: flow.Mask{EthType: 0xffff, NwSrc: 0xffffffff}}
		fm.Apply = []Action{{Type: ActOutput, Port: 2}}
		fms[i] = fm
	}
	if _, err := br.FlowMods(fms); err != nil {
		b.Fatal(err)
	}
	return br, fms
}

// BenchmarkFlows100k is the selection half of dump-flows of 100 000
// rules.
func BenchmarkFlows100k(b *testing.B) {
	br, _ := benchBridge(b, 100000)
	b.ReportAllocs()
	for b.Loop() {
		if n := len(br.Flows(AllFlows())); n != 100000 {
			b.Fatal(n)
		}
	}
}

// BenchmarkDeleteAll100k is del-flows of 100 000 rules (the re-adding is
// not timed).
func BenchmarkDeleteAll100k(b *testing.B) {
	br, fms := benchBridge(b, 100000)
	del := NewFlowMod(FlowDelete)
	del.Table = TableAll
	b.ReportAllocs()
	for b.Loop() {
		if err := br.FlowMod(del); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if _, err := br.FlowMods(fms); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkFlowMods100k is a 100 000-add bundle commit, of packed
// flow-mods as ofagent's bundles hold them.
func BenchmarkFlowMods100k(b *testing.B) {
	br, fms := benchBridge(b, 100000)
	all := [][]PackedFlowMod{make([]PackedFlowMod, len(fms))}
	for i, fm := range fms {
		all[0][i] = fm.Pack()
	}
	del := NewFlowMod(FlowDelete)
	del.Table = TableAll
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		if err := br.FlowMod(del); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := br.FlowModsPacked(all); err != nil {
			b.Fatal(err)
		}
	}
}
