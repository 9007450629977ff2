package vhost_test

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/govs/govs/internal/packet"
	"github.com/govs/govs/internal/race"
	"github.com/govs/govs/internal/vhost"
	"github.com/govs/govs/internal/vhost/vhosttest"
)

func batchOf(pkts ...[]byte) *packet.Batch {
	b := packet.NewBatch()
	for i, p := range pkts {
		b.Slot(i).Reset(p, 0, len(p))
	}
	b.SetCount(len(pkts))
	return b
}

// inside reports whether b is guest memory itself (the front-end's and
// the device's mappings differ, so it finds b's bytes in mem and flips one).
func inside(b, mem []byte) bool {
	i := bytes.Index(mem, b)
	if i < 0 {
		return false
	}
	mem[i] ^= 0xff
	in := b[0] == mem[i]
	mem[i] ^= 0xff
	return in
}

func TestNegotiation(t *testing.T) {
	r := connect(t, newDevice(t, 2))
	p, err := r.fe.Call(vhost.ReqGetFeatures, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := binary.LittleEndian.Uint64(p)
	for _, bit := range []uint64{vhost.FeatVersion1, vhost.FeatNetMrgRxbuf, vhost.FeatRingEventIdx,
		vhost.FeatNetMQ, vhost.FeatNetMTU, vhost.FeatProtocolFeatures, vhost.FeatRingIndirectDesc, vhost.FeatInOrder} {
		if f&bit == 0 {
			t.Errorf("feature %#x not offered (%#x)", bit, f)
		}
	}
	if err := r.fe.Start(allFeatures, allProto, 2, 64); err != nil {
		t.Fatal(err)
	}
	inf := r.dev.Info()
	if !inf.Connected || inf.Features != allFeatures || inf.ProtocolFeatures != allProto || inf.QueuePairs != 2 {
		t.Errorf("Info = %+v", inf)
	}
	p, _ = r.fe.Call(vhost.ReqGetQueueNum, nil)
	if binary.LittleEndian.Uint64(p) != 2 {
		t.Errorf("GET_QUEUE_NUM = %d", binary.LittleEndian.Uint64(p))
	}
	if st, err := r.fe.Ack(vhost.ReqNetSetMTU, vhosttest.U64(9000)); err != nil || st != 0 {
		t.Errorf("NET_SET_MTU ack %d, %v", st, err)
	}
	if st, err := r.fe.Ack(vhost.ReqSetLogFD, nil); err != nil || st == 0 {
		t.Errorf("SET_LOG_FD ack %d (want refusal), %v", st, err)
	}
	if r.dev.Info().MTU != 9000 || r.dev.Info().LastError == nil {
		t.Errorf("Info after MTU and refused log fd = %+v", r.dev.Info())
	}
}

func TestRecvInPlace(t *testing.T) {
	r := start(t, 1, allFeatures, 64)
	tx := r.q(1)
	var want [][]byte
	for i := range 3 {
		want = append(want, frame(60+i, byte(i)))
		tx.PostTx(want[i])
	}
	got := r.recv(t, 0)
	if len(got) != 3 {
		t.Fatalf("Recv = %d packets, want 3", len(got))
	}
	for i, p := range got {
		if !bytes.Equal(p.Data(), want[i]) || p.Flags&packet.ReadOnly == 0 || !inside(p.Data(), r.fe.Mem) {
			t.Errorf("packet %d: %x flags %#x, want %x in place, read-only", i, p.Data(), p.Flags, want[i])
		}
	}
	if u := tx.TakeUsed(); len(u) != 0 {
		t.Fatalf("used before the next Recv: %v", u)
	}
	r.recv(t, 0)
	if u := tx.TakeUsed(); len(u) != 3 || u[0].Len != 0 {
		t.Fatalf("used after the next Recv: %v", u)
	}
	if tx.UsedFlags()&1 == 0 {
		t.Error("VRING_USED_F_NO_NOTIFY not set: the guest would kick a polling back-end")
	}
	if c := tx.Calls(); c != 1 {
		t.Errorf("%d interrupts for one used batch, want 1", c)
	}
	st := stats(r.dev)
	if st[0] != 3 {
		t.Errorf("rx packets = %d", st[0])
	}
}

func stats(d *vhost.Device) [8]uint64 {
	a, b, c, e, f, g, h, i := d.Stats()
	return [8]uint64{a, b, c, e, f, g, h, i}
}

// TestRecvChains covers the layouts guests use: header in its own
// descriptor (in place), packets scattered (gathered), indirect tables.
func TestRecvChains(t *testing.T) {
	pkt := frame(300, 7)
	for _, tc := range []struct {
		name    string
		inPlace bool
		layout  func(r *rig) uint16
	}{
		{"header-split", true, func(r *rig) uint16 {
			q := r.q(1)
			h := r.fe.Alloc(12, 8)
			d := r.fe.Alloc(len(pkt), 8)
			copy(r.fe.Mem[d:], pkt)
			id := q.AllocDescs(2)
			q.WriteDesc(id, vhosttest.Desc{Addr: vhosttest.GPA(h), Len: 12, Flags: vhosttest.DescNext, Next: id + 1})
			q.WriteDesc(id+1, vhosttest.Desc{Addr: vhosttest.GPA(d), Len: uint32(len(pkt))})
			return id
		}},
		{"scattered", false, func(r *rig) uint16 {
			q := r.q(1)
			d := r.fe.Alloc(12+len(pkt), 8)
			copy(r.fe.Mem[d+12:], pkt)
			id := q.AllocDescs(3)
			q.WriteDesc(id, vhosttest.Desc{Addr: vhosttest.GPA(d), Len: 40, Flags: vhosttest.DescNext, Next: id + 1})
			q.WriteDesc(id+1, vhosttest.Desc{Addr: vhosttest.GPA(d + 40), Len: 100, Flags: vhosttest.DescNext, Next: id + 2})
			q.WriteDesc(id+2, vhosttest.Desc{Addr: vhosttest.GPA(d + 140), Len: uint32(12 + len(pkt) - 140)})
			return id
		}},
		{"indirect", true, func(r *rig) uint16 {
			q := r.q(1)
			h := r.fe.Alloc(12, 8)
			d := r.fe.Alloc(len(pkt), 8)
			copy(r.fe.Mem[d:], pkt)
			tbl := r.fe.Alloc(32, 16)
			r.fe.WriteDesc(tbl, 0, vhosttest.Desc{Addr: vhosttest.GPA(h), Len: 12, Flags: vhosttest.DescNext, Next: 1})
			r.fe.WriteDesc(tbl, 1, vhosttest.Desc{Addr: vhosttest.GPA(d), Len: uint32(len(pkt))})
			id := q.AllocDescs(1)
			q.WriteDesc(id, vhosttest.Desc{Addr: vhosttest.GPA(tbl), Len: 32, Flags: vhosttest.DescIndirect})
			return id
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := start(t, 1, allFeatures, 64)
			r.q(1).Publish(tc.layout(r))
			got := r.recv(t, 0)
			if len(got) != 1 || !bytes.Equal(got[0].Data(), pkt) {
				t.Fatalf("Recv = %d packets %v", len(got), got)
			}
			if in := inside(got[0].Data(), r.fe.Mem); in != tc.inPlace {
				t.Errorf("in place = %v, want %v", in, tc.inPlace)
			}
			if ro := got[0].Flags&packet.ReadOnly != 0; ro != tc.inPlace {
				t.Errorf("read-only = %v, want %v", ro, tc.inPlace)
			}
		})
	}
}

func TestSendMergeable(t *testing.T) {
	r := start(t, 1, allFeatures, 64)
	rx := r.q(0)
	rx.PostRx(4, 1024)
	small, big := frame(100, 1), frame(1500, 2)
	if n := r.dev.Send(0, batchOf(small, big)); n != 2 {
		t.Fatalf("Send = %d, want 2", n)
	}
	u := rx.TakeUsed()
	if len(u) != 3 || u[0].Len != 112 || u[1].Len != 1024 || u[2].Len != 12+1500-1024 {
		t.Fatalf("used = %v", u)
	}
	b0 := rx.DescBytes(u[0].ID, u[0].Len)
	if binary.LittleEndian.Uint16(b0[10:]) != 1 || !bytes.Equal(b0[12:], small) {
		t.Errorf("first packet: header %x", b0[:12])
	}
	b1 := rx.DescBytes(u[1].ID, u[1].Len)
	b2 := rx.DescBytes(u[2].ID, u[2].Len)
	if binary.LittleEndian.Uint16(b1[10:]) != 2 || !bytes.Equal(append(b1[12:], b2...), big) {
		t.Errorf("second packet spread wrong: num_buffers %d", binary.LittleEndian.Uint16(b1[10:]))
	}
	if c := rx.Calls(); c != 1 {
		t.Errorf("%d interrupts for one batch", c)
	}
	// One buffer left: a packet needing two is dropped, not half-written.
	if n := r.dev.Send(0, batchOf(big)); n != 0 {
		t.Errorf("Send without room = %d", n)
	}
	if u := rx.TakeUsed(); len(u) != 0 {
		t.Errorf("used after a dropped packet: %v", u)
	}
	if n := r.dev.Send(0, batchOf(small)); n != 1 {
		t.Errorf("the remaining buffer was lost: Send = %d", n)
	}
	if st := stats(r.dev); st[4] != 3 || st[6] != 1 {
		t.Errorf("tx packets %d dropped %d, want 3, 1", st[4], st[6])
	}
}

// TestSendHeaderOverStale: a receive buffer holds whatever its last use
// left, a stale header or garbage; every packet still gets exactly the
// header of a one-buffer packet.
func TestSendHeaderOverStale(t *testing.T) {
	r := start(t, 1, allFeatures, 64)
	rx := r.q(0)
	heads := rx.PostRx(3, 256)
	want := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}
	for i, fill := range []byte{0xff, 0, 0} {
		b := rx.DescBytes(heads[i], 256)
		for j := range b {
			b[j] = fill
		}
	}
	copy(rx.DescBytes(heads[2], 12), want) // already right
	rx.DescBytes(heads[1], 12)[10] = 2     // a stale num_buffers
	pkt := frame(60, 7)
	if n := r.dev.Send(0, batchOf(pkt, pkt, pkt)); n != 3 {
		t.Fatalf("Send = %d, want 3", n)
	}
	for _, u := range rx.TakeUsed() {
		b := rx.DescBytes(u.ID, u.Len)
		if !bytes.Equal(b[:12], want) || !bytes.Equal(b[12:], pkt) {
			t.Errorf("buffer %d: header %x, packet equal %v", u.ID, b[:12], bytes.Equal(b[12:], pkt))
		}
	}
}

// TestUsedInAvailOrder: with VIRTIO_F_IN_ORDER offered, both rings must
// use buffers in the order the guest made them available: a dropped chain
// (header only) between two packets is returned between them, and receive
// buffers are used in the order they were posted.
func TestUsedInAvailOrder(t *testing.T) {
	r := start(t, 1, allFeatures|vhost.FeatInOrder, 64)
	tx := r.q(1)
	a := tx.PostTx(frame(60, 1))
	off := r.fe.Alloc(vhosttest.HdrLen, 8)
	empty := tx.AllocDescs(1)
	tx.WriteDesc(empty, vhosttest.Desc{Addr: vhosttest.GPA(off), Len: vhosttest.HdrLen})
	tx.Publish(empty)
	b := tx.PostTx(frame(60, 2))
	if got := r.recv(t, 0); len(got) != 2 {
		t.Fatalf("Recv = %d packets, want 2", len(got))
	}
	r.recv(t, 0) // returns the chains
	var ids []uint16
	for _, u := range tx.TakeUsed() {
		ids = append(ids, u.ID)
	}
	if want := []uint16{a, empty, b}; !slices.Equal(ids, want) {
		t.Errorf("transmit ring used %v, want %v", ids, want)
	}

	rx := r.q(0)
	heads := rx.PostRx(3, 2048)
	if n := r.dev.Send(0, batchOf(frame(60, 3), frame(1500, 4), frame(60, 5))); n != 3 {
		t.Fatalf("Send = %d, want 3", n)
	}
	ids = ids[:0]
	for _, u := range rx.TakeUsed() {
		ids = append(ids, u.ID)
	}
	if !slices.Equal(ids, heads) {
		t.Errorf("receive ring used %v, want %v", ids, heads)
	}
}

func TestSendWithoutMergeable(t *testing.T) {
	r := start(t, 1, allFeatures&^vhost.FeatNetMrgRxbuf, 64)
	rx := r.q(0)
	rx.PostRx(2, 1024)
	if n := r.dev.Send(0, batchOf(frame(1500, 0), frame(500, 3))); n != 1 {
		t.Fatalf("Send = %d, want 1 (the big packet fits no buffer)", n)
	}
	u := rx.TakeUsed()
	if len(u) != 1 || u[0].Len != 512 {
		t.Fatalf("used = %v", u)
	}
}

func TestInterruptSuppression(t *testing.T) {
	t.Run("no-interrupt", func(t *testing.T) {
		r := start(t, 1, allFeatures, 64)
		rx := r.q(0)
		rx.SetAvailFlags(1)
		rx.PostRx(4, 256)
		r.dev.Send(0, batchOf(frame(60, 0)))
		if c := rx.Calls(); c != 0 {
			t.Errorf("interrupted despite VRING_AVAIL_F_NO_INTERRUPT")
		}
	})
	t.Run("event-idx", func(t *testing.T) {
		r := start(t, 1, allFeatures|vhost.FeatRingEventIdx, 64)
		rx := r.q(0)
		rx.PostRx(8, 256)
		rx.SetUsedEvent(2) // interrupt when used idx passes 2
		r.dev.Send(0, batchOf(frame(60, 0), frame(60, 0)))
		if c := rx.Calls(); c != 0 {
			t.Errorf("interrupt at used idx 2, used_event 2")
		}
		r.dev.Send(0, batchOf(frame(60, 0)))
		if c := rx.Calls(); c != 1 {
			t.Errorf("no interrupt when used idx went past used_event")
		}
	})
}

func TestMultiqueue(t *testing.T) {
	r := start(t, 2, allFeatures, 64)
	if got := r.dev.Info().QueuePairs; got != 2 {
		t.Fatalf("QueuePairs = %d", got)
	}
	r.q(3).PostTx(frame(64, 9))
	if got := r.recv(t, 0); len(got) != 0 {
		t.Errorf("queue 0 received pair 1's packet")
	}
	if got := r.recv(t, 1); len(got) != 1 {
		t.Errorf("queue 1 received %d", len(got))
	}
	r.q(2).PostRx(1, 256)
	if n := r.dev.Send(1, batchOf(frame(64, 0))); n != 1 || len(r.q(2).TakeUsed()) != 1 {
		t.Errorf("Send on qid 1 did not reach ring 2")
	}
	// Disabling pair 1 maps its tx qid onto pair 0; its rxq goes quiet.
	r.fe.Send(vhost.ReqSetVringEnable, 0, vhosttest.State(2, 0))
	r.fe.Sync()
	r.q(0).PostRx(1, 256)
	if n := r.dev.Send(1, batchOf(frame(64, 0))); n != 1 || len(r.q(0).TakeUsed()) != 1 {
		t.Errorf("Send on qid 1 with pair 1 disabled did not reach ring 0")
	}
	if got := r.dev.Info().QueuePairs; got != 1 || !r.dev.LinkUp() {
		t.Errorf("QueuePairs = %d link %v, want 1 up", got, r.dev.LinkUp())
	}
}

func TestGetVringBase(t *testing.T) {
	r := start(t, 1, allFeatures, 64)
	tx := r.q(1)
	for range 5 {
		tx.PostTx(frame(60, 0))
	}
	if got := r.recv(t, 0); len(got) != 5 {
		t.Fatalf("Recv = %d", len(got))
	}
	p, err := r.fe.Call(vhost.ReqGetVringBase, vhosttest.State(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if st := binary.LittleEndian.Uint32(p[4:]); st != 5 {
		t.Errorf("GET_VRING_BASE = %d, want 5", st)
	}
	if tx.UsedIdx() != 5 {
		t.Errorf("held chains not returned on stop: used idx %d", tx.UsedIdx())
	}
	tx.PostTx(frame(60, 0))
	if got := r.recv(t, 0); len(got) != 0 {
		t.Errorf("stopped ring delivered %d", len(got))
	}
	if r.dev.LinkUp() {
		t.Error("link up with the guest's tx ring stopped")
	}
	// Restart from the base the front-end saved: the packet is received.
	r.fe.Send(vhost.ReqSetVringBase, 0, vhosttest.State(1, 5))
	r.fe.Send(vhost.ReqSetVringKick, 0, vhosttest.U64(1), tx.Kick)
	r.fe.Sync()
	if got := r.recv(t, 0); len(got) != 1 || !r.dev.LinkUp() {
		t.Errorf("after restart: %d packets, link %v", len(got), r.dev.LinkUp())
	}
}

func TestReconnect(t *testing.T) {
	d := newDevice(t, 1)
	for i := range 3 {
		r := connect(t, d)
		if err := r.fe.Start(allFeatures, allProto, 1, 64); err != nil {
			t.Fatal(err)
		}
		r.q(1).PostTx(frame(60, byte(i)))
		if got := r.recv(t, 0); len(got) != 1 {
			t.Fatalf("connection %d: Recv = %d", i, len(got))
		}
		r.fe.Close()
		if err := r.wait(t); err != nil {
			t.Fatalf("connection %d: Serve = %v, want nil on disconnect", i, err)
		}
		if d.LinkUp() || d.Info().Connected {
			t.Fatalf("connection %d: still up after disconnect", i)
		}
		if got := r.recv(t, 0); len(got) != 0 {
			t.Fatalf("Recv after disconnect = %d", len(got))
		}
	}
}

func TestRecvSendAllocs(t *testing.T) {
	race.SkipAllocs(t)
	r := start(t, 1, allFeatures, 256)
	tx, rx := r.q(1), r.q(0)
	pkts := make([][]byte, packet.BatchSize)
	var heads []uint16
	for i := range pkts {
		pkts[i] = frame(64, byte(i))
		heads = append(heads, tx.PostTx(pkts[i]))
	}
	rxHeads := rx.PostRx(packet.BatchSize, 2048)
	out := batchOf(pkts...)
	allocs := testing.AllocsPerRun(100, func() {
		if n, _ := r.dev.RxQueues()[0].Recv(r.batch); n != packet.BatchSize {
			t.Fatalf("Recv = %d", n)
		}
		if n := r.dev.Send(0, out); n != packet.BatchSize {
			t.Fatalf("Send = %d", n)
		}
		tx.Publish(heads...) // the next Recv returns them before reading these
		rx.Publish(rxHeads...)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per Recv+Send batch", allocs)
	}
}
