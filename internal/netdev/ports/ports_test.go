package ports

import (
	"slices"
	"testing"

	"github.com/govs/govs/internal/netdev"
)

func TestKernelTypesRegistered(t *testing.T) {
	got := netdev.Types()
	for _, typ := range []string{"afxdp", "internal", "system", "tap"} {
		if !slices.Contains(got, typ) {
			t.Errorf("type %q not registered (have %v)", typ, got)
		}
	}
}
