package capture

import (
	"fmt"
	"sync/atomic"

	"github.com/govs/govs/internal/packet"
)

// Direction says on which side of a port a packet was seen.
type Direction uint8

// Directions; a capture asks for Rx, Tx or both.
const (
	Rx   Direction = 1 << iota // received on the port
	Tx                         // transmitted on the port
	Both = Rx | Tx
)

// ParseDirection reads "rx", "tx" or "both".
func ParseDirection(s string) (Direction, error) {
	switch s {
	case "rx", "in":
		return Rx, nil
	case "tx", "out":
		return Tx, nil
	case "both", "inout", "":
		return Both, nil
	}
	return 0, fmt.Errorf("direction %q: want rx, tx or both", s)
}

func (d Direction) String() string {
	switch d {
	case Rx:
		return "rx"
	case Tx:
		return "tx"
	case Both:
		return "both"
	}
	return fmt.Sprintf("direction(%d)", uint8(d))
}

// Tap is one running capture on one port: what the datapath offers the
// port's packets to.
type Tap struct {
	Dir    Direction
	filter *Filter // nil: every packet
	snap   int
	ring   *Ring
	seen   atomic.Uint64 // packets offered in Dir
	match  atomic.Uint64 // of those, accepted by the filter
}

// Ring sizing: about 8 MiB of records per capture, between 64 and 4096
// slots of up to maxSlot bytes (a 9000-byte jumbo frame plus headers).
const (
	ringBytes = 8 << 20
	maxSlot   = 9216
	minSlots  = 64
	maxSlots  = 4096
)

// NewTap returns a tap keeping up to snap bytes of the packets seen in
// dir that filter accepts (nil: all).
func NewTap(dir Direction, filter *Filter, snap int) *Tap {
	if snap <= 0 {
		snap = DefaultSnapLen
	}
	slotCap := min(snap, maxSlot)
	n := min(max(ringBytes/slotCap, minSlots), maxSlots)
	return &Tap{Dir: dir, filter: filter, snap: snap, ring: NewRing(n, slotCap)}
}

// DefaultSnapLen is tcpdump's default snapshot length.
const DefaultSnapLen = 262144

// Ring returns the tap's ring (its consumer drains it).
func (t *Tap) Ring() *Ring { return t.ring }

// Offer copies the packets of pkts that the filter accepts into the ring.
// dir is the side they were seen on (the caller checked t.Dir). It runs
// on the PMD and allocates nothing.
func (t *Tap) Offer(pkts []*packet.Buffer, ts int64, dir Direction) {
	t.seen.Add(uint64(len(pkts)))
	var matched uint64
	for _, p := range pkts {
		data := p.Data()
		snap := t.snap
		if t.filter != nil {
			if snap = min(snap, t.filter.Match(data)); snap == 0 {
				continue
			}
		}
		matched++
		t.ring.Put(data, snap, ts, dir)
	}
	t.match.Add(matched)
}

// Stats are a capture's counts so far.
type Stats struct {
	Seen    uint64 // packets the tap was offered
	Matched uint64 // of those, accepted by the filter
	Dropped uint64 // of those, lost because the ring was full
}

// Stats returns the tap's counts.
func (t *Tap) Stats() Stats {
	return Stats{Seen: t.seen.Load(), Matched: t.match.Load(), Dropped: t.ring.Dropped()}
}
