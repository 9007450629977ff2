package bridge

import "sync/atomic"

// A BARRIER_REPLY promises that every change the messages before it made
// is in force in the datapath. Every bridge change already ends in a
// synchronous revalidation (bridgeChanged), so a barrier usually has
// nothing left to wait for: plain ovs-ofctl sends a barrier after every
// flow-mod, and revalidating again for it doubled the work of each round
// trip. The barrier revalidates only when a change is still in flight on
// another goroutine (an OVSDB reconfiguration, a learned flow).
//
// Changes are numbered after they are visible in their bridge, so a
// revalidation that starts after change n was numbered sees n and every
// change numbered before it.
type changeSync struct {
	changes atomic.Uint64 // changes numbered so far
	synced  atomic.Uint64 // every change up to this one is in force
	// revalidate is the datapath's synchronous revalidation.
	revalidate func()
}

// change numbers a change that is now visible in its bridge.
func (c *changeSync) change() uint64 { return c.changes.Add(1) }

// revalidateFor revalidates for change n.
func (c *changeSync) revalidateFor(n uint64) {
	c.revalidate()
	for {
		old := c.synced.Load()
		if old >= n || c.synced.CompareAndSwap(old, n) {
			return
		}
	}
}

// barrier returns when every change numbered so far is in force.
func (c *changeSync) barrier() {
	if n := c.changes.Load(); c.synced.Load() < n {
		c.revalidateFor(n)
	}
}
