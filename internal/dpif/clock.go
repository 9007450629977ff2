package dpif

import (
	_ "unsafe" // for go:linkname
)

// monotime returns the runtime's monotonic clock in nanoseconds. PMDs read
// it once per iteration; time.Now would read the wall clock as well, a
// second vDSO call that buys nothing in the packet loop.
//
//go:linkname monotime runtime.nanotime
func monotime() int64
