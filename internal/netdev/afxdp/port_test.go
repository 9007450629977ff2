package afxdp

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/netdev/linux"
	"github.com/govs/govs/internal/netdev/linux/linuxtest"
	"github.com/govs/govs/internal/packet"
	"github.com/govs/govs/internal/race"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// requireAFXDP skips unless the kernel has AF_XDP and we may use it.
func requireAFXDP(t *testing.T) {
	t.Helper()
	linuxtest.RequireRoot(t)
	fd, err := unix.Socket(unix.AF_XDP, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no AF_XDP: %v", err)
	}
	unix.Close(fd)
}

func openPort(t *testing.T, name string, opts map[string]string) *Port {
	t.Helper()
	p, err := Open(netdev.Spec{Name: name, Type: TypeName, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func xdpAttached(t *testing.T, name string) bool {
	t.Helper()
	l, err := netlink.LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return l.Attrs().Xdp != nil && l.Attrs().Xdp.Attached
}

var modes = []struct {
	name string
	mode Mode
}{
	{"generic", Generic},
	{"native", Native},
}

func TestAFXDPRecv(t *testing.T) {
	requireAFXDP(t)
	for _, tc := range modes {
		t.Run(tc.name, func(t *testing.T) {
			v := linuxtest.NewVeth(t, linuxtest.VethOptions{})
			p := openPort(t, v.Host, map[string]string{"xdp-mode": string(tc.mode)})
			peer := linuxtest.Open(t, v.NS, v.Peer)
			const n = 100
			sent := map[uint32][]byte{}
			total := 0
			for i := range uint32(n) {
				f := linuxtest.Frame(v.HostMAC, v.PeerMAC, i, 60+int(i)*14)
				sent[i] = f
				total += len(f)
				peer.Send(t, f)
			}
			got := linuxtest.RecvFrames(t, p.RxQueues()[0], n, linuxtest.Deadline(2*time.Second))
			if len(got) != n {
				t.Fatalf("received %d of %d frames", len(got), n)
			}
			for seq, f := range sent {
				if !bytes.Equal(got[seq], f) {
					t.Errorf("frame %d: got % x, want % x", seq, got[seq], f)
				}
			}
			if s := p.Stats(); s.RxPackets < n || s.RxBytes < uint64(total) {
				t.Errorf("stats rx %d packets %d bytes, want at least %d, %d", s.RxPackets, s.RxBytes, n, total)
			}
		})
	}
}

func TestAFXDPRecvHeadroom(t *testing.T) {
	requireAFXDP(t)
	v := linuxtest.NewVeth(t, linuxtest.VethOptions{})
	p := openPort(t, v.Host, map[string]string{"xdp-mode": "generic"})
	peer := linuxtest.Open(t, v.NS, v.Peer)
	peer.Send(t, linuxtest.Frame(v.HostMAC, v.PeerMAC, 1, 60))
	b := packet.NewBatch()
	if !linuxtest.Eventually(2*time.Second, func() bool { n, _ := p.RxQueues()[0].Recv(b); return n > 0 }) {
		t.Fatal("nothing received")
	}
	if h := b.Pkts[0].Headroom(); h < packet.Headroom {
		t.Errorf("headroom %d, want at least %d", h, packet.Headroom)
	}
	if b.Pkts[0].Handle%FrameSize != 0 {
		t.Errorf("Handle %#x is not a frame address", b.Pkts[0].Handle)
	}
}

func TestAFXDPSend(t *testing.T) {
	requireAFXDP(t)
	for _, tc := range modes {
		t.Run(tc.name, func(t *testing.T) {
			v := linuxtest.NewVeth(t, linuxtest.VethOptions{})
			p := openPort(t, v.Host, map[string]string{"xdp-mode": string(tc.mode)})
			peer := linuxtest.Open(t, v.NS, v.Peer)
			var frames [][]byte
			total := 0
			for i := range uint32(packet.BatchSize) {
				f := linuxtest.Frame(v.PeerMAC, v.HostMAC, i, 60+int(i)*45)
				frames = append(frames, f)
				total += len(f)
			}
			// Several rings' worth, so TX frames must come back through
			// the completion ring; the peer reads each batch before the
			// next is sent so its socket buffer never overflows.
			const rounds = 3 * txFrames / packet.BatchSize
			b := linuxtest.Batch(t, frames...)
			for r := range rounds {
				if n := p.Send(0, b); n != len(frames) {
					t.Fatalf("round %d: Send accepted %d of %d", r, n, len(frames))
				}
				for i := range frames {
					f := peer.Recv(t, 2*time.Second)
					if f == nil {
						t.Fatalf("round %d: peer received %d of %d frames", r, i, len(frames))
					}
					seq, _ := linuxtest.Seq(f)
					if int(seq) >= len(frames) || !bytes.Equal(f, frames[seq]) {
						t.Fatalf("peer got % x", f)
					}
				}
			}
			s := p.Stats()
			if s.TxPackets != uint64(rounds*len(frames)) || s.TxBytes != uint64(rounds*total) || s.TxDropped != 0 || s.TxErrors != 0 {
				t.Errorf("stats %+v, want %d packets %d bytes", s, rounds*len(frames), rounds*total)
			}
		})
	}
}

func TestAFXDPBestEffortOnVeth(t *testing.T) {
	requireAFXDP(t)
	v := linuxtest.NewVeth(t, linuxtest.VethOptions{})
	p := openPort(t, v.Host, nil)
	// veth has native XDP but no zero-copy AF_XDP.
	if p.Mode() != Native {
		t.Errorf("mode %s, want %s", p.Mode(), Native)
	}
	st := p.Status()
	if st["xdp-mode"] != string(Native) || st["zero-copy"] != "false" {
		t.Errorf("status %v", st)
	}
}

func TestAFXDPZeroCopyUnsupported(t *testing.T) {
	requireAFXDP(t)
	v := linuxtest.NewVeth(t, linuxtest.VethOptions{})
	_, err := Open(netdev.Spec{Name: v.Host, Options: map[string]string{"xdp-mode": "native-with-zerocopy"}})
	if err == nil {
		t.Fatal("zero-copy accepted on veth")
	}
	if xdpAttached(t, v.Host) {
		t.Error("failed open left an XDP program attached")
	}
}

func TestAFXDPMultiQueue(t *testing.T) {
	requireAFXDP(t)
	v := linuxtest.NewVeth(t, linuxtest.VethOptions{Queues: 2})
	p := openPort(t, v.Host, map[string]string{"n_rxq": "2", "xdp-mode": "native"})
	if len(p.RxQueues()) != 2 || p.TxQueues() != 2 {
		t.Fatalf("%d rx queues, %d tx queues, want 2, 2", len(p.RxQueues()), p.TxQueues())
	}
	peer := linuxtest.Open(t, v.NS, v.Peer)
	const n = 64
	for i := range uint32(n) {
		peer.Send(t, linuxtest.Frame(v.HostMAC, v.PeerMAC, i, 80))
	}
	got := map[uint32]bool{}
	b := packet.NewBatch()
	linuxtest.Eventually(2*time.Second, func() bool {
		for _, q := range p.RxQueues() {
			k, _ := q.Recv(b)
			for _, pk := range b.Pkts[:k] {
				if seq, ok := linuxtest.Seq(pk.Data()); ok {
					got[seq] = true
				}
			}
		}
		return len(got) == n
	})
	if len(got) != n {
		t.Fatalf("received %d of %d frames over 2 queues", len(got), n)
	}
	for qid := range 2 {
		if k := p.Send(qid, linuxtest.Batch(t, linuxtest.Frame(v.PeerMAC, v.HostMAC, uint32(qid), 60))); k != 1 {
			t.Errorf("Send on queue %d accepted %d", qid, k)
		}
	}
}

func TestAFXDPCloseDetaches(t *testing.T) {
	requireAFXDP(t)
	v := linuxtest.NewVeth(t, linuxtest.VethOptions{})
	p, err := Open(netdev.Spec{Name: v.Host, Options: map[string]string{"xdp-mode": "native"}})
	if err != nil {
		t.Fatal(err)
	}
	if !xdpAttached(t, v.Host) {
		t.Fatal("no XDP program attached while open")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if xdpAttached(t, v.Host) {
		t.Error("XDP program still attached after Close")
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestAFXDPBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts map[string]string
		want string
	}{
		{"bad mode", map[string]string{"xdp-mode": "turbo"}, "invalid xdp-mode"},
		{"zero queues", map[string]string{"n_rxq": "0"}, "invalid n_rxq"},
		{"not a number", map[string]string{"n_rxq": "two"}, "invalid n_rxq"},
		{"unknown option", map[string]string{"nrxq": "2"}, "unknown option"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(netdev.Spec{Name: "gvknothere", Options: tc.opts})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestAFXDPTooManyQueues(t *testing.T) {
	requireAFXDP(t)
	v := linuxtest.NewVeth(t, linuxtest.VethOptions{})
	_, err := Open(netdev.Spec{Name: v.Host, Options: map[string]string{"n_rxq": "4"}})
	if err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("error %v, want n_rxq exceeding the device's queues", err)
	}
}

func TestAFXDPMissingDevice(t *testing.T) {
	requireAFXDP(t)
	name := linuxtest.Name("x")
	_, err := netdev.Open(netdev.Spec{Name: name, Type: TypeName})
	want := "could not open network device " + name + " (No such device)"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	var de *linux.DeviceError
	if !errors.As(err, &de) {
		t.Errorf("%v is not a DeviceError", err)
	}
}

func TestAFXDPNoAllocs(t *testing.T) {
	race.SkipAllocs(t)
	requireAFXDP(t)
	v := linuxtest.NewVeth(t, linuxtest.VethOptions{})
	p := openPort(t, v.Host, map[string]string{"xdp-mode": "generic"})
	peer := linuxtest.Open(t, v.NS, v.Peer)
	for i := range uint32(200) {
		peer.Send(t, linuxtest.Frame(v.HostMAC, v.PeerMAC, i, 100))
	}
	q := p.RxQueues()[0]
	rb := packet.NewBatch()
	if a := testing.AllocsPerRun(50, func() { q.Recv(rb) }); a != 0 {
		t.Errorf("Recv allocates %v times", a)
	}
	tb := linuxtest.Batch(t, linuxtest.Frame(v.PeerMAC, v.HostMAC, 1, 100))
	if a := testing.AllocsPerRun(50, func() { p.Send(0, tb) }); a != 0 {
		t.Errorf("Send allocates %v times", a)
	}
}

// BenchmarkAFXDPSend measures the transmit path into a veth (generic
// mode, copy): reap, copy, one TX ring publish and one kick per batch.
func BenchmarkAFXDPSend(b *testing.B) {
	fd, err := unix.Socket(unix.AF_XDP, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		b.Skipf("no AF_XDP: %v", err)
	}
	unix.Close(fd)
	v := linuxtest.NewVeth(b, linuxtest.VethOptions{})
	p, err := Open(netdev.Spec{Name: v.Host, Options: map[string]string{"xdp-mode": "native"}})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	frames := make([][]byte, packet.BatchSize)
	for i := range frames {
		frames[i] = linuxtest.Frame(v.PeerMAC, v.HostMAC, uint32(i), 64)
	}
	batch := linuxtest.Batch(b, frames...)
	b.ReportAllocs()
	b.ResetTimer()
	sent := 0
	for b.Loop() {
		sent += p.Send(0, batch)
	}
	b.ReportMetric(float64(sent)/b.Elapsed().Seconds()/1e6, "Mpps")
}
