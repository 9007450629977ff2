// Package memfault contains memory faults on memory another process can
// take away under the switch: a vhost-user front-end's shared memory,
// which it may truncate after handing it over. Touching a page past the
// new end of the file raises SIGBUS, which Go turns into a fatal error,
// unless the goroutine runs with debug.SetPanicOnFault(true): then it is
// a panic whose value has the fault address. Whoever recovers it asks
// Contain which registered range the address is in; that range's owner
// is told (and resets its port) and the switch goes on.
package memfault

import (
	"runtime"
	"sync"
	"unsafe"
)

// Owner is told about a fault in memory it registered.
type Owner interface {
	// MemoryFault is called with the fault's offset in the registered
	// range, from the goroutine that faulted (a PMD: it must not block).
	MemoryFault(off uintptr)
}

type span struct {
	start, end uintptr
	owner      Owner
}

// The registry changes when a front-end maps or unmaps memory and is read
// only after a fault, so a mutex is enough.
var (
	mu    sync.Mutex
	spans []span
)

// Register reports faults in mem to o, until Unregister(mem).
func Register(mem []byte, o Owner) {
	if len(mem) == 0 {
		return
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(mem)))
	mu.Lock()
	spans = append(spans, span{start, start + uintptr(len(mem)), o})
	mu.Unlock()
}

// Unregister forgets mem (before it is unmapped).
func Unregister(mem []byte) {
	if len(mem) == 0 {
		return
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(mem)))
	mu.Lock()
	defer mu.Unlock()
	for i, s := range spans {
		if s.start == start {
			spans[i] = spans[len(spans)-1]
			spans[len(spans)-1] = span{}
			spans = spans[:len(spans)-1]
			return
		}
	}
}

// Addr returns the fault address of a recovered panic value, or false if
// it is not a memory fault.
func Addr(r any) (uintptr, bool) {
	if _, ok := r.(runtime.Error); !ok {
		return 0, false
	}
	a, ok := r.(interface{ Addr() uintptr })
	if !ok {
		return 0, false
	}
	return a.Addr(), true
}

// Contain tells the owner of the faulting range about a recovered panic
// value and returns it; it returns false (and tells no one) for anything
// but a memory fault in registered memory, which the caller must panic
// with again.
func Contain(r any) (Owner, bool) {
	addr, ok := Addr(r)
	if !ok {
		return nil, false
	}
	mu.Lock()
	var hit span
	for _, s := range spans {
		if addr >= s.start && addr < s.end {
			hit = s
			break
		}
	}
	mu.Unlock()
	if hit.owner == nil {
		return nil, false
	}
	hit.owner.MemoryFault(addr - hit.start)
	return hit.owner, true
}
