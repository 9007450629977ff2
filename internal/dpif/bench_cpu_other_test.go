//go:build !linux

package dpif

import "time"

// threadCPUTime is not measured here: benchmarks report 0.
func threadCPUTime() time.Duration { return 0 }
