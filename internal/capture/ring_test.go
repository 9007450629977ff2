package capture

import (
	"encoding/binary"
	"sync"
	"testing"

	"github.com/govs/govs/internal/race"
)

func TestRingFullDropsAndCounts(t *testing.T) {
	r := NewRing(3, 16) // rounds up to 4 slots
	pkt := make([]byte, 40)
	for i := range 6 {
		pkt[0] = byte(i)
		ok := r.Put(pkt, 100, int64(i), Rx)
		if ok != (i < 4) {
			t.Fatalf("put %d: %v", i, ok)
		}
	}
	if r.Dropped() != 2 {
		t.Errorf("dropped %d, want 2", r.Dropped())
	}
	rec, ok := r.Get()
	if !ok || rec.Data[0] != 0 || len(rec.Data) != 16 || rec.OrigLen != 40 || rec.TimeNs != 0 {
		t.Fatalf("first record %+v %v", rec, ok)
	}
	r.Release()
	if !r.Put(pkt[:8], 100, 9, Tx) {
		t.Fatal("put after release failed")
	}
	var got []byte
	for {
		rec, ok := r.Get()
		if !ok {
			break
		}
		got = append(got, rec.Data[0])
		r.Release()
	}
	if string(got) != "\x01\x02\x03\x05" {
		t.Errorf("order %v, want 1 2 3 5", got)
	}
}

// TestRingConcurrentProducers: every record put is read exactly once and
// intact, while four producers race one consumer.
func TestRingConcurrentProducers(t *testing.T) {
	const producers, each = 4, 20000
	r := NewRing(64, 8)
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			var b [8]byte
			for i := range each {
				binary.LittleEndian.PutUint32(b[:], uint32(p))
				binary.LittleEndian.PutUint32(b[4:], uint32(i))
				r.Put(b[:], 8, int64(i), Rx)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	seen := make([]map[uint32]bool, producers)
	for i := range seen {
		seen[i] = map[uint32]bool{}
	}
	read := 0
	check := func() {
		for {
			rec, ok := r.Get()
			if !ok {
				return
			}
			p, i := binary.LittleEndian.Uint32(rec.Data), binary.LittleEndian.Uint32(rec.Data[4:])
			if p >= producers || seen[p][i] || int64(i) != rec.TimeNs {
				t.Fatalf("bad or repeated record p=%d i=%d ts=%d", p, i, rec.TimeNs)
			}
			seen[p][i] = true
			read++
			r.Release()
		}
	}
	for {
		select {
		case <-done:
			check()
			if uint64(read)+r.Dropped() != producers*each {
				t.Fatalf("read %d + dropped %d != %d", read, r.Dropped(), producers*each)
			}
			return
		default:
			check()
		}
	}
}

func TestRingPutAllocs(t *testing.T) {
	race.SkipAllocs(t)
	r := NewRing(8, 64)
	pkt := make([]byte, 60)
	if n := testing.AllocsPerRun(100, func() {
		r.Put(pkt, 64, 1, Rx)
		if _, ok := r.Get(); ok {
			r.Release()
		}
	}); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
