package prefetch

import (
	"testing"
	"unsafe"

	"github.com/govs/govs/internal/race"
	"golang.org/x/sys/unix"
)

// A prefetch must never fault: not on nil, not on unmapped or kernel
// addresses, not on memory unmapped since the address was taken (a guest
// memory table retired between two batches).
func TestLinesNeverFaults(t *testing.T) {
	m, err := unix.Mmap(-1, 0, 1<<16, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	gone := uintptr(unsafe.Pointer(&m[4096]))
	if err := unix.Munmap(m); err != nil {
		t.Fatal(err)
	}
	x := make([]byte, 256)
	addrs := []uintptr{
		0, 1, gone, ^uintptr(0), 0xffff800000000000,
		uintptr(unsafe.Pointer(&x[0])), uintptr(unsafe.Pointer(&x[255])),
	}
	Lines(nil)
	Lines(addrs[:0])
	for i := range addrs {
		Lines(addrs[i : i+1])
	}
	Lines(addrs)
}

func TestLinesNoAlloc(t *testing.T) {
	race.SkipAllocs(t)
	addrs := make([]uintptr, 32)
	if n := testing.AllocsPerRun(100, func() { Lines(addrs) }); n != 0 {
		t.Fatalf("Lines allocates %v times per call", n)
	}
}

func BenchmarkLines32(b *testing.B) {
	buf := make([]byte, 32*64)
	addrs := make([]uintptr, 32)
	for i := range addrs {
		addrs[i] = uintptr(unsafe.Pointer(&buf[64*i]))
	}
	for b.Loop() {
		Lines(addrs)
	}
}
