package afxdp

// completionQueue is the UMEM completion ring: frames the kernel has sent
// and gives back. Only the owning tx queue's user touches it.
type completionQueue struct{ ring }

// reap appends the completed frames to free and returns it.
func (q *completionQueue) reap(free []uint64) []uint64 {
	n := q.available()
	for i := range n {
		free = append(free, *q.addr(q.cachedCons + i))
	}
	if n != 0 {
		q.release(n)
	}
	return free
}
