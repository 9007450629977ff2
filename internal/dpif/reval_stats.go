package dpif

import (
	"slices"
	"sync/atomic"
	"time"
)

// Revalidation round durations, for the metrics endpoint
// (govs_revalidator_duration_seconds). Rounds are timed on the control
// side; a scrape reads the atomics without taking the revalidator's lock.

// revalBounds are the upper bounds, in seconds, of the duration histogram:
// a round over a few megaflows takes microseconds, one over 100k
// megaflows tens of milliseconds or more.
var revalBounds = [...]float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

type revalTimes struct {
	rounds, sumNs, lastNs atomic.Uint64
	// counts[i]: rounds in (revalBounds[i-1], revalBounds[i]]; the last
	// one counts those beyond every bound.
	counts [len(revalBounds) + 1]atomic.Uint64
}

// record adds the round that began at start (monotime).
func (t *revalTimes) record(start int64) {
	d := uint64(max(monotime()-start, 0))
	secs := float64(d) / 1e9
	i := 0
	for i < len(revalBounds) && secs > revalBounds[i] {
		i++
	}
	t.counts[i].Add(1)
	t.sumNs.Add(d)
	t.lastNs.Store(d)
	t.rounds.Add(1)
}

// RevalidatorStats are the revalidation rounds so far: the periodic ones
// and those run synchronously after OpenFlow or port changes.
type RevalidatorStats struct {
	Rounds uint64
	Sum    time.Duration
	Last   time.Duration
	// Cumulative[i] counts rounds that took at most Bounds[i] seconds.
	Bounds     []float64
	Cumulative []uint64
}

// RevalidatorStats returns the revalidation round durations.
func (dp *Datapath) RevalidatorStats() RevalidatorStats {
	t := &dp.revalTimes
	s := RevalidatorStats{Rounds: t.rounds.Load(), Sum: time.Duration(t.sumNs.Load()),
		Last: time.Duration(t.lastNs.Load()), Bounds: slices.Clone(revalBounds[:]), Cumulative: make([]uint64, len(revalBounds))}
	var c uint64
	for i := range revalBounds {
		c += t.counts[i].Load()
		s.Cumulative[i] = c
	}
	return s
}
