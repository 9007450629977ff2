//go:build !amd64

package prefetch

// Lines does nothing where there is no assembly for it: a prefetch is only
// a hint.
func Lines(addrs []uintptr) {}
