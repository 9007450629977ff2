package afxdp

import "golang.org/x/sys/unix"

// rxRing is the socket's RX ring: descriptors of received frames.
type rxRing struct{ ring }

// peek returns up to max descriptors' start index and count; release them
// with ring.release once read.
func (q *rxRing) peek(max uint32) (uint32, uint32) {
	return q.cachedCons, min(q.available(), max)
}

func (q *rxRing) get(i uint32) unix.XDPDesc { return *q.desc(i) }
