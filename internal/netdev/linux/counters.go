package linux

import (
	"sync/atomic"

	"github.com/govs/govs/internal/netdev"
)

// Counters are one queue's packet counters. The queue's PMD is the only
// writer and adds once per batch; Stats may read from any goroutine, which
// is why the fields are atomics (an uncontended add per batch, not per
// packet).
type Counters struct {
	rxPackets, rxBytes, rxDropped, rxErrors atomic.Uint64
	txPackets, txBytes, txDropped, txErrors atomic.Uint64
}

// Rx counts a received batch.
func (c *Counters) Rx(packets, bytes int) {
	if packets != 0 {
		c.rxPackets.Add(uint64(packets))
		c.rxBytes.Add(uint64(bytes))
	}
}

// RxDrop counts packets the port had to drop on receive.
func (c *Counters) RxDrop(n int) { c.rxDropped.Add(uint64(n)) }

// RxError counts receive errors.
func (c *Counters) RxError(n int) { c.rxErrors.Add(uint64(n)) }

// Tx counts a sent batch: sent packets of bytes, dropped ones (no room,
// too big) and errors (the kernel refused).
func (c *Counters) Tx(packets, bytes, dropped, errors int) {
	if packets != 0 {
		c.txPackets.Add(uint64(packets))
		c.txBytes.Add(uint64(bytes))
	}
	if dropped != 0 {
		c.txDropped.Add(uint64(dropped))
	}
	if errors != 0 {
		c.txErrors.Add(uint64(errors))
	}
}

// AddTo adds the counters to s, so a port sums its queues.
func (c *Counters) AddTo(s *netdev.Stats) {
	s.RxPackets += c.rxPackets.Load()
	s.RxBytes += c.rxBytes.Load()
	s.RxDropped += c.rxDropped.Load()
	s.RxErrors += c.rxErrors.Load()
	s.TxPackets += c.txPackets.Load()
	s.TxBytes += c.txBytes.Load()
	s.TxDropped += c.txDropped.Load()
	s.TxErrors += c.txErrors.Load()
}
