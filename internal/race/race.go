// Package race tells tests whether they run under the race detector
// (`make race`). The detector instruments memory, so allocation counts
// measured there are not the program's: tests that assert them skip
// themselves, and the plain run (`make unit`) keeps checking them.
package race

import "testing"

// SkipAllocs skips t when the race detector is on.
func SkipAllocs(t testing.TB) {
	t.Helper()
	if Enabled {
		t.Skip("allocation counts differ under the race detector")
	}
}
