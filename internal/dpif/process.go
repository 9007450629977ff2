package dpif

import (
	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/packet"
)

// Receive flow, per batch of up to 32 packets from one rx queue:
//
//  1. parse each packet into p.keys[i] (flow.Parse);
//  2. look it up in the EMC, then in the in_port's dpcls; a dpcls hit may
//     be inserted into the EMC;
//  3. a miss goes to the slow path (miss.go), which may install a
//     megaflow;
//  4. packets are grouped by megaflow in arrival order (OVS's
//     packet_batch_per_flow), each group's statistics are counted once and
//     its actions run on the whole group.

// batchState groups one batch's packets by megaflow.
type batchState struct {
	groups  [packet.BatchSize]pktGroup
	ngroups int
	groupOf []uint8 // by megaflow id: group index + 1, 0 when not grouped

	gpkts [packet.BatchSize]*packet.Buffer
	gkeys [packet.BatchSize]*flow.Key
}

type pktGroup struct {
	mf  *megaflow
	n   int
	idx [packet.BatchSize]uint8 // packet indexes in the batch
}

// processBatch runs one received batch from port inPort through the
// datapath.
func (p *pmd) processBatch(snap *snapshot, inPort uint32, b *packet.Batch) {
	cls := snap.classifier(inPort)
	useEMC := p.emc.invProb != 0
	p.ctr.packets += uint64(len(b.Pkts))
	for i, pkt := range b.Pkts {
		pkt.InPort = inPort
		k := &p.keys[i]
		flow.Parse(pkt, k)
		var mf *megaflow
		var h uint32
		if useEMC {
			h = emcHash(k)
			mf = p.emc.lookup(k, h, &snap.flows)
		}
		if mf != nil {
			p.ctr.emcHits++
		} else if cls != nil {
			var sub *subtable
			var n int
			mf, sub, n = cls.lookup(k, &snap.flows, &p.scratch)
			if mf != nil {
				p.ctr.megaflowHits++
				p.ctr.subtableLookups += uint64(n)
				p.countSubtableHit(sub.id)
				if useEMC {
					p.emc.maybeInsert(k, h, mf)
				}
			}
		}
		if mf == nil {
			if mf = p.miss(snap, inPort, pkt, k); mf == nil {
				continue
			}
		}
		p.group(mf, i)
	}
	p.executeGroups(snap, b)
	if p.ninstalled > 0 {
		p.ninstalled = 0
		p.dp.publish()
	}
}

func (p *pmd) countSubtableHit(id uint32) {
	if int(id) >= len(p.subHits) {
		p.subHits = append(p.subHits, make([]uint64, int(id)+1-len(p.subHits))...)
	}
	p.subHits[id]++
}

func (p *pmd) group(mf *megaflow, i int) {
	if int(mf.id) >= len(p.groupOf) {
		p.groupOf = append(p.groupOf, make([]uint8, max(int(mf.id)+1, 2*len(p.groupOf))-len(p.groupOf))...)
	}
	g := p.groupOf[mf.id]
	if g == 0 || p.groups[g-1].mf != mf {
		// A replaced megaflow keeps its id: a new group for the new one.
		g = uint8(p.ngroups + 1)
		p.groups[p.ngroups] = pktGroup{mf: mf}
		p.ngroups++
		p.groupOf[mf.id] = g
	}
	grp := &p.groups[g-1]
	grp.idx[grp.n] = uint8(i)
	grp.n++
}

// executeGroups counts and executes every group, then resets the grouping.
func (p *pmd) executeGroups(snap *snapshot, b *packet.Batch) {
	for gi := 0; gi < p.ngroups; gi++ {
		g := &p.groups[gi]
		var bytes uint64
		var flags uint16
		for j := 0; j < g.n; j++ {
			i := g.idx[j]
			pkt := b.Pkts[i]
			bytes += uint64(pkt.Len)
			flags |= p.keys[i].TCPFlags
			p.gpkts[j] = pkt
			p.gkeys[j] = &p.keys[i]
		}
		p.account(g.mf, g.n, bytes, flags)
		p.execute(snap, p.gpkts[:g.n], p.gkeys[:g.n], g.mf.actions)
		p.groupOf[g.mf.id] = 0
		g.mf = nil
	}
	p.ngroups = 0
}

// account adds a group's packets to its megaflow's per-PMD statistics.
func (p *pmd) account(mf *megaflow, n int, bytes uint64, flags uint16) {
	if int(mf.id) >= len(p.fstats) {
		p.fstats = append(p.fstats, make([]pmdFlowStats, max(int(mf.id)+1, 2*len(p.fstats))-len(p.fstats))...)
	}
	fs := &p.fstats[mf.id]
	if fs.gen != mf.gen {
		// The slot's previous megaflow is gone; its unpublished
		// counts went with it.
		*fs = pmdFlowStats{gen: mf.gen}
	}
	if fs.packets == 0 {
		p.touched = append(p.touched, mf.id)
	}
	fs.packets += uint64(n)
	fs.bytes += bytes
	fs.used = p.now
	fs.tcpFlags |= flags
}
