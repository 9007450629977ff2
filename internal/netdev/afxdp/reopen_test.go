package afxdp

import (
	"testing"

	"github.com/govs/govs/internal/netdev"
)

// TestReopenAtOnce closes a port and opens it again straight away, as a
// reconfiguration does: the kernel releases a closed socket's hold on its
// queue a little later, in a workqueue, and Open waits for it rather than
// failing with EBUSY.
func TestReopenAtOnce(t *testing.T) {
	requireAFXDP(t)
	_, v := newFwdTopo(t, 1)
	for _, m := range append(modes, struct {
		name string
		mode Mode
	}{"best-effort", BestEffort}) {
		for i := range 10 {
			p, err := Open(netdev.Spec{Name: v[0].host, Options: map[string]string{"xdp-mode": string(m.mode)}})
			if err != nil {
				t.Fatalf("%s, open %d: %v", m.name, i, err)
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}
