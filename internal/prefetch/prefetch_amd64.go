package prefetch

// Lines prefetches (for reading, into all cache levels) the cache line at
// each address. It is meant to be called once per batch: an assembly call
// costs a few nanoseconds, a prefetch about a cycle.
//
//go:noescape
func Lines(addrs []uintptr)
