package capture

import (
	"testing"

	"github.com/govs/govs/internal/packet"
)

// BenchmarkTapOffer is what a running capture adds to a PMD per batch of
// 32 64-byte frames: the filter ("arp", which rejects them) or, without
// one, the copy into the ring (drained as it goes).
func BenchmarkTapOffer(b *testing.B) {
	pkts := make([]*packet.Buffer, packet.BatchSize)
	for i := range pkts {
		pkts[i] = &packet.Buffer{}
		pkts[i].Reset(make([]byte, 64), 0, 64)
	}
	arp, _ := ParseFilter(arpProg)
	for _, bc := range []struct {
		name string
		f    *Filter
	}{{"filtered-out", arp}, {"all-copied", nil}} {
		b.Run(bc.name, func(b *testing.B) {
			tap := NewTap(Rx, bc.f, 0)
			b.ReportAllocs()
			for b.Loop() {
				tap.Offer(pkts, 1, Rx)
				for {
					if _, ok := tap.ring.Get(); !ok {
						break
					}
					tap.ring.Release()
				}
			}
		})
	}
}
