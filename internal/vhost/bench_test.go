package vhost_test

import (
	"fmt"
	"testing"

	"github.com/govs/govs/internal/packet"
)

// BenchmarkPVPLoop is the vhost half of one PMD iteration of the PVP loop
// on one device: Recv what the guest transmitted, Send it back into the
// guest's receive ring, and the guest reposting both rings, as testpmd does
// (interrupts off: VRING_AVAIL_F_NO_INTERRUPT). ns/op is per batch; batch1
// is the latency-bound io loop, where per-call costs dominate. Run it under
// valgrind --tool=callgrind for noise-free instruction counts.
func BenchmarkPVPLoop(b *testing.B) {
	for _, n := range []int{1, 4, packet.BatchSize} {
		b.Run(fmt.Sprintf("batch%d", n), func(b *testing.B) {
			r := start(b, 1, allFeatures, 256)
			tx, rx := r.q(1), r.q(0)
			tx.SetAvailFlags(1)
			rx.SetAvailFlags(1)
			heads := make([]uint16, n)
			for i := range heads {
				heads[i] = tx.PostTx(frame(60, byte(i)))
			}
			rxHeads := rx.PostRx(n, 2048)
			rxq := r.dev.RxQueues()[0]
			b.ReportAllocs()
			for b.Loop() {
				if got, _ := rxq.Recv(r.batch); got != n {
					b.Fatalf("Recv = %d, want %d", got, n)
				}
				if sent := r.dev.Send(0, r.batch); sent != n {
					b.Fatalf("Send = %d, want %d", sent, n)
				}
				tx.Publish(heads...)
				rx.Publish(rxHeads...)
			}
			if c := rx.Calls() + tx.Calls(); c != 0 {
				b.Errorf("%d interrupts despite VRING_AVAIL_F_NO_INTERRUPT", c)
			}
		})
	}
}
