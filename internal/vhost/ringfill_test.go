package vhost_test

import "testing"

// TestRingFill follows both rings of a pair: packets the guest posts fill
// its TX ring until the switch receives them (and returns them at the
// next Recv); buffers it posts fill its RX ring until Send uses them.
func TestRingFill(t *testing.T) {
	r := start(t, 1, allFeatures, 64)
	fill := func() map[string]int {
		m := map[string]int{}
		for _, f := range r.dev.RingFill() {
			if f.Queue != 0 || f.Size != 64 {
				t.Errorf("ring %+v", f)
			}
			m[f.Dir] = f.Fill
		}
		return m
	}
	if got := fill(); got["rx"] != 0 || got["tx"] != 0 || len(got) != 2 {
		t.Fatalf("idle rings: %v", got)
	}
	for i := range 5 {
		r.q(1).PostTx(frame(60, byte(i)))
	}
	r.q(0).PostRx(8, 2048)
	if got := fill(); got["rx"] != 5 || got["tx"] != 8 {
		t.Fatalf("after posting 5 packets and 8 buffers: %v", got)
	}
	if n := len(r.recv(t, 0)); n != 5 {
		t.Fatalf("received %d", n)
	}
	r.recv(t, 0) // returns the previous batch's descriptors
	if sent := r.dev.Send(0, batchOf(frame(60, 1), frame(60, 2), frame(60, 3))); sent != 3 {
		t.Fatalf("sent %d", sent)
	}
	if got := fill(); got["rx"] != 0 || got["tx"] != 5 {
		t.Fatalf("after receiving 5 and sending 3: %v", got)
	}
	r.fe.Close()
	r.wait(t)
	if got := r.dev.RingFill(); len(got) != 0 {
		t.Errorf("rings after disconnect: %+v", got)
	}
}
