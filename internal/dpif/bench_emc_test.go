package dpif

import (
	"encoding/binary"
	"testing"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
	"github.com/govs/govs/internal/packet"
)

// BenchmarkEMCThrash is the PVP benchmark's many-flow mode on one PMD:
// 65 536 UDP flows (destination addresses) that all hit one megaflow
// (in_port, udp), with OVS's default EMC insertion probability (1/100).
// Four more megaflows of the same mask (other IP protocols, no traffic)
// make the subtable a hashed one, which the EMC is not skipped for. The
// EMC holds 8192 entries, so most packets probe it, miss, and find the
// megaflow in the classifier.
func BenchmarkEMCThrash(b *testing.B) { benchManyFlows(b, 4) }

// BenchmarkManyFlowsSkipEMC is the same traffic with only the udp
// megaflow: its subtable lists it, and the PMD skips the EMC.
func BenchmarkManyFlowsSkipEMC(b *testing.B) { benchManyFlows(b, 0) }

// benchManyFlows walks 65 536 UDP flows through one (in_port, udp)
// megaflow, with extra megaflows of the same mask that no packet hits. The
// batch's frames are rewritten in place between iterations.
func benchManyFlows(b *testing.B, extra int) {
	const flows = 1 << 16
	frames := benchFrames(packet.BatchSize, func(i int) uint32 { return 0x0a000000 + uint32(i) })
	r := newBenchRig(b, Config{EMCInsertInvProb: 100}, &testUpcaller{}, frames)
	var k flow.Key
	flow.ParseBytes(frames[0], &k)
	k.InPort = 1
	m := flow.Mask{EthType: 0xffff, NwProto: 0xff}
	for i := range 1 + extra {
		k.NwProto = flow.IPProtoUDP + uint8(i)
		if mf, _ := r.dp.install(1, &k, &m, odp.Actions{odp.Output(2)}, 0); mf == nil {
			b.Fatal("install failed")
		}
	}
	r.dp.publish()
	if skip := r.dp.snap.Load().cls[1].skipEMC; skip != (extra == 0) {
		b.Fatalf("EMC skipped: %v with %d extra megaflows", skip, extra)
	}
	next := uint32(0)
	r.prepare = func() {
		for _, p := range r.batch.Pkts {
			binary.BigEndian.PutUint32(p.Data()[14+16:], 0x0a000000+next%flows)
			next++
		}
	}
	for range flows / packet.BatchSize {
		r.iteration()
	}
	r.run(b)
	b.StopTimer()
	if s := r.dp.PMDStats()[0]; s.Upcalls != 0 || s.EMCHits > s.MegaflowHits {
		b.Fatalf("upcalls %d, EMC hits %d, megaflow hits %d: not the many-flow case", s.Upcalls, s.EMCHits, s.MegaflowHits)
	}
}
