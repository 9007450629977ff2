package afxdp

// fillQueue is the UMEM fill ring: frames we give the kernel to receive
// into. Only the owning rx queue's PMD touches it.
type fillQueue struct{ ring }

// put queues frame addresses; the caller checked free(len(addrs)).
func (q *fillQueue) put(addrs []uint64) {
	for _, a := range addrs {
		*q.addr(q.cachedProd) = a
		q.cachedProd++
	}
	q.publish()
}
