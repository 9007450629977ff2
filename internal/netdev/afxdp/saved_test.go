package afxdp

import (
	"encoding/json"
	"os"
	"strconv"
	"testing"

	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/netdev/linux"
)

func openIn(t *testing.T, dev, runDir string) *Port {
	t.Helper()
	p, err := Open(netdev.Spec{Name: dev, Options: map[string]string{"xdp-mode": "native"}, RunDir: runDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func readSaved(t *testing.T, runDir, dev string) (savedState, bool) {
	t.Helper()
	b, err := os.ReadFile(savedPath(runDir, dev))
	if os.IsNotExist(err) {
		return savedState{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	var st savedState
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return st, true
}

// TestForwardSavedForACrash follows the file that lets a port put back
// what a killed govs left changed on its device: written while a forward
// runs, gone once it stops, and acted on by the next Open, which puts
// threaded, rps_cpus and GRO back as they were before that forward.
func TestForwardSavedForACrash(t *testing.T) {
	requireTCX(t)
	_, v := newFwdTopo(t, 2)
	run := t.TempDir()
	x, y := openIn(t, v[0].host, run), openIn(t, v[1].host, run)

	forwardTo(t, x, y.TransmitIfindex(), []int{0})
	st, ok := readSaved(t, run, v[0].host)
	if !ok {
		t.Fatal("no saved file while forwarding")
	}
	if st.Ifindex != v[0].index || st.Threaded != "0" || !st.GROOn || len(st.RPS) == 0 {
		t.Errorf("saved %+v, want ifindex %d, threaded 0, gro turned on, the rps values", st, v[0].index)
	}
	for f, old := range st.RPS {
		if n, err := strconv.ParseUint(old, 16, 64); err != nil || n != 0 {
			t.Errorf("%s saved as %q, want the 0 it was", f, old)
		}
	}
	forwardTo(t, x, 0, nil)
	if _, ok := readSaved(t, run, v[0].host); ok {
		t.Error("saved file left after the forward stopped")
	}

	// A govs killed while forwarding: its links are gone with it, the
	// file and the device settings stay.
	forwardTo(t, x, y.TransmitIfindex(), []int{0})
	b, err := os.ReadFile(savedPath(run, v[0].host))
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(savedPath(run, v[0].host), b, 0o600); err != nil {
		t.Fatal(err)
	}
	// GRO first: a veth has NAPI, to be threaded, only with GRO or XDP.
	if err := linux.SetGRO(v[0].host, true); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, "/sys/class/net/"+v[0].host+"/threaded", "1")
	for f := range st.RPS {
		mustWrite(t, f, "1")
	}

	x2 := openIn(t, v[0].host, run)
	if _, ok := readSaved(t, run, v[0].host); ok {
		t.Error("saved file left after Open put it back")
	}
	if got := threaded(t, v[0].host); got != "0" {
		t.Errorf("threaded %s, want 0 put back", got)
	}
	wantRPS(t, v[0].host, 0)
	// While a program is attached veth shows GRO on whatever was asked,
	// so GRO is read once the new port is gone.
	if err := x2.Close(); err != nil {
		t.Fatal(err)
	}
	wantGRO(t, v[0].host, false)

	// A file about an earlier device of the same name is dropped, and
	// this device left alone.
	stale, _ := json.Marshal(savedState{Ifindex: v[0].index + 1000, RPS: st.RPS})
	if err := os.WriteFile(savedPath(run, v[0].host), stale, 0o600); err != nil {
		t.Fatal(err)
	}
	for f := range st.RPS {
		mustWrite(t, f, "1")
	}
	openIn(t, v[0].host, run)
	if _, ok := readSaved(t, run, v[0].host); ok {
		t.Error("stale saved file left")
	}
	wantRPS(t, v[0].host, 1)
}

func mustWrite(t *testing.T, path, v string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(v), 0); err != nil {
		t.Fatal(err)
	}
}
