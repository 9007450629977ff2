package afpacket

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/netdev/linux"
	"github.com/govs/govs/internal/netdev/linux/linuxtest"
	"github.com/govs/govs/internal/packet"
	"github.com/govs/govs/internal/race"
	"golang.org/x/sys/unix"
)

func openPort(t *testing.T, name string) *Port {
	t.Helper()
	p, err := Open(netdev.Spec{Name: name, Type: TypeName})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestSystemMissingDevice(t *testing.T) {
	linuxtest.RequireRoot(t)
	name := linuxtest.Name("x")
	_, err := netdev.Open(netdev.Spec{Name: name}) // "" is "system"
	if err == nil {
		t.Fatal("opened a device that does not exist")
	}
	want := "could not open network device " + name + " (No such device)"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	var de *linux.DeviceError
	if !errors.As(err, &de) || !errors.Is(err, unix.ENODEV) {
		t.Errorf("error %v is not a DeviceError wrapping ENODEV", err)
	}
}

func TestSystemRecv(t *testing.T) {
	v := linuxtest.NewVeth(t, linuxtest.VethOptions{})
	p := openPort(t, v.Host)
	peer := linuxtest.Open(t, v.NS, v.Peer)
	const n = 100
	sent := map[uint32][]byte{}
	for i := range uint32(n) {
		f := linuxtest.Frame(v.HostMAC, v.PeerMAC, i, 60+int(i)*10)
		sent[i] = f
		peer.Send(t, f)
	}
	got := linuxtest.RecvFrames(t, p.RxQueues()[0], n, linuxtest.Deadline(2*time.Second))
	if len(got) != n {
		t.Fatalf("received %d of %d frames", len(got), n)
	}
	bytesSent := 0
	for seq, f := range sent {
		bytesSent += len(f)
		if !bytes.Equal(got[seq], f) {
			t.Errorf("frame %d: got % x, want % x", seq, got[seq], f)
		}
	}
	s := p.Stats()
	// Counters include any other frame the kernel sent the peer's way.
	if s.RxPackets < n || s.RxBytes < uint64(bytesSent) {
		t.Errorf("stats rx %d packets %d bytes, want at least %d, %d", s.RxPackets, s.RxBytes, n, bytesSent)
	}
}

func TestSystemRecvKeepsVLANTag(t *testing.T) {
	v := linuxtest.NewVeth(t, linuxtest.VethOptions{})
	p := openPort(t, v.Host)
	peer := linuxtest.Open(t, v.NS, v.Peer)
	inner := linuxtest.Frame(v.HostMAC, v.PeerMAC, 7, 64)
	tagged := make([]byte, 0, len(inner)+4)
	tagged = append(tagged, inner[:12]...)
	tagged = binary.BigEndian.AppendUint16(tagged, 0x8100)
	tagged = binary.BigEndian.AppendUint16(tagged, 0x2064) // PCP 1, VID 100
	tagged = append(tagged, inner[12:]...)
	peer.Send(t, tagged)

	b := packet.NewBatch()
	var got []byte
	linuxtest.Eventually(2*time.Second, func() bool {
		n, _ := p.RxQueues()[0].Recv(b)
		for _, pk := range b.Pkts[:n] {
			if binary.BigEndian.Uint16(pk.Data()[12:]) == 0x8100 {
				got = append([]byte(nil), pk.Data()...)
			}
		}
		return got != nil
	})
	if !bytes.Equal(got, tagged) {
		t.Fatalf("got % x\nwant % x", got, tagged)
	}
}

func TestSystemSend(t *testing.T) {
	v := linuxtest.NewVeth(t, linuxtest.VethOptions{})
	p := openPort(t, v.Host)
	peer := linuxtest.Open(t, v.NS, v.Peer)
	var frames [][]byte
	total := 0
	for i := range uint32(packet.BatchSize) {
		f := linuxtest.Frame(v.PeerMAC, v.HostMAC, i, 60+int(i)*40)
		frames = append(frames, f)
		total += len(f)
	}
	if n := p.Send(0, linuxtest.Batch(t, frames...)); n != len(frames) {
		t.Fatalf("Send accepted %d of %d", n, len(frames))
	}
	for range frames {
		f := peer.Recv(t, 2*time.Second)
		if f == nil {
			t.Fatal("peer received too few frames")
		}
		seq, _ := linuxtest.Seq(f)
		if int(seq) >= len(frames) || !bytes.Equal(f, frames[seq]) {
			t.Fatalf("peer got % x", f)
		}
	}
	s := p.Stats()
	if s.TxPackets != uint64(len(frames)) || s.TxBytes != uint64(total) || s.TxDropped != 0 || s.TxErrors != 0 {
		t.Errorf("stats %+v, want %d packets %d bytes", s, len(frames), total)
	}
	// PACKET_IGNORE_OUTGOING: our own frames do not come back in.
	got := linuxtest.RecvFrames(t, p.RxQueues()[0], 1, linuxtest.Deadline(50*time.Millisecond))
	if len(got) != 0 {
		t.Errorf("received %d of our own transmissions", len(got))
	}
}

func TestSystemSendDropsOversized(t *testing.T) {
	v := linuxtest.NewVeth(t, linuxtest.VethOptions{})
	p := openPort(t, v.Host)
	b := packet.NewBatch()
	b.Slot(0).Reset(make([]byte, p.tx.frameSize), 0, p.tx.frameSize) // longer than a TX frame holds
	b.SetCount(1)
	if n := p.Send(0, b); n != 0 {
		t.Fatalf("Send accepted %d oversized packets", n)
	}
	if s := p.Stats(); s.TxDropped != 1 {
		t.Errorf("TxDropped = %d, want 1", s.TxDropped)
	}
}

func TestSystemNoAllocs(t *testing.T) {
	race.SkipAllocs(t)
	v := linuxtest.NewVeth(t, linuxtest.VethOptions{})
	p := openPort(t, v.Host)
	peer := linuxtest.Open(t, v.NS, v.Peer)
	for i := range uint32(200) {
		peer.Send(t, linuxtest.Frame(v.HostMAC, v.PeerMAC, i, 100))
	}
	time.Sleep(5 * time.Millisecond) // let the blocks retire
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

func TestSystemLinkState(t *testing.T) {
	v := linuxtest.NewVeth(t, linuxtest.VethOptions{})
	mac, _ := net.ParseMAC("02:00:00:aa:bb:cc")
	p, err := Open(netdev.Spec{Name: v.Host, MTU: 1400, MAC: mac})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.MTU() != 1400 || p.MAC().String() != mac.String() {
		t.Errorf("MTU %d MAC %s, want 1400 %s", p.MTU(), p.MAC(), mac)
	}
	if !linuxtest.Eventually(2*time.Second, p.LinkUp) {
		t.Error("link down with both ends up")
	}
	linuxtest.Run(t, "ip", "-n", v.NS, "link", "set", v.Peer, "down")
	if !linuxtest.Eventually(2*time.Second, func() bool { return !p.LinkUp() }) {
		t.Error("link up with the peer down")
	}
	if p.Status()["ifindex"] == "" || p.Status()["driver_name"] != "veth" {
		t.Errorf("status %v", p.Status())
	}
}

// BenchmarkSystemSend measures the TX ring path into a veth: copy into
// the ring and one sendto per batch.
func BenchmarkSystemSend(b *testing.B) {
	v := linuxtest.NewVeth(b, linuxtest.VethOptions{})
	p, err := Open(netdev.Spec{Name: v.Host})
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
