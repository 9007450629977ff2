package bridge

import "testing"

// TestBarrierRevalidatesOnlyForChangesInFlight: a barrier after changes
// that each ended in their own revalidation revalidates nothing; a
// barrier while a change is numbered but not yet revalidated (another
// goroutine's) revalidates once, and covers it.
func TestBarrierRevalidatesOnlyForChangesInFlight(t *testing.T) {
	var rounds int
	c := changeSync{revalidate: func() { rounds++ }}
	c.barrier()
	if rounds != 0 {
		t.Fatalf("barrier with no change: %d rounds", rounds)
	}
	for range 3 { // three flow-mods, each with its barrier
		c.revalidateFor(c.change())
		c.barrier()
	}
	if rounds != 3 {
		t.Fatalf("3 changes and 3 barriers: %d rounds, want 3", rounds)
	}
	n := c.change() // in flight: its own revalidation has not run yet
	c.barrier()
	if rounds != 4 || c.synced.Load() != n {
		t.Fatalf("barrier over a change in flight: %d rounds, synced %d, want 4, %d", rounds, c.synced.Load(), n)
	}
	c.revalidateFor(n) // the change's own revalidation still runs
	c.barrier()
	if rounds != 5 {
		t.Fatalf("rounds %d, want 5", rounds)
	}
	// An older change finishing late does not move synced back.
	old := c.change()
	newer := c.change()
	c.revalidateFor(newer)
	c.revalidateFor(old)
	if c.synced.Load() != newer {
		t.Fatalf("synced %d, want %d", c.synced.Load(), newer)
	}
}
