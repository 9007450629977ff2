package dpif

import (
	"bytes"
	"strings"
	"testing"

	"github.com/govs/govs/internal/capture"
	"github.com/govs/govs/internal/packet"
	"github.com/govs/govs/internal/race"
)

// Programs as tcpdump -ddd -y EN10MB prints them ("udp dst port 80" with
// -s 64, and "tcp"), so the test needs no tcpdump.
const (
	udpPort80Snap64 = "16;40 0 0 12;21 0 4 34525;48 0 0 20;21 0 11 17;40 0 0 56;21 8 9 80;21 0 8 2048;48 0 0 23;21 0 6 17;40 0 0 20;69 4 0 8191;177 0 0 14;72 0 0 16;21 0 1 80;6 0 0 64;6 0 0 0"
	tcpOnly         = "12;40 0 0 12;21 0 2 2048;48 0 0 23;21 6 7 6;21 0 6 34525;48 0 0 20;21 3 0 6;21 0 3 44;48 0 0 54;21 0 1 6;6 0 0 262144;6 0 0 0"
)

func mustFilter(t *testing.T, prog string) *capture.Filter {
	t.Helper()
	f, err := capture.ParseFilter(strings.ReplaceAll(prog, ";", "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// drainRing empties r and returns its records' bytes.
func drainRing(r *capture.Ring) (recs [][]byte, dirs []capture.Direction) {
	for {
		rec, ok := r.Get()
		if !ok {
			return
		}
		recs = append(recs, bytes.Clone(rec.Data))
		dirs = append(dirs, rec.Dir)
		r.Release()
	}
}

// tapRig returns a datapath with dummy ports 1-4, a pool, and n UDP frames
// to port 80 whose destinations send them out of ports 2, 3 and 4 in turn.
func tapRig(t *testing.T, n int) (*Datapath, *packet.Pool, [][]byte) {
	dp, _ := newTestDP(t, Config{}, &testUpcaller{}, 4, map[string]string{"tx_capture": "false"})
	pool, err := packet.NewPool(64)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	var frames [][]byte
	for i := range n {
		frames = append(frames, udpFrame(0x0a000002+uint32(i%3), uint16(i), 80))
	}
	return dp, pool, frames
}

// TestCaptureTaps checks what the hooks hand the taps: the received batch
// on the in_port (rx), the batch sent on an output port (tx), truncated
// to the filter's snap length, nothing for a filter that rejects, and
// nothing once the tap is removed.
func TestCaptureTaps(t *testing.T) {
	dp, pool, frames := tapRig(t, 6)
	rxTap := capture.NewTap(capture.Rx, mustFilter(t, udpPort80Snap64), 0)
	txTap := capture.NewTap(capture.Both, nil, 0) // on port 2: only its tx happens
	tcpTap := capture.NewTap(capture.Both, mustFilter(t, tcpOnly), 0)
	for port, tap := range map[uint32]*capture.Tap{1: rxTap, 2: txTap, 3: tcpTap} {
		if err := dp.AddTap(port, tap); err != nil {
			t.Fatal(err)
		}
	}
	if err := dp.AddTap(9, capture.NewTap(capture.Rx, nil, 0)); err == nil {
		t.Error("tap on a missing port accepted")
	}
	p := dp.pmds[0]
	run := func() {
		b := rxBatch(t, pool, frames)
		snap := dp.snap.Load()
		p.processBatch(snap, 1, b)
		p.flush(snap)
		for _, pk := range b.Pkts {
			pool.Put(pk)
		}
	}
	run()

	recs, dirs := drainRing(rxTap.Ring())
	if len(recs) != len(frames) {
		t.Fatalf("rx tap: %d records, want %d", len(recs), len(frames))
	}
	for i, r := range recs {
		if !bytes.Equal(r, frames[i][:64]) || dirs[i] != capture.Rx {
			t.Errorf("rx record %d: %x %v, want %x rx", i, r, dirs[i], frames[i][:64])
		}
	}
	recs, dirs = drainRing(txTap.Ring())
	if len(recs) != 2 || !bytes.Equal(recs[0], frames[0]) || !bytes.Equal(recs[1], frames[3]) || dirs[0] != capture.Tx {
		t.Errorf("tx tap on port 2: %d records %v, want frames 0 and 3, tx", len(recs), dirs)
	}
	if recs, _ := drainRing(tcpTap.Ring()); len(recs) != 0 {
		t.Errorf("tcp filter let %d UDP packets through", len(recs))
	}
	if s := tcpTap.Stats(); s.Seen != 2 || s.Matched != 0 {
		t.Errorf("tcp tap stats %+v, want 2 seen, 0 matched", s)
	}

	for port, tap := range map[uint32]*capture.Tap{1: rxTap, 2: txTap, 3: tcpTap} {
		dp.RemoveTap(port, tap)
	}
	if dp.taps.cur.Load() != nil {
		t.Error("taps still published after the last capture stopped")
	}
	run()
	if recs, _ := drainRing(rxTap.Ring()); len(recs) != 0 {
		t.Errorf("%d records after RemoveTap", len(recs))
	}
}

// TestCaptureZeroAllocs: with captures running on the in_port and an
// output port (filter, copy into the ring, drain), a PMD batch still
// allocates nothing. (TestSteadyStateZeroAllocs covers captures off.)
func TestCaptureZeroAllocs(t *testing.T) {
	race.SkipAllocs(t)
	dp, pool, frames := tapRig(t, packet.BatchSize)
	b := rxBatch(t, pool, frames)
	rxTap := capture.NewTap(capture.Rx, mustFilter(t, udpPort80Snap64), 0)
	txTap := capture.NewTap(capture.Tx, nil, 0)
	dp.AddTap(1, rxTap)
	dp.AddTap(2, txTap)
	p := dp.pmds[0]
	var got uint64
	run := func() {
		snap := dp.snap.Load()
		p.processBatch(snap, 1, b)
		p.flush(snap)
		for _, r := range []*capture.Ring{rxTap.Ring(), txTap.Ring()} {
			for {
				if _, ok := r.Get(); !ok {
					break
				}
				r.Release()
				got++
			}
		}
	}
	run()
	run()
	if allocs := testing.AllocsPerRun(200, run); allocs != 0 {
		t.Fatalf("%v allocations per batch with captures on", allocs)
	}
	// Two runs above, AllocsPerRun's warm-up and its 200; port 2 gets
	// every third packet.
	if want := uint64((2 + 1 + 200) * (packet.BatchSize + 11)); got != want {
		t.Errorf("%d records drained, want %d", got, want)
	}
}
