package dpif

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// pinToCPU binds the calling OS thread to cpu.
func pinToCPU(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("pin pmd to cpu %d: %w", cpu, err)
	}
	return nil
}
