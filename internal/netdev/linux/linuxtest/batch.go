package linuxtest

import (
	"testing"

	"github.com/govs/govs/internal/packet"
)

// Batch returns a batch holding copies of frames in frames of a fresh
// Pool, closed when the test ends.
func Batch(t testing.TB, frames ...[]byte) *packet.Batch {
	t.Helper()
	pool, err := packet.NewPool(packet.BatchSize)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	b := packet.NewBatch()
	for i, f := range frames {
		p := b.Slot(i)
		if err := pool.Get(p); err != nil {
			t.Fatal(err)
		}
		if !p.SetLen(len(f)) {
			t.Fatalf("frame %d too long (%d bytes)", i, len(f))
		}
		copy(p.Data(), f)
	}
	b.SetCount(len(frames))
	return b
}

// Receiver is what RecvAll polls: a netdev.RxQueue.
type Receiver interface {
	Recv(b *packet.Batch) (int, error)
}

// RecvFrames polls q until want test frames (EtherType) arrived or timeout
// passes, and returns copies of them by sequence number. Other frames are
// ignored.
func RecvFrames(t testing.TB, q Receiver, want int, timeout func() bool) map[uint32][]byte {
	t.Helper()
	got := map[uint32][]byte{}
	b := packet.NewBatch()
	for len(got) < want && !timeout() {
		n, err := q.Recv(b)
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		for _, p := range b.Pkts[:n] {
			if seq, ok := Seq(p.Data()); ok {
				got[seq] = append([]byte(nil), p.Data()...)
			}
		}
	}
	return got
}
