package dpif

import (
	"github.com/govs/govs/internal/packet"
	"github.com/govs/govs/internal/vhost/memfault"
)

// Guest memory faults. A vhost-user port hands out received packets in
// place, in its guest's memory, which the front-end may truncate under
// the switch: parsing such a packet, or another port's Send copying it,
// then faults (SIGBUS). The vhost port contains the faults in its own
// Recv and Send; the rest of a batch's processing runs here, on a PMD
// with debug.SetPanicOnFault set (pmd.run), and processGuarded recovers
// the fault: memfault tells the guest's device, whose port resets, and
// the PMD drops the batch and whatever it queued for output, and goes on
// with its other queues.

// processGuarded is processBatch and the flush after it, with guest
// memory faults contained.
func (p *pmd) processGuarded(snap *snapshot, inPort uint32, b *packet.Batch) {
	defer p.recoverFault()
	p.processBatch(snap, inPort, b)
	p.flush(snap)
}

// recoverFault, deferred, recovers a fault in registered guest memory
// and abandons the batch; any other panic panics again.
func (p *pmd) recoverFault() {
	r := recover()
	if r == nil {
		return
	}
	if _, ok := memfault.Contain(r); !ok {
		panic(r)
	}
	p.ctr.guestFaults++
	p.abandonBatch()
}

// abandonBatch puts the batch state back as processBatch and flush leave
// it, dropping the outputs not sent yet.
func (p *pmd) abandonBatch() {
	for i := range p.groups {
		g := &p.groups[i]
		if g.mf != nil && int(g.mf.id) < len(p.groupOf) {
			p.groupOf[g.mf.id] = 0
		}
		g.mf, g.n = nil, 0
	}
	p.ngroups = 0
	clear(p.found[:])
	if p.ninstalled > 0 {
		p.ninstalled = 0
		p.dp.publish()
	}
	for _, port := range p.pending {
		if int(port) < len(p.tx) && p.tx[port] != nil {
			p.drops.TxFailed += uint64(p.tx[port].Len())
			p.tx[port].Clear()
		}
	}
	p.pending = p.pending[:0]
	for i := range p.toFree {
		p.pool.Put(&p.toFree[i])
	}
	p.toFree = p.toFree[:0]
}
