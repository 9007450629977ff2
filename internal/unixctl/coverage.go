package unixctl

import (
	"fmt"
	"hash/crc32"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// coverage/show, as OVS's lib/coverage.c prints it: every counter's average
// rate over the last 5 seconds, minute and hour, and its total. The
// counters are not incremented here: sources report totals they already
// keep (the datapath's per-PMD integers, the server's own), and a sampler
// records those totals every 5 seconds, so rates cost nothing on any hot
// path.

// coverageInterval is the sampling period; OVS's is 5 s too.
var coverageInterval = 5 * time.Second

const (
	samplesPerMinute = 12
	samplesPerHour   = 720
)

type coverage struct {
	mu      sync.Mutex
	sources []func(add func(name string, v uint64)) // +checklocks:mu
	// history holds the totals at each sample, newest last, at most
	// samplesPerHour+1 entries.
	history []map[string]uint64 // +checklocks:mu
}

func newCoverage() *coverage { return &coverage{} }

// AddCounters registers a source of coverage counters: fn reports each
// counter's current total by calling add. Totals must only grow.
func (s *Server) AddCounters(fn func(add func(name string, v uint64))) {
	s.cov.mu.Lock()
	s.cov.sources = append(s.cov.sources, fn)
	s.cov.mu.Unlock()
}

// collectCounters reads every source now.
func (s *Server) collectCounters() map[string]uint64 {
	s.cov.mu.Lock()
	srcs := slices.Clone(s.cov.sources)
	s.cov.mu.Unlock()
	m := map[string]uint64{}
	for _, fn := range srcs {
		fn(func(name string, v uint64) { m[name] += v })
	}
	return m
}

func (c *coverage) record(m map[string]uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.history = append(c.history, m)
	if len(c.history) > samplesPerHour+1 {
		c.history = slices.Delete(c.history, 0, len(c.history)-(samplesPerHour+1))
	}
}

func (c *coverage) sampler(wg *sync.WaitGroup, stop <-chan struct{}, collect func() map[string]uint64) {
	defer wg.Done()
	c.record(collect())
	t := time.NewTicker(coverageInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			c.record(collect())
		}
	}
}

// rates returns the average per-second rate of name over the last n
// samples (0 when there is no history that old: the daemon is younger).
func (c *coverage) rate(now map[string]uint64, name string, n int) float64 {
	if len(c.history) == 0 {
		return 0
	}
	i := len(c.history) - n
	if i < 0 {
		i = 0
	}
	then := c.history[i][name]
	cur := now[name]
	if cur < then {
		return 0
	}
	return float64(cur-then) / (float64(n) * coverageInterval.Seconds())
}

func (s *Server) coverageShow(*Call) (string, error) {
	now := s.collectCounters()
	names := slices.Sorted(maps.Keys(now))
	h := crc32.NewIEEE()
	for _, n := range names {
		h.Write([]byte(n))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Event coverage, avg rate over last: %d seconds, last minute, last hour,  hash=%08x:\n",
		int(coverageInterval.Seconds()), h.Sum32())
	s.cov.mu.Lock()
	unused := 0
	for _, n := range names {
		total := now[n]
		if total == 0 {
			unused++
			continue
		}
		fmt.Fprintf(&b, "%-24s %5.1f/sec %9.3f/sec %13.4f/sec   total: %d\n", n,
			s.cov.rate(now, n, 1), s.cov.rate(now, n, samplesPerMinute),
			s.cov.rate(now, n, samplesPerHour), total)
	}
	s.cov.mu.Unlock()
	fmt.Fprintf(&b, "%d events never hit\n", unused)
	return b.String(), nil
}

// AddMemory registers a source for memory/show: fn reports named sizes
// (counts of rules, ports, megaflows, ...) by calling add.
func (s *Server) AddMemory(fn func(add func(name string, v uint64))) {
	s.mu.Lock()
	s.memory = append(s.memory, fn)
	s.mu.Unlock()
}

// memoryShow prints "name:value" pairs sorted by name on one line, as
// OVS's memory/show does, plus the Go runtime's view of the process.
func (s *Server) memoryShow(*Call) (string, error) {
	s.mu.Lock()
	srcs := slices.Clone(s.memory)
	s.mu.Unlock()
	m := map[string]uint64{}
	for _, fn := range srcs {
		fn(func(name string, v uint64) { m[name] += v })
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m["go-heap-kB"] = ms.HeapAlloc / 1024
	m["go-sys-kB"] = ms.Sys / 1024
	m["goroutines"] = uint64(runtime.NumGoroutine())
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s:%d", k, m[k]))
	}
	return strings.Join(parts, " ") + "\n", nil
}
