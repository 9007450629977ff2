package tap

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/netdev/linux"
	"github.com/govs/govs/internal/netdev/linux/linuxtest"
	"github.com/govs/govs/internal/packet"
	"github.com/govs/govs/internal/race"
	"github.com/vishvananda/netlink"
)

func exists(name string) bool {
	_, err := netlink.LinkByName(name)
	return err == nil
}

func openTap(t *testing.T, typ string) *Port {
	t.Helper()
	linuxtest.RequireRoot(t)
	name := linuxtest.Name("t")
	nd, err := netdev.Open(netdev.Spec{Name: name, Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	p := nd.(*Port)
	t.Cleanup(func() {
		p.Close()
		exec.Command("ip", "link", "del", name).Run()
	})
	// No IPv6 chatter from the new interface.
	linuxtest.Run(t, "sysctl", "-qw", "net.ipv6.conf."+name+".disable_ipv6=1")
	return p
}

func TestTapCreateAndClose(t *testing.T) {
	for _, typ := range []string{TypeTap, TypeInternal} {
		t.Run(typ, func(t *testing.T) {
			p := openTap(t, typ)
			if p.Type() != typ {
				t.Errorf("Type %q, want %q", p.Type(), typ)
			}
			if !exists(p.Name()) {
				t.Fatal("device not created")
			}
			if !linuxtest.Eventually(time.Second, p.LinkUp) {
				t.Error("device not up")
			}
			if len(p.MAC()) != 6 || p.MTU() != 1500 {
				t.Errorf("MAC %s MTU %d", p.MAC(), p.MTU())
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			if exists(p.Name()) {
				t.Error("device still there after Close")
			}
		})
	}
}

func TestTapKeepsExistingDevice(t *testing.T) {
	linuxtest.RequireRoot(t)
	name := linuxtest.Name("t")
	linuxtest.Run(t, "ip", "tuntap", "add", "dev", name, "mode", "tap")
	t.Cleanup(func() { exec.Command("ip", "link", "del", name).Run() })
	p, err := Open(netdev.Spec{Name: name, Type: TypeTap})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if !exists(name) {
		t.Error("Close removed a TAP it did not create")
	}
}

func TestTapNotATap(t *testing.T) {
	v := linuxtest.NewVeth(t, linuxtest.VethOptions{})
	_, err := Open(netdev.Spec{Name: v.Host, Type: TypeTap})
	var de *linux.DeviceError
	if !errors.As(err, &de) || !strings.HasPrefix(err.Error(), "could not open network device "+v.Host+" (") {
		t.Errorf("error %v, want a could-not-open DeviceError", err)
	}
}

func TestTapRecv(t *testing.T) {
	p := openTap(t, TypeTap)
	sock := linuxtest.Open(t, "", p.Name())
	const n = 50
	sent := map[uint32][]byte{}
	total := 0
	for i := range uint32(n) {
		f := linuxtest.Frame(p.MAC(), []byte{2, 0, 0, 0, 0, 1}, i, 60+int(i)*25)
		sent[i] = f
		total += len(f)
		sock.Send(t, f)
	}
	got := linuxtest.RecvFrames(t, p.RxQueues()[0], n, linuxtest.Deadline(2*time.Second))
	if len(got) != n {
		t.Fatalf("received %d of %d", len(got), n)
	}
	for seq, f := range sent {
		if !bytes.Equal(got[seq], f) {
			t.Errorf("frame %d: got % x want % x", seq, got[seq], f)
		}
	}
	if s := p.Stats(); s.RxPackets < n || s.RxBytes < uint64(total) {
		t.Errorf("stats rx %d packets %d bytes, want at least %d, %d", s.RxPackets, s.RxBytes, n, total)
	}
}

func TestTapRecvHeadroom(t *testing.T) {
	p := openTap(t, TypeTap)
	sock := linuxtest.Open(t, "", p.Name())
	sock.Send(t, linuxtest.Frame(p.MAC(), []byte{2, 0, 0, 0, 0, 1}, 1, 60))
	b := packet.NewBatch()
	if !linuxtest.Eventually(2*time.Second, func() bool { n, _ := p.RxQueues()[0].Recv(b); return n > 0 }) {
		t.Fatal("nothing received")
	}
	if b.Pkts[0].Headroom() != packet.Headroom {
		t.Errorf("headroom %d, want %d", b.Pkts[0].Headroom(), packet.Headroom)
	}
}

func TestTapSend(t *testing.T) {
	p := openTap(t, TypeInternal)
	sock := linuxtest.Open(t, "", p.Name())
	var frames [][]byte
	total := 0
	for i := range uint32(packet.BatchSize) {
		f := linuxtest.Frame(p.MAC(), []byte{2, 0, 0, 0, 0, 1}, i, 60+int(i)*40)
		frames = append(frames, f)
		total += len(f)
	}
	if n := p.Send(0, linuxtest.Batch(t, frames...)); n != len(frames) {
		t.Fatalf("Send accepted %d of %d", n, len(frames))
	}
	for range frames {
		f := sock.Recv(t, 2*time.Second)
		if f == nil {
			t.Fatal("too few frames arrived")
		}
		seq, _ := linuxtest.Seq(f)
		if int(seq) >= len(frames) || !bytes.Equal(f, frames[seq]) {
			t.Fatalf("got % x", f)
		}
	}
	if s := p.Stats(); s.TxPackets != uint64(len(frames)) || s.TxBytes != uint64(total) || s.TxDropped != 0 {
		t.Errorf("stats %+v, want %d packets %d bytes", s, len(frames), total)
	}
}

func TestTapNoAllocs(t *testing.T) {
	race.SkipAllocs(t)
	p := openTap(t, TypeTap)
	sock := linuxtest.Open(t, "", p.Name())
	for i := range uint32(100) {
		sock.Send(t, linuxtest.Frame(p.MAC(), []byte{2, 0, 0, 0, 0, 1}, i, 100))
	}
	q := p.RxQueues()[0]
	rb := packet.NewBatch()
	if a := testing.AllocsPerRun(20, func() { q.Recv(rb) }); a != 0 {
		t.Errorf("Recv allocates %v times", a)
	}
	tb := linuxtest.Batch(t, linuxtest.Frame(p.MAC(), []byte{2, 0, 0, 0, 0, 1}, 1, 100))
	if a := testing.AllocsPerRun(20, func() { p.Send(0, tb) }); a != 0 {
		t.Errorf("Send allocates %v times", a)
	}
}
