// Package dpif is the userspace datapath (OVS's dpif-netdev): PMD threads
// that poll port receive queues in batches, parse packets into flow keys,
// look them up in the exact-match cache (EMC) and the megaflow classifier
// (dpcls), send misses to the slow path (upcall), execute datapath actions
// with per-port transmit batching, and revalidate megaflows when the
// OpenFlow tables change.
package dpif
