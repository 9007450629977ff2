package vhost

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/govs/govs/internal/vhost/memfault"
)

// Guest memory faults. A front-end may truncate the file behind a memory
// region after SET_MEM_TABLE; the pages past the new end then raise
// SIGBUS when touched. Every path that touches guest memory runs with
// debug.SetPanicOnFault and recovers such a fault (memfault.Contain): the
// region's device is faulted like for a bad descriptor and Serve resets
// it, and guest memory is not touched again until a new front-end maps
// new memory.
var ErrGuestMemoryFault = errors.New("vhost-user: guest memory fault")

// errForeignFault: the packet being sent faulted in another guest's
// memory (a packet received in place); that guest's device is faulted,
// this ring is fine.
var errForeignFault = errors.New("vhost-user: fault in another guest's memory")

// guestFaultError is ErrGuestMemoryFault with where it happened.
type guestFaultError struct{ gpa, uva uint64 }

func (e *guestFaultError) Error() string {
	return fmt.Sprintf("%v at GPA %#x (front-end address %#x): memory region truncated by the front-end?",
		ErrGuestMemoryFault, e.gpa, e.uva)
}

func (e *guestFaultError) Is(target error) bool { return target == ErrGuestMemoryFault }

// regionOwner receives the faults in one mapped region.
type regionOwner struct {
	d        *Device
	gpa, uva uint64
}

// MemoryFault implements memfault.Owner.
func (o *regionOwner) MemoryFault(off uintptr) {
	d := o.d
	d.memBroken.Store(true)
	if d.faultIdx.Load() == 0 {
		d.faultGPA.Store(o.gpa + uint64(off))
		d.faultUVA.Store(o.uva + uint64(off))
	}
	d.fault(ErrGuestMemoryFault)
}

// register reports faults in t's regions to d.
func (t *memTable) register(d *Device) {
	for i := range t.n {
		r := &t.regions[i]
		memfault.Register(r.mem, &regionOwner{d: d, gpa: r.gpa, uva: r.uva})
	}
}

// faultError is the error Serve reports for fault index i.
func (d *Device) faultError(i int32) error {
	if faultErrors[i] == ErrGuestMemoryFault {
		return &guestFaultError{gpa: d.faultGPA.Load(), uva: d.faultUVA.Load()}
	}
	return faultErrors[i]
}

// recovered classifies a recovered panic value r: ErrGuestMemoryFault
// for a fault in d's memory, errForeignFault for one in another
// registered range (whose owner memfault.Contain told). Anything else is
// not ours to swallow: it panics again.
func (d *Device) recovered(r any) error {
	o, ok := memfault.Contain(r)
	if !ok {
		panic(r)
	}
	if ro, mine := o.(*regionOwner); mine && ro.d == d {
		return ErrGuestMemoryFault
	}
	return errForeignFault
}

// touchGuest runs f, which touches guest memory on the control side
// (Device.mu held), unless the memory is known to be broken. It reports
// false if f did not run or faulted.
func (d *Device) touchGuest(f func()) (ok bool) {
	if d.memBroken.Load() {
		return false
	}
	defer func(pof bool) {
		debug.SetPanicOnFault(pof)
		if r := recover(); r != nil {
			d.recovered(r)
			ok = false
		}
	}(debug.SetPanicOnFault(true))
	f()
	return true
}
