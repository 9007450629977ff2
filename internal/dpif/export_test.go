package dpif

import "testing"

// SetBenchUpcaller replaces the slow path of the upcall benchmarks
// (bench_ofproto_test.go plugs in ofproto, which imports dpif).
func SetBenchUpcaller(f func(tb testing.TB, ports int) Upcaller) { newBenchUpcaller = f }
