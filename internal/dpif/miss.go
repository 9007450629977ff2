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
	for j := 0; j < p.ninstalled; j++ {
		if maskedEqual(k, &p.installMasks[j], &p.installed[j].key) {
			// As OVS re-runs dpcls after an upcall: a megaflow hit.
			p.ctr.megaflowHits++
			p.ctr.subtableLookups++
			return p.installed[j]
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
		if mf := p.dp.install(inPort, k, &u.Mask, u.Actions, u.Ref); mf != nil {
			if p.ninstalled < len(p.installed) {
				p.installed[p.ninstalled] = mf
				p.installMasks[p.ninstalled] = u.Mask
				p.ninstalled++
			}
			return mf
		}
	}
	p.gpkts[0], p.gkeys[0] = pkt, k
	p.execute(snap, p.gpkts[:1], p.gkeys[:1], u.Actions)
	return nil
}

// maskedEqual reports whether k masked by m equals the masked key mk.
func maskedEqual(k *flow.Key, m *flow.Mask, mk *flow.Key) bool {
	kw, mw, fw := k.Words(), m.Words(), mk.Words()
	for i := range kw {
		if kw[i]&mw[i] != fw[i] {
			return false
		}
	}
	return true
}
