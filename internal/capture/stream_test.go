package capture

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStreamRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	e := NewEncoder(&buf)
	recs := []Record{
		{TimeNs: 1, OrigLen: 60, Dir: Rx, Data: bytes.Repeat([]byte{1}, 60)},
		{TimeNs: 2, OrigLen: 1500, Dir: Tx, Data: bytes.Repeat([]byte{2}, 96)},
	}
	for _, r := range recs {
		if err := e.WritePacket(r); err != nil {
			t.Fatal(err)
		}
	}
	end := End{Sent: 2, Stats: Stats{Seen: 5, Matched: 3, Dropped: 1}, Reason: "packet count reached"}
	if err := e.WriteEnd(end); err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(&buf)
	for i, want := range recs {
		got, gotEnd, err := d.Next()
		if err != nil || gotEnd != nil || got.TimeNs != want.TimeNs || got.OrigLen != want.OrigLen ||
			got.Dir != want.Dir || !bytes.Equal(got.Data, want.Data) {
			t.Fatalf("record %d: %+v %v %v", i, got, gotEnd, err)
		}
	}
	if _, gotEnd, err := d.Next(); err != nil || gotEnd == nil || *gotEnd != end {
		t.Fatalf("end: %+v %v", gotEnd, err)
	}
	if _, _, err := d.Next(); !errors.Is(err, ErrNoEnd) {
		t.Errorf("after the end: %v", err)
	}
}

// FuzzDecoder: any byte stream gives records within bounds or an error.
func FuzzDecoder(f *testing.F) {
	var buf bytes.Buffer
	e := NewEncoder(&buf)
	e.WritePacket(Record{TimeNs: 7, OrigLen: 70, Dir: Tx, Data: make([]byte, 64)})
	e.WriteEnd(End{Sent: 1, Reason: "x"})
	f.Add(buf.Bytes())
	f.Add([]byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder(bytes.NewReader(b))
		for {
			rec, end, err := d.Next()
			if err != nil || end != nil {
				return
			}
			if len(rec.Data) > rec.OrigLen || len(rec.Data) > maxSlot {
				t.Fatalf("record of %d bytes, orig %d", len(rec.Data), rec.OrigLen)
			}
		}
	})
}

// TestPcapReadByTcpdump writes both formats and reads them back with the
// installed tcpdump, including a truncated record.
func TestPcapReadByTcpdump(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump not installed")
	}
	for _, ng := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "c.pcap")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w, err := NewPcapWriter(f, PcapOptions{NG: ng, Port: "p1", Filter: "arp", Snap: 64})
		if err != nil {
			t.Fatal(err)
		}
		ts := time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC).UnixNano()
		arp := arpFrame()
		w.Write(Record{TimeNs: ts, OrigLen: len(arp), Dir: Rx, Data: arp})
		w.Write(Record{TimeNs: ts + 1000, OrigLen: 1000, Dir: Tx, Data: arp})
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		out, err := exec.Command("tcpdump", "-nn", "-tt", "-r", path).CombinedOutput()
		if err != nil {
			t.Fatalf("pcapng=%v: tcpdump: %v\n%s", ng, err, out)
		}
		s := string(out)
		if !strings.Contains(s, "1704164645.000006 ARP") || !strings.Contains(s, "1704164645.000007 ARP") ||
			!strings.Contains(s, "length 986") {
			t.Errorf("pcapng=%v: tcpdump read:\n%s", ng, s)
		}
		if !ng && !strings.Contains(s, "link-type EN10MB") {
			t.Errorf("pcap link type:\n%s", s)
		}
	}
}

// TestServeEnds checks the session's ends: count, client shutdown, a
// gone port, with the end record's counts.
func TestServeEnds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		o      SessionOptions
		client func(c *net.UnixConn)
		want   string
		sent   uint64
	}{
		{"count", SessionOptions{Count: 3}, nil, "packet count reached", 3},
		{"client", SessionOptions{}, func(c *net.UnixConn) { c.CloseWrite() }, "stopped by the client", 5},
		{"gone", SessionOptions{Gone: func() string { return "port p1 was deleted" }}, nil, "port p1 was deleted", 5},
		{"duration", SessionOptions{Duration: 50 * time.Millisecond}, nil, "duration reached", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fds, err := socketPair()
			if err != nil {
				t.Fatal(err)
			}
			srv, cli := fds[0], fds[1]
			defer srv.Close()
			defer cli.Close()
			tap := NewTap(Both, nil, 0)
			for i := range 5 {
				p := arpFrame()
				p[0] = byte(i)
				tap.ring.Put(p, 1000, int64(i), Rx)
			}
			detached := false
			done := make(chan End, 1)
			go func() { done <- Serve(srv, tap, tc.o, func() { detached = true }) }()
			if tc.client != nil {
				tc.client(cli)
			}
			d := NewDecoder(cli)
			var n uint64
			var end *End
			for end == nil {
				rec, e, err := d.Next()
				if err != nil {
					t.Fatal(err)
				}
				if e == nil && rec.Data[0] != byte(n) {
					t.Fatalf("record %d out of order", n)
				}
				n, end = n+map[bool]uint64{true: 1}[e == nil], e
			}
			got := <-done
			if !detached || end.Reason != tc.want || end.Sent != tc.sent || n != tc.sent || got.Reason != tc.want {
				t.Errorf("detached %v, end %+v, %d records; want %q after %d", detached, end, n, tc.want, tc.sent)
			}
		})
	}
}
