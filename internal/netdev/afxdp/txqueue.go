package afxdp

import "golang.org/x/sys/unix"

// txRing is the socket's TX ring: descriptors of frames to send.
type txRing struct{ ring }

// set fills the i-th descriptor after the last published one.
func (q *txRing) set(i uint32, d unix.XDPDesc) { *q.desc(q.cachedProd + i) = d }

// commit publishes n descriptors filled with set.
func (q *txRing) commit(n uint32) {
	q.cachedProd += n
	q.publish()
}
