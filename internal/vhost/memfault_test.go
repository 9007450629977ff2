package vhost_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/govs/govs/internal/vhost"
)

// TestTruncatedGuestMemory: a front-end that shrinks its memory file
// under the switch loses its port with ErrGuestMemoryFault at the next
// access, instead of crashing the process with SIGBUS; another device
// keeps forwarding, and the port serves a new front-end.
func TestTruncatedGuestMemory(t *testing.T) {
	for _, tc := range []struct {
		name   string
		access func(r *rig) // after the truncation
	}{
		{"recv", func(r *rig) { r.dev.RxQueues()[0].Recv(r.batch) }},
		{"send", func(r *rig) { r.dev.Send(0, batchOf(frame(60, 0))) }},
		{"ring-fill", func(r *rig) { r.dev.RingFill() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			good := start(t, 1, allFeatures, 64)
			bad := start(t, 1, allFeatures, 64)
			bad.q(0).PostRx(4, 2048)
			bad.q(1).PostTx(frame(60, 0))
			// The rings start at 4 KiB: keep only the first page.
			if err := bad.fe.Truncate(4096); err != nil {
				t.Fatal(err)
			}
			tc.access(bad)
			checkFaulted(t, bad)
			checkForwards(t, good)
			again := connect(t, bad.dev)
			if err := again.fe.Start(allFeatures, allProto, 1, 64); err != nil {
				t.Fatal(err)
			}
			checkForwards(t, again)
		})
	}
}

// TestTruncatedPacketInPlace: a packet received in place points into the
// guest's memory; when that memory goes away before another device's Send
// copies it, the sender's device is faulted and the receiving one keeps
// its ring whole: the packets before it are delivered, the buffer the
// faulting packet was being copied into is offered again.
func TestTruncatedPacketInPlace(t *testing.T) {
	src := start(t, 1, allFeatures, 64)
	dst := start(t, 1, allFeatures, 64)
	// Put the packet's bytes on their own pages past the rings.
	src.fe.Alloc(1<<20, 4096)
	src.q(1).PostTx(frame(60, 1))
	src.q(1).PostTx(frame(60, 2))
	got := src.recv(t, 0)
	if len(got) != 2 {
		t.Fatalf("received %d packets, want 2", len(got))
	}
	if err := src.fe.Truncate(1 << 20); err != nil {
		t.Fatal(err)
	}
	dst.q(0).PostRx(4, 2048)
	b := batchOf(frame(60, 9))
	b.Add(got[0])
	b.Add(got[1])
	if n := dst.dev.Send(0, b); n != 1 {
		t.Errorf("Send = %d, want 1 (the packet before the faulting one)", n)
	}
	checkFaulted(t, src)
	if u := dst.q(0).TakeUsed(); len(u) != 1 {
		t.Fatalf("%d used entries, want 1", len(u))
	}
	if n := dst.dev.Send(0, batchOf(frame(60, 3), frame(60, 4), frame(60, 5))); n != 3 {
		t.Errorf("after the fault: Send = %d, want 3 (the buffer of the faulting packet reused)", n)
	}
	if dst.dev.Info().LastError != nil || !dst.dev.LinkUp() {
		t.Errorf("receiving device hurt: %v", dst.dev.Info().LastError)
	}
}

func checkFaulted(t *testing.T, r *rig) {
	t.Helper()
	err := r.wait(t)
	if !errors.Is(err, vhost.ErrGuestMemoryFault) || !strings.Contains(err.Error(), "GPA 0x") {
		t.Fatalf("Serve = %v, want %v with its address", err, vhost.ErrGuestMemoryFault)
	}
	if r.dev.LinkUp() || !errors.Is(r.dev.Info().LastError, vhost.ErrGuestMemoryFault) {
		t.Errorf("after reset: link %v, last error %v", r.dev.LinkUp(), r.dev.Info().LastError)
	}
	t.Log(err)
}

func checkForwards(t *testing.T, r *rig) {
	t.Helper()
	r.q(1).PostTx(frame(60, 0))
	if got := r.recv(t, 0); len(got) != 1 {
		t.Errorf("device does not forward: received %d", len(got))
	}
}
