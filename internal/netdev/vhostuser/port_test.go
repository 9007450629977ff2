package vhostuser

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/packet"
	"github.com/govs/govs/internal/vhost"
	"github.com/govs/govs/internal/vhost/vhosttest"
)

const features = vhost.FeatVersion1 | vhost.FeatNetMrgRxbuf | vhost.FeatProtocolFeatures | vhost.FeatNetMQ

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func recvOne(t *testing.T, p netdev.Netdev, b *packet.Batch) {
	t.Helper()
	eventually(t, "a packet", func() bool { n, _ := p.RxQueues()[0].Recv(b); return n == 1 })
}

func TestServerPort(t *testing.T) {
	dir := t.TempDir()
	nd, err := netdev.Open(netdev.Spec{Name: "vhu0", Type: TypeServer, RunDir: dir, Options: map[string]string{"n_rxq": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	p := nd.(*Port)
	sock := filepath.Join(dir, "vhu0")
	if len(p.RxQueues()) != 2 || p.TxQueues() != 2 || p.LinkUp() {
		t.Fatalf("new port: %d rxqs, %d txqs, link %v", len(p.RxQueues()), p.TxQueues(), p.LinkUp())
	}
	b := packet.NewBatch()
	for round := range 2 { // connect, disconnect, reconnect
		fe, err := vhosttest.Dial(sock, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if err := fe.Start(features, vhost.ProtoMQ|vhost.ProtoReplyAck, 1, 64); err != nil {
			t.Fatal(err)
		}
		if !p.LinkUp() {
			t.Fatalf("round %d: link down after set-up", round)
		}
		st := p.Status()
		if st["mode"] != "server" || st["socket"] != sock || st["connected"] != "true" ||
			st["num_of_vrings"] != "2" || st["features"] == "0x0000000000000000" {
			t.Errorf("status %v", st)
		}
		fe.Queues[1].PostTx(make([]byte, 60))
		recvOne(t, p, b)
		fe.Close()
		eventually(t, "link down", func() bool { return !p.LinkUp() })
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
}

func TestClientPortReconnects(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "fe.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p, err := Open(netdev.Spec{Name: "vhc0", Type: TypeClient, Options: map[string]string{"vhost-server-path": sock}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	b := packet.NewBatch()
	for round := range 2 {
		ln.SetDeadline(time.Now().Add(5 * time.Second))
		c, err := ln.AcceptUnix()
		if err != nil {
			t.Fatalf("round %d: port did not connect: %v", round, err)
		}
		fe, err := vhosttest.New(c, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if err := fe.Start(features, vhost.ProtoReplyAck, 1, 64); err != nil {
			t.Fatal(err)
		}
		if st := p.Status(); st["mode"] != "client" || st["vhost-server-path"] != sock || !p.LinkUp() {
			t.Errorf("round %d: status %v link %v", round, st, p.LinkUp())
		}
		fe.Queues[1].PostTx(make([]byte, 60))
		recvOne(t, p, b)
		fe.Close()
		eventually(t, "link down", func() bool { return !p.LinkUp() })
	}
}

func TestOpenErrors(t *testing.T) {
	for _, s := range []netdev.Spec{
		{Name: "a", Type: TypeServer},
		{Name: "b", Type: TypeClient},
		{Name: "c", Type: TypeServer, RunDir: "/tmp", Options: map[string]string{"n_rxq": "0"}},
	} {
		if p, err := Open(s); err == nil {
			p.Close()
			t.Errorf("Open(%+v) succeeded", s)
		}
	}
}
