package vhost

import (
	"runtime"
	"sync/atomic"
	"time"
)

// gate arbitrates a ring between the PMD that polls it and the control
// goroutine that reconfigures it, without a lock on the PMD's side: one
// CAS to enter and one store to leave.
//
// The low two bits are the state; the rest counts PMD entries (passes),
// so the control side can tell that a receive queue's PMD came back for
// another Recv and therefore dropped the Buffers of the previous one.
type gate struct{ w atomic.Uint32 }

const (
	gateStopped = 0
	gateIdle    = 1
	gateBusy    = 2
	gateState   = 3
	gatePass    = 4
)

// enter is called by the PMD. It reports whether the ring runs; a pass is
// counted either way.
func (g *gate) enter() bool {
	for {
		v := g.w.Load()
		switch v & gateState {
		case gateIdle:
			if g.w.CompareAndSwap(v, v+gatePass-gateIdle+gateBusy) {
				return true
			}
		case gateStopped:
			if g.w.CompareAndSwap(v, v+gatePass) {
				return false
			}
		default:
			// Another sender shares this tx ring (fewer rings than
			// PMDs); it leaves within one batch.
			runtime.Gosched()
		}
	}
}

// leave ends what enter began (only after enter returned true).
func (g *gate) leave() { g.w.Add(^uint32(0)) } // busy (2) -> idle (1)

// stop is called by the control goroutine: it waits for the PMD to leave
// and keeps it out until start.
func (g *gate) stop() {
	for {
		v := g.w.Load()
		switch v & gateState {
		case gateStopped:
			return
		case gateIdle:
			if g.w.CompareAndSwap(v, v-gateIdle) {
				return
			}
		default:
			time.Sleep(time.Microsecond)
		}
	}
}

// start lets the PMD in. Everything written before is visible to it:
// Go's atomics are sequentially consistent.
func (g *gate) start() {
	for {
		v := g.w.Load()
		if v&gateState != gateStopped || g.w.CompareAndSwap(v, v+gateIdle) {
			return
		}
	}
}

func (g *gate) running() bool { return g.w.Load()&gateState != gateStopped }

// passes returns the entry count, to compare with a later one.
func (g *gate) passes() uint32 { return g.w.Load() &^ gateState }
