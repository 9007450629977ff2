package dpif

import (
	"math/bits"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
	"github.com/govs/govs/internal/packet"
)

// Receive flow, per batch of up to 32 packets from one rx queue, each
// stage a loop over the batch (OVS's dp_netdev_input__):
//
//  1. parse each packet into p.keys[i] (flow.Parse);
//  2. look each key up in the EMC (emcLookups); the misses are a bitmap;
//  3. look the misses up in the in_port's dpcls, subtable by subtable
//     (classifier.lookupBatch); a dpcls hit may be inserted into the EMC;
//  4. send what is left to the slow path (miss.go), which may install
//     megaflows;
//  5. group the packets by megaflow in arrival order (OVS's
//     packet_batch_per_flow), count each group's statistics once and run
//     its actions on the whole group.
//
// Counters are kept in locals and added to the PMD's once per batch.

// batchKeys is the number of keys of a batch; lookups track a batch's
// packets in a uint32 bitmap.
const batchKeys = packet.BatchSize

var _ [32 - batchKeys]struct{} // the bitmaps are uint32

// batchState is one batch's lookup results and grouping by megaflow.
type batchState struct {
	found  [batchKeys]*megaflow // megaflow of packet i; nil: dropped or executed
	hashes [batchKeys]uint32    // EMC hash of packet i

	groups  [batchKeys]pktGroup
	ngroups int
	groupOf []uint8 // by megaflow id: group index + 1, 0 when not grouped

	gpkts [batchKeys]*packet.Buffer
	gkeys [batchKeys]*flow.Key
}

type pktGroup struct {
	mf  *megaflow
	n   int
	idx [batchKeys]uint8 // packet indexes in the batch
}

// processBatch runs one received batch from port inPort through the
// datapath.
func (p *pmd) processBatch(snap *snapshot, inPort uint32, b *packet.Batch) {
	pkts := b.Pkts
	if len(pkts) == 0 {
		return
	}
	pkts = pkts[:min(len(pkts), batchKeys)]
	n := len(pkts)
	for _, pkt := range pkts {
		pkt.InPort = inPort
	}
	if taps := p.dp.taps.cur.Load(); taps != nil {
		taps.rx(inPort, pkts, p.now)
	}
	keys := &p.keys
	simple := flow.ParseBatch(pkts, keys[:])

	all := ^uint32(0) >> (batchKeys - n)
	todo := all
	cls := snap.classifier(inPort)
	useEMC := p.emc.invProb != 0 && (cls == nil || !cls.skipEMC)
	if useEMC {
		todo = p.emc.lookupBatch(keys, n, simple, &snap.flows, &p.found, &p.hashes)
	}
	var megaflowHits, lookups uint64
	if todo != 0 {
		if cls != nil {
			p.sizeSubHits(snap)
			left := cls.lookupBatch(keys, todo, &p.found, &snap.flows, p.subHits, &lookups)
			hit := todo &^ left
			megaflowHits = uint64(popcount(hit))
			if useEMC {
				for m := hit; m != 0; m &= m - 1 {
					i := trailingZeros(m)
					p.emc.maybeInsert(&keys[i], p.hashes[i], p.found[i])
				}
			}
			todo = left
		}
	}
	p.ctr.packets += uint64(n)
	p.ctr.emcHits += uint64(popcount(all&^todo)) - megaflowHits
	p.ctr.megaflowHits += megaflowHits
	p.ctr.subtableLookups += lookups
	for m := todo; m != 0; m &= m - 1 {
		i := trailingZeros(m)
		p.found[i] = p.miss(snap, inPort, pkts[i], &keys[i])
	}

	// Group by megaflow, in arrival order.
	p.sizeGroupOf(snap)
	groupOf, groups, ng := p.groupOf, &p.groups, 0
	for i := range n {
		mf := p.found[i&(batchKeys-1)]
		if mf == nil {
			continue
		}
		id := mf.id
		if int(id) >= len(groupOf) {
			p.growGroupOf(id)
			groupOf = p.groupOf
		}
		g := groupOf[id]
		if g == 0 || groups[(g-1)&(batchKeys-1)].mf != mf {
			// A replaced megaflow keeps its id: a new group for the
			// new one.
			ng++
			g = uint8(ng)
			groupOf[id] = g
			grp := &groups[(g-1)&(batchKeys-1)]
			grp.mf, grp.n = mf, 0
		}
		grp := &groups[(g-1)&(batchKeys-1)]
		grp.idx[grp.n&(batchKeys-1)] = uint8(i)
		grp.n++
	}
	p.ngroups = ng
	p.executeGroups(snap, pkts)
	clear(p.found[:n])
	if p.ninstalled > 0 {
		p.ninstalled = 0
		p.dp.publish()
	}
}

// sizeSubHits makes p.subHits cover every subtable id of snap.
func (p *pmd) sizeSubHits(snap *snapshot) {
	if n := int(snap.subIDs); len(p.subHits) < n {
		p.subHits = append(p.subHits, make([]uint64, n-len(p.subHits))...)
	}
}

// sizeGroupOf makes p.groupOf cover every megaflow id of snap.
func (p *pmd) sizeGroupOf(snap *snapshot) {
	if n := len(snap.flows.chunks) * chunkSize; len(p.groupOf) < n {
		p.growGroupOf(uint32(n - 1))
	}
}

// growGroupOf makes p.groupOf cover megaflow id (one this PMD installed
// after snap was published).
func (p *pmd) growGroupOf(id uint32) {
	p.groupOf = append(p.groupOf, make([]uint8, max(int(id)+1, 2*len(p.groupOf))-len(p.groupOf))...)
}

// executeGroups counts and executes every group, then resets the grouping.
func (p *pmd) executeGroups(snap *snapshot, pkts []*packet.Buffer) {
	for gi := range p.ngroups {
		g := &p.groups[gi&(batchKeys-1)]
		mf, idx := g.mf, g.idx[:min(g.n, batchKeys)]
		p.groupOf[mf.id] = 0
		g.mf = nil
		if acts := mf.actions; len(acts) == 1 && acts[0].Op == odp.OpOutput {
			// The most common megaflow: one output.
			p.outputGroup(snap, mf, acts[0].Arg, pkts, idx)
			continue
		}
		var bytes uint64
		var flags uint16
		for j, i := range idx {
			pkt, k := pkts[i], &p.keys[i&(batchKeys-1)]
			bytes += uint64(pkt.Len)
			flags |= k.TCPFlags
			p.gpkts[j], p.gkeys[j] = pkt, k
		}
		p.account(mf, len(idx), bytes, flags)
		p.execute(snap, p.gpkts[:len(idx)], p.gkeys[:len(idx)], mf.actions)
	}
	p.ngroups = 0
}

// outputGroup counts the received packets pkts[i], i in idx, of megaflow
// mf, whose only action is an output to port, and queues them on port's
// tx batch by pointer: nothing changes them before the flush, which comes
// before their batch is received into again (pmd.rx).
func (p *pmd) outputGroup(snap *snapshot, mf *megaflow, port uint32, pkts []*packet.Buffer, idx []uint8) {
	var bytes uint64
	var flags uint16
	for _, i := range idx {
		bytes += uint64(pkts[i].Len)
		flags |= p.keys[i&(batchKeys-1)].TCPFlags
	}
	p.account(mf, len(idx), bytes, flags)
	if snap.port(port) == nil {
		p.drops.NoPort += uint64(len(idx))
		return
	}
	tb := p.txBatch(port)
	for _, i := range idx {
		pkt := pkts[i]
		if pkt.TruncLen != 0 || pkt.Flags&packet.Copied != 0 {
			// Not as received: the general path.
			p.gpkts[0] = pkt
			p.output(snap, port, p.gpkts[:1], false)
			p.release(p.gpkts[:1])
			continue
		}
		if tb.Len() == packet.BatchSize {
			p.flushPort(snap, port)
		}
		if tb.Len() == 0 {
			p.pending = append(p.pending, port)
		}
		tb.Pkts = append(tb.Pkts, pkt)
	}
}

// account adds a group's packets to its megaflow's per-PMD statistics.
func (p *pmd) account(mf *megaflow, n int, bytes uint64, flags uint16) {
	if int(mf.id) >= len(p.fstats) {
		p.growFlowStats(mf.id)
	}
	fs := &p.fstats[mf.id]
	if fs.gen != mf.gen || fs.packets == 0 {
		p.touch(fs, mf)
	}
	fs.packets += uint64(n)
	fs.bytes += bytes
	fs.used = p.now
	fs.tcpFlags |= flags
}

// touch readies fs for megaflow mf's first counts since the last
// publication.
func (p *pmd) touch(fs *pmdFlowStats, mf *megaflow) {
	if fs.gen != mf.gen {
		// The slot's previous megaflow is gone; its unpublished
		// counts went with it.
		*fs = pmdFlowStats{gen: mf.gen}
	}
	if fs.packets == 0 {
		p.touched = append(p.touched, mf.id)
	}
}

func (p *pmd) growFlowStats(id uint32) {
	p.fstats = append(p.fstats, make([]pmdFlowStats, max(int(id)+1, 2*len(p.fstats))-len(p.fstats))...)
}

func popcount(m uint32) int { return bits.OnesCount32(m) }

// trailingZeros returns the index of the lowest set bit of a non-zero
// batch bitmap.
func trailingZeros(m uint32) int { return bits.TrailingZeros32(m) & (batchKeys - 1) }
