package vhost_test

import (
	"errors"
	"testing"

	"github.com/govs/govs/internal/vhost"
	"github.com/govs/govs/internal/vhost/vhosttest"
)

// TestBadDescriptors feeds the chains a hostile or broken guest could
// post. Each must reset that device with its error while another device
// keeps forwarding, and the reset device must accept a new front-end.
func TestBadDescriptors(t *testing.T) {
	for _, tc := range []struct {
		name string
		want error
		post func(r *rig)
	}{
		{"head-out-of-range", vhost.ErrBadHead, func(r *rig) { r.q(1).Publish(200) }},
		{"addr-outside-memory", vhost.ErrBadDescAddr, func(r *rig) {
			r.q(1).WriteDesc(0, vhosttest.Desc{Addr: vhosttest.GPABase + memSize - 10, Len: 64})
			r.q(1).Publish(0)
		}},
		{"addr-wraps", vhost.ErrBadDescAddr, func(r *rig) {
			r.q(1).WriteDesc(0, vhosttest.Desc{Addr: ^uint64(0) - 8, Len: 64})
			r.q(1).Publish(0)
		}},
		{"loop", vhost.ErrChainTooLong, func(r *rig) {
			q := r.q(1)
			q.WriteDesc(0, vhosttest.Desc{Addr: vhosttest.GPABase, Len: 12, Flags: vhosttest.DescNext, Next: 1})
			q.WriteDesc(1, vhosttest.Desc{Addr: vhosttest.GPABase, Len: 12, Flags: vhosttest.DescNext, Next: 0})
			q.Publish(0)
		}},
		{"next-out-of-range", vhost.ErrBadNext, func(r *rig) {
			r.q(1).WriteDesc(0, vhosttest.Desc{Addr: vhosttest.GPABase, Len: 12, Flags: vhosttest.DescNext, Next: 999})
			r.q(1).Publish(0)
		}},
		{"indirect-odd-length", vhost.ErrBadIndirect, func(r *rig) {
			r.q(1).WriteDesc(0, vhosttest.Desc{Addr: vhosttest.GPABase, Len: 24, Flags: vhosttest.DescIndirect})
			r.q(1).Publish(0)
		}},
		{"indirect-outside-memory", vhost.ErrBadIndirect, func(r *rig) {
			r.q(1).WriteDesc(0, vhosttest.Desc{Addr: vhosttest.GPABase + memSize - 16, Len: 32, Flags: vhosttest.DescIndirect})
			r.q(1).Publish(0)
		}},
		{"indirect-nested", vhost.ErrNestedIndirect, func(r *rig) {
			tbl := r.fe.Alloc(16, 16)
			r.fe.WriteDesc(tbl, 0, vhosttest.Desc{Addr: vhosttest.GPA(tbl), Len: 16, Flags: vhosttest.DescIndirect})
			r.q(1).WriteDesc(0, vhosttest.Desc{Addr: vhosttest.GPA(tbl), Len: 16, Flags: vhosttest.DescIndirect})
			r.q(1).Publish(0)
		}},
		{"indirect-loop", vhost.ErrChainTooLong, func(r *rig) {
			tbl := r.fe.Alloc(32, 16)
			r.fe.WriteDesc(tbl, 0, vhosttest.Desc{Addr: vhosttest.GPABase, Len: 4, Flags: vhosttest.DescNext, Next: 1})
			r.fe.WriteDesc(tbl, 1, vhosttest.Desc{Addr: vhosttest.GPABase, Len: 4, Flags: vhosttest.DescNext, Next: 0})
			r.q(1).WriteDesc(0, vhosttest.Desc{Addr: vhosttest.GPA(tbl), Len: 32, Flags: vhosttest.DescIndirect})
			r.q(1).Publish(0)
		}},
		{"writable-tx-descriptor", vhost.ErrDirection, func(r *rig) {
			r.q(1).WriteDesc(0, vhosttest.Desc{Addr: vhosttest.GPABase, Len: 64, Flags: vhosttest.DescWrite})
			r.q(1).Publish(0)
		}},
		{"avail-runaway", vhost.ErrAvailRunaway, func(r *rig) { r.q(1).SetAvailIdx(1000) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			good := start(t, 1, allFeatures, 64)
			bad := start(t, 1, allFeatures, 64)
			tc.post(bad)
			bad.recv(t, 0)
			if err := bad.wait(t); !errors.Is(err, tc.want) {
				t.Fatalf("Serve = %v, want %v", err, tc.want)
			}
			if bad.dev.LinkUp() || !errors.Is(bad.dev.Info().LastError, tc.want) {
				t.Errorf("after reset: link %v, last error %v", bad.dev.LinkUp(), bad.dev.Info().LastError)
			}
			good.q(1).PostTx(frame(60, 0))
			if got := good.recv(t, 0); len(got) != 1 {
				t.Errorf("the other device stopped forwarding")
			}
			again := connect(t, bad.dev)
			if err := again.fe.Start(allFeatures, allProto, 1, 64); err != nil {
				t.Fatal(err)
			}
			again.q(1).PostTx(frame(60, 0))
			if got := again.recv(t, 0); len(got) != 1 {
				t.Errorf("reset device does not serve a new front-end")
			}
		})
	}
}

// TestBadSendChains: the guest's receive ring is checked too.
func TestBadSendChains(t *testing.T) {
	r := start(t, 1, allFeatures, 64)
	r.q(0).WriteDesc(0, vhosttest.Desc{Addr: vhosttest.GPABase, Len: 2048}) // not writable
	r.q(0).Publish(0)
	if n := r.dev.Send(0, batchOf(frame(60, 0))); n != 0 {
		t.Errorf("Send into a read-only buffer = %d", n)
	}
	if err := r.wait(t); !errors.Is(err, vhost.ErrDirection) {
		t.Errorf("Serve = %v", err)
	}
}

// TestBadMessages: malformed or out-of-order requests end the connection
// with an error.
func TestBadMessages(t *testing.T) {
	for _, tc := range []struct {
		name string
		want error
		send func(f *vhosttest.Frontend) error
	}{
		{"bad-version", vhost.ErrBadVersion, func(f *vhosttest.Frontend) error {
			return f.Send(vhost.ReqGetFeatures, 2, nil) // version 3
		}},
		{"payload-too-big", vhost.ErrPayloadTooBig, func(f *vhosttest.Frontend) error {
			return f.Send(vhost.ReqSetFeatures, 0, make([]byte, 5000))
		}},
		{"short-set-features", vhost.ErrBadPayloadSize, func(f *vhosttest.Frontend) error {
			return f.Send(vhost.ReqSetFeatures, 0, make([]byte, 4))
		}},
		{"long-vring-state", vhost.ErrBadPayloadSize, func(f *vhosttest.Frontend) error {
			return f.Send(vhost.ReqSetVringNum, 0, make([]byte, 12))
		}},
		{"unoffered-feature", vhost.ErrFeatures, func(f *vhosttest.Frontend) error {
			return f.Send(vhost.ReqSetFeatures, 0, vhosttest.U64(1<<0)) // VIRTIO_NET_F_CSUM
		}},
		{"vring-index", vhost.ErrBadVringIndex, func(f *vhosttest.Frontend) error {
			return f.Send(vhost.ReqSetVringNum, 0, vhosttest.State(7, 64))
		}},
		{"queue-size", vhost.ErrBadQueueSize, func(f *vhosttest.Frontend) error {
			return f.Send(vhost.ReqSetVringNum, 0, vhosttest.State(0, 100))
		}},
		{"unknown-request", vhost.ErrUnknownRequest, func(f *vhosttest.Frontend) error {
			return f.Send(99, 0, nil)
		}},
		{"mem-table-without-fd", vhost.ErrBadRegions, func(f *vhosttest.Frontend) error {
			return f.Send(vhost.ReqSetMemTable, 0, f.MemTablePayload())
		}},
		{"mem-table-no-regions", vhost.ErrBadRegions, func(f *vhosttest.Frontend) error {
			return f.Send(vhost.ReqSetMemTable, 0, make([]byte, 8))
		}},
		{"kick-without-fd", vhost.ErrMissingFD, func(f *vhosttest.Frontend) error {
			return f.Send(vhost.ReqSetVringKick, 0, vhosttest.U64(0))
		}},
		{"ring-outside-memory", vhost.ErrBadRingAddr, func(f *vhosttest.Frontend) error {
			if err := f.Negotiate(allFeatures, allProto); err != nil {
				return err
			}
			q, err := f.SetupQueue(0, 64)
			if err != nil {
				return err
			}
			addr := make([]byte, 40)
			addr[8] = 1                            // desc at user address 1: not in the table
			f.Send(vhost.ReqSetVringAddr, 0, addr) // the ring was kicked: it restarts and fails
			f.Send(vhost.ReqSetVringKick, 0, vhosttest.U64(0), q.Kick)
			return nil
		}},
		{"mtu-not-negotiated", vhost.ErrUnknownRequest, func(f *vhosttest.Frontend) error {
			return f.Send(vhost.ReqNetSetMTU, 0, vhosttest.U64(1500))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := connect(t, newDevice(t, 1))
			if err := tc.send(r.fe); err != nil {
				t.Fatal(err)
			}
			if err := r.wait(t); !errors.Is(err, tc.want) {
				t.Fatalf("Serve = %v, want %v", err, tc.want)
			}
			if !errors.Is(r.dev.Info().LastError, tc.want) {
				t.Errorf("LastError = %v", r.dev.Info().LastError)
			}
		})
	}
}

func TestSecondFrontendRefused(t *testing.T) {
	r := start(t, 1, allFeatures, 64)
	a, _ := socketPair(t)
	if err := r.dev.Serve(a); !errors.Is(err, vhost.ErrBusy) {
		t.Errorf("second Serve = %v, want ErrBusy", err)
	}
	if !r.dev.LinkUp() {
		t.Error("the first front-end lost its link")
	}
}
