package afxdp

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/govs/govs/internal/netdev/linux"
	"github.com/govs/govs/internal/netdev/linux/linuxtest"
)

func TestCPUMask(t *testing.T) {
	for _, tc := range []struct {
		cpus []int
		want string
	}{
		{[]int{0}, "1"},
		{[]int{1}, "2"},
		{[]int{0, 1, 31}, "80000003"},
		{[]int{0, 33}, "2,00000001"},
		{[]int{64}, "1,00000000,00000000"},
	} {
		if got := cpuMask(tc.cpus); got != tc.want {
			t.Errorf("cpuMask(%v) = %q, want %q", tc.cpus, got, tc.want)
		}
	}
}

// rpsMask returns the rps_cpus of each of dev's rx queues as numbers (the
// kernel pads them to its CPU count).
func rpsMask(t *testing.T, dev string) []uint64 {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("/sys/class/net", dev, "queues", "rx-*", "rps_cpus"))
	if len(files) == 0 {
		t.Skip("no RPS in this kernel")
	}
	var masks []uint64
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v, err := strconv.ParseUint(strings.ReplaceAll(strings.TrimSpace(string(b)), ",", ""), 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		masks = append(masks, v)
	}
	return masks
}

func wantRPS(t *testing.T, dev string, want uint64) {
	t.Helper()
	for i, m := range rpsMask(t, dev) {
		if m != want {
			t.Errorf("rx-%d rps_cpus %x, want %x", i, m, want)
		}
	}
}

func wantGRO(t *testing.T, dev string, want bool) {
	t.Helper()
	on, err := linux.GRO(dev)
	if err != nil {
		t.Fatal(err)
	}
	if on != want {
		t.Errorf("%s: gro %v, want %v", dev, on, want)
	}
}

// TestForwardToSteers follows what forwarding changes on a veth in
// native mode and puts back: the XDP program off, GRO on (so veth keeps
// its NAPI), RPS steering to the given CPUs; and that GRO the user had on
// stays on.
func TestForwardToSteers(t *testing.T) {
	requireTCX(t)
	for _, groBefore := range []bool{false, true} {
		t.Run("gro "+strconv.FormatBool(groBefore), func(t *testing.T) {
			ns, v := newFwdTopo(t, 2)
			if err := linux.SetGRO(v[0].host, groBefore); err != nil {
				t.Fatal(err)
			}
			opts := map[string]string{"xdp-mode": "native"}
			x, y := openPort(t, v[0].host, opts), openPort(t, v[1].host, opts)
			if !x.fwd.detachXDP {
				t.Fatal("a veth in native mode does not take XDP off to forward")
			}
			xPeer, yPeer := linuxtest.Open(t, ns, v[0].peer), linuxtest.Open(t, ns, v[1].peer)
			wantRPS(t, v[0].host, 0)
			xdp := xdpProgID(t, v[0].host)

			forwardTo(t, x, y.TransmitIfindex(), []int{0})
			if xdpAttached(t, v[0].host) {
				t.Error("xdp program attached while forwarding")
			}
			wantRPS(t, v[0].host, 1)
			wantGRO(t, v[0].host, true)
			sent, _ := sendFrames(t, xPeer, v[1].peerMAC, v[0].peerMAC, 0, 20)
			recvPeer(t, yPeer, sent)

			if runtime.NumCPU() > 1 {
				forwardTo(t, x, y.TransmitIfindex(), []int{1})
				wantRPS(t, v[0].host, 2)
			}

			forwardTo(t, x, 0, nil)
			if got := xdpProgID(t, v[0].host); got != xdp {
				t.Errorf("xdp program %d after stop, want the redirect %d back", got, xdp)
			}
			wantRPS(t, v[0].host, 0)
			wantGRO(t, v[0].host, groBefore)
			sent, _ = sendFrames(t, xPeer, v[1].peerMAC, v[0].peerMAC, 100, 20)
			recvPort(t, x.RxQueues()[0], sent)
			noneOnPeer(t, yPeer)

			forwardTo(t, x, y.TransmitIfindex(), []int{0})
			if err := x.Close(); err != nil {
				t.Fatal(err)
			}
			wantRPS(t, v[0].host, 0)
			wantGRO(t, v[0].host, groBefore)
		})
	}
}
