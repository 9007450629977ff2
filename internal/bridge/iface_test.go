package bridge

import (
	"log/slog"
	"sync"
	"testing"

	"github.com/govs/govs/internal/dpif"
	"github.com/govs/govs/internal/netdev/dummy"
	"github.com/govs/govs/internal/vswitchd"
)

// TestInterfaceStateWhileLinksChange: the database write-back reads an
// interface's state while the housekeeping goroutine polls link changes;
// under the race detector (make race) any field read outside the
// switch's lock is reported.
func TestInterfaceStateWhileLinksChange(t *testing.T) {
	s, err := New(Options{RunDir: t.TempDir(), Log: slog.New(slog.DiscardHandler),
		Datapath: dpif.Config{PMDCPUs: []int{0}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.AddBridge(vswitchd.BridgeSpec{Name: "br0", FailMode: "secure"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddInterface("br0", vswitchd.PortSpec{Name: "p1"}, vswitchd.InterfaceSpec{Name: "p1", Type: dummy.Type}); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	dev := s.bridges["br0"].ifaces["p1"].dev.(*dummy.Port)
	s.mu.Unlock()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 200 {
			dev.SetLinkUp(i%2 == 0)
			s.pollLinks()
		}
	}()
	for range 200 {
		if st := s.InterfaceState("br0", "p1"); st.Status == nil {
			t.Fatal("no state for p1")
		}
	}
	wg.Wait()
	dev.SetLinkUp(true)
	s.pollLinks()
	if st := s.InterfaceState("br0", "p1"); !st.LinkUp {
		t.Error("link up not seen")
	}
}
