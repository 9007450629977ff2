package dpif

import (
	"slices"
	"testing"
)

// TestRevalidatorStats: every Revalidate is a timed round, in a bucket
// that holds its duration.
func TestRevalidatorStats(t *testing.T) {
	dp, _ := newTestDP(t, Config{}, &testUpcaller{}, 2, nil)
	before := dp.RevalidatorStats()
	for range 3 {
		dp.Revalidate()
	}
	s := dp.RevalidatorStats()
	if s.Rounds != before.Rounds+3 || s.Sum <= before.Sum || s.Last <= 0 || s.Last > s.Sum {
		t.Fatalf("after 3 rounds: %+v (before %+v)", s, before)
	}
	if !slices.IsSorted(s.Cumulative) || s.Cumulative[len(s.Cumulative)-1] > s.Rounds {
		t.Errorf("cumulative buckets %v for %d rounds", s.Cumulative, s.Rounds)
	}
	// The last round lies in the first bucket whose bound covers it.
	i, _ := slices.BinarySearch(s.Bounds, s.Last.Seconds())
	if i < len(s.Bounds) && s.Cumulative[i] == 0 {
		t.Errorf("round of %v not counted in bucket %v: %v", s.Last, s.Bounds[i], s.Cumulative)
	}
}
