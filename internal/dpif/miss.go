package dpif

import (
	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/packet"
)

// miss handles a packet that neither cache knew, on the PMD goroutine
// (OVS's handle_packet_upcall): a megaflow installed earlier in the same
// batch may cover it; otherwise the slow path translates it and the
// datapath installs the result. It returns the megaflow to group the
// packet with, or nil when the packet was already executed or dropped.
func (p *pmd) miss(snap *snapshot, inPort uint32, pkt *packet.Buffer, k *flow.Key) *megaflow {
	kw := k.Words()
	for j := range p.ninstalled {
		if mf, s := p.installed[j], p.installedSub[j]; s.matchesKey(kw, mf.key.Words()) {
			// As OVS re-runs dpcls after an upcall: a megaflow hit.
			p.ctr.megaflowHits++
			p.ctr.subtableLookups++
			return mf
		}
	}
	u := &p.upcall
	u.Key = *k
	u.Packet = pkt
	u.Mask = flow.Mask{}
	u.Actions = u.Actions[:0]
	u.Ref = 0
	u.NoInstall = false
	p.ctr.upcalls++
	if err := p.dp.up.Upcall(u); err != nil {
		p.ctr.lost++
		p.drops.UpcallLost++
		p.gpkts[0] = pkt
		p.release(p.gpkts[:1])
		return nil
	}
	if !u.NoInstall {
		if mf, s := p.dp.install(inPort, k, &u.Mask, u.Actions, u.Ref); mf != nil {
			if p.ninstalled < len(p.installed) {
				p.installed[p.ninstalled] = mf
				p.installedSub[p.ninstalled] = s
				p.ninstalled++
			}
			return mf
		}
	}
	p.gpkts[0], p.gkeys[0] = pkt, k
	p.execute(snap, p.gpkts[:1], p.gkeys[:1], u.Actions)
	return nil
}
