package dpif

import (
	"syscall"
	"time"
)

// threadCPUTime returns the CPU time the calling OS thread has used
// (RUSAGE_THREAD). Benchmarks lock their goroutine to its thread and report
// it beside wall time: on a shared, loaded machine it leaves out the time
// other processes held the CPU.
func threadCPUTime() time.Duration {
	const rusageThread = 1
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
