package dpif

import (
	"sync"

	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/odp"
)

// snapshot is everything a PMD reads to process packets, published by the
// control side through Datapath.snap (RCU-like): a published snapshot and
// everything it points to is never modified; the control side builds a
// new one, stores it, and, when it must know that no PMD still uses the
// old one, waits for every PMD to pass a quiescent point (Datapath.sync).
// The garbage collector reclaims old snapshots once no PMD holds them.
type snapshot struct {
	flows  flowTable
	cls    map[uint32]*classifier // by in_port
	ports  []*dpPort              // by odp port number; nil: none
	meters map[uint32]*odp.Meter
	subIDs uint32 // subtable ids are below this
}

func (s *snapshot) classifier(inPort uint32) *classifier { return s.cls[inPort] }

func (s *snapshot) port(no uint32) *dpPort {
	if int(no) >= len(s.ports) {
		return nil
	}
	return s.ports[no]
}

// dpPort is a port as the datapath sees it.
type dpPort struct {
	no       uint32
	dev      netdev.Netdev
	ntxq     int
	txLocks  []sync.Mutex // per tx queue, when executors share queues
	shared   bool         // fewer tx queues than executors
	affinity map[int]int  // rx queue -> CPU (pmd-rxq-affinity)
}

// txq returns the tx queue executor execIdx sends on, and the lock to hold
// while sending when the queue is shared with another executor.
func (p *dpPort) txq(execIdx int) (int, *sync.Mutex) {
	q := execIdx
	if q >= p.ntxq {
		q %= p.ntxq
	}
	if !p.shared {
		return q, nil
	}
	return q, &p.txLocks[q]
}
