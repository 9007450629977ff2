// Package prefetch asks the CPU to start loading cache lines the datapath
// is about to read, so that the misses of a whole batch overlap instead of
// being taken one packet at a time.
//
// The PMD's first reads of a batch land on memory another core has just
// written: the guest's virtqueue descriptors and packet headers, a NIC's
// frames. Each such read is a cache miss, and when the addresses depend on
// one another (avail entry, then descriptor, then buffer) and packets are
// handled in turn, the misses are serialized. Issuing a prefetch for every
// packet of the batch first lets them proceed in parallel (DPDK does the
// same with rte_prefetch0 in its vhost library and PMDs).
//
// Go has no prefetch intrinsic outside the runtime, so Lines is a small
// assembly loop on amd64 and does nothing elsewhere. A prefetch never
// faults, so a stale or bogus address only wastes the hint.
package prefetch
