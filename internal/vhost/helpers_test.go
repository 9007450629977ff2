package vhost_test

import (
	"net"
	"os"
	"testing"
	"time"

	"github.com/govs/govs/internal/packet"
	"github.com/govs/govs/internal/vhost"
	"github.com/govs/govs/internal/vhost/vhosttest"
	"golang.org/x/sys/unix"
)

const (
	allFeatures = vhost.FeatVersion1 | vhost.FeatNetMrgRxbuf | vhost.FeatRingIndirectDesc |
		vhost.FeatProtocolFeatures | vhost.FeatNetMQ
	allProto = vhost.ProtoMQ | vhost.ProtoReplyAck | vhost.ProtoMTU
	memSize  = 4 << 20
)

func socketPair(t testing.TB) (*net.UnixConn, *net.UnixConn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "vhost")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		return c.(*net.UnixConn)
	}
	return conn(fds[0]), conn(fds[1])
}

// rig is a Device served on one end of a socket pair and a test
// front-end on the other.
type rig struct {
	dev   *vhost.Device
	fe    *vhosttest.Frontend
	done  chan error
	batch *packet.Batch
}

func newDevice(t testing.TB, pairs int) *vhost.Device {
	t.Helper()
	d, err := vhost.NewDevice(vhost.Config{QueuePairs: pairs, MTU: 1500})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// connect serves d on a new connection and returns the front-end.
func connect(t testing.TB, d *vhost.Device) *rig {
	t.Helper()
	a, b := socketPair(t)
	r := &rig{dev: d, done: make(chan error, 1), batch: packet.NewBatch()}
	go func() { r.done <- d.Serve(a) }()
	fe, err := vhosttest.New(b, memSize)
	if err != nil {
		t.Fatal(err)
	}
	r.fe = fe
	t.Cleanup(func() {
		fe.Close()
		r.wait(t)
	})
	return r
}

// start connects and sets up pairs queue pairs of num entries.
func start(t testing.TB, pairs int, features uint64, num uint16) *rig {
	t.Helper()
	r := connect(t, newDevice(t, pairs))
	if err := r.fe.Start(features, allProto, pairs, num); err != nil {
		t.Fatal(err)
	}
	if !r.dev.LinkUp() {
		t.Fatal("link down after set-up")
	}
	return r
}

// wait returns Serve's result (once; later calls return nil).
func (r *rig) wait(t testing.TB) error {
	t.Helper()
	select {
	case err, ok := <-r.done:
		if ok {
			close(r.done)
		}
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
		return nil
	}
}

func (r *rig) q(i int) *vhosttest.Queue { return r.fe.Queues[i] }

func (r *rig) recv(t testing.TB, qid int) []*packet.Buffer {
	t.Helper()
	n, err := r.dev.RxQueues()[qid].Recv(r.batch)
	if err != nil {
		t.Fatal(err)
	}
	return r.batch.Pkts[:n]
}

func frame(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return b
}
