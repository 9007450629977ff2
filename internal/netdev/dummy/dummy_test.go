package dummy

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/packet"
	"github.com/govs/govs/internal/race"
)

func frame(n int, fill byte) []byte {
	b := bytes.Repeat([]byte{fill}, n)
	return b
}

func TestOpenRegistered(t *testing.T) {
	d, err := netdev.Open(netdev.Spec{Name: "p0", Type: Type, Options: map[string]string{"n_rxq": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got := len(d.RxQueues()); got != 2 {
		t.Errorf("rx queues = %d, want 2", got)
	}
}

func TestUnknownOptionRejected(t *testing.T) {
	if _, err := New(netdev.Spec{Name: "p0", Options: map[string]string{"bogus": "1"}}); err == nil {
		t.Fatal("want error for unknown option")
	}
}

func TestInjectRecvSendTransmitted(t *testing.T) {
	p, err := New(netdev.Spec{Name: "p0"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range 40 {
		if err := p.Inject(0, frame(60+i, byte(i))); err != nil {
			t.Fatal(err)
		}
	}
	b := packet.NewBatch()
	q := p.RxQueues()[0]
	n, _ := q.Recv(b)
	if n != packet.BatchSize {
		t.Fatalf("first Recv = %d, want %d", n, packet.BatchSize)
	}
	if got := b.Pkts[5].Data(); !bytes.Equal(got, frame(65, 5)) {
		t.Errorf("packet 5 = %x", got)
	}
	if sent := p.Send(0, b); sent != n {
		t.Errorf("Send = %d, want %d", sent, n)
	}
	n, _ = q.Recv(b)
	if n != 8 {
		t.Fatalf("second Recv = %d, want 8", n)
	}
	tx := p.Transmitted()
	if len(tx) != packet.BatchSize || !bytes.Equal(tx[31], frame(91, 31)) {
		t.Fatalf("transmitted %d packets, last %x", len(tx), tx[len(tx)-1])
	}
	s := p.Stats()
	if s.RxPackets != 40 || s.TxPackets != 32 {
		t.Errorf("stats %+v", s)
	}
}

func TestRxQueueFullCountsDrop(t *testing.T) {
	p, err := New(netdev.Spec{Name: "p0"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var err2 error
	for range rxFramesPerQ + 1 {
		err2 = p.Inject(0, frame(64, 1))
	}
	if err2 != ErrRxFull || p.Stats().RxDropped != 1 {
		t.Fatalf("err %v, dropped %d", err2, p.Stats().RxDropped)
	}
}

func TestPcapRoundTrip(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "tx.pcap")
	p, err := New(netdev.Spec{Name: "w", Options: map[string]string{"tx_pcap": out}})
	if err != nil {
		t.Fatal(err)
	}
	pool, _ := packet.NewPool(4)
	defer pool.Close()
	b := packet.NewBatch()
	for i := range 3 {
		s := b.Slot(i)
		pool.Get(s)
		s.SetLen(64)
		copy(s.Data(), frame(64, byte(i+1)))
	}
	b.SetCount(3)
	p.Send(0, b)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
		t.Fatalf("tx pcap: %v", err)
	}
	r, err := New(netdev.Spec{Name: "r", Options: map[string]string{"pcap": out}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n, _ := r.RxQueues()[0].Recv(b)
	if n != 3 || !bytes.Equal(b.Pkts[2].Data(), frame(64, 3)) {
		t.Fatalf("read %d packets from pcap", n)
	}
}

func TestRecvDoesNotAllocate(t *testing.T) {
	race.SkipAllocs(t)
	p, err := New(netdev.Spec{Name: "p0", Options: map[string]string{"tx_capture": "false"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	b := packet.NewBatch()
	q := p.RxQueues()[0]
	pkt := frame(64, 7)
	allocs := testing.AllocsPerRun(100, func() {
		for range packet.BatchSize {
			p.Inject(0, pkt)
		}
		q.Recv(b)
		p.Send(0, b)
	})
	if allocs != 0 {
		t.Fatalf("allocs per batch = %v", allocs)
	}
}
