package ofagent

import (
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/odp"
	"github.com/govs/govs/internal/ofproto"
)

// testSwitch is an in-process bridge served by an agent, with hooks that
// record what the datapath would have been asked.
type testSwitch struct {
	b     *ofproto.Bridge
	o     *ofproto.Ofproto
	a     *Agent
	dir   string
	sock  string
	mu    sync.Mutex
	syncs int
	execs []execCall
	conn  []bool
}

type execCall struct {
	pkt    []byte
	inPort uint32
	acts   odp.Actions
}

func newTestSwitch(t *testing.T) *testSwitch {
	t.Helper()
	ts := &testSwitch{dir: t.TempDir()}
	ts.o = ofproto.New(ofproto.Options{OnPacketIn: func(_ string, pi *ofproto.PacketIn) {
		if ts.a != nil {
			ts.a.PacketIn(pi)
		}
	}})
	ts.b = ofproto.NewBridge("br0")
	ts.b.SetDatapathID(0x1234)
	for i, name := range []string{"p1", "p2"} {
		p := &ofproto.Port{OFPort: uint32(i + 1), Name: name, ODPPort: uint32(i + 1),
			HWAddr: [6]byte{0, 0, 0, 0, 0, byte(i + 1)}, Curr: 1 << 6, CurrSpeed: 10000000}
		if err := ts.b.AddPort(p); err != nil {
			t.Fatal(err)
		}
	}
	ts.o.AddBridge(ts.b)
	a, err := New(Options{
		Bridge: ts.b, Ofproto: ts.o, RunDir: ts.dir,
		Sync: func() { ts.mu.Lock(); ts.syncs++; ts.mu.Unlock() },
		Execute: func(pkt []byte, inPort uint32, acts odp.Actions) error {
			ts.mu.Lock()
			ts.execs = append(ts.execs, execCall{append([]byte(nil), pkt...), inPort, append(odp.Actions(nil), acts...)})
			ts.mu.Unlock()
			return nil
		},
		PortStats: func(ofport uint32) (netdev.Stats, bool) {
			return netdev.Stats{RxPackets: 10 * uint64(ofport), TxPackets: 20, RxBytes: 1000, TxBytes: 2000}, true
		},
		OnConnectivity: func(up bool) { ts.mu.Lock(); ts.conn = append(ts.conn, up); ts.mu.Unlock() },
		Log:            slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.a = a
	ts.sock = MgmtSocket(ts.dir, "br0")
	t.Cleanup(func() { a.Close() })
	return ts
}

// ofctl runs ovs-ofctl against the switch's management socket; the test
// is skipped where ovs-ofctl is not installed.
func (ts *testSwitch) ofctl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := ts.ofctlErr(t, args...)
	if err != nil {
		t.Fatalf("ovs-ofctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (ts *testSwitch) ofctlErr(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("ovs-ofctl")
	if err != nil {
		t.Skip("ovs-ofctl not installed")
	}
	full := make([]string, 0, len(args)+1)
	for _, a := range args {
		if a == "SW" {
			a = "unix:" + ts.sock
		}
		full = append(full, a)
	}
	cmd := exec.Command(bin, append([]string{"--timeout=10"}, full...)...)
	cmd.Dir = ts.dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}
