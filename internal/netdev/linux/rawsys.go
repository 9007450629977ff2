package linux

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The calls below are for a PMD's poll loop, on non-blocking
// descriptors, so they never block. They are raw system calls, which skip
// the Go scheduler's entry and exit bookkeeping: a PMD polling a TAP
// device reads it hundreds of thousands of times a second, most of them
// finding nothing, and its thread is locked to it, so there is no P worth
// handing to another goroutine for the length of such a call.

// ReadNonblock is read(2) on a non-blocking descriptor.
func ReadNonblock(fd int, p []byte) (int, unix.Errno) {
	if len(p) == 0 {
		return 0, 0
	}
	n, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return int(n), e
}

// WriteNonblock is write(2) on a non-blocking descriptor.
func WriteNonblock(fd int, p []byte) (int, unix.Errno) {
	if len(p) == 0 {
		return 0, 0
	}
	n, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return int(n), e
}

// Kick is sendto(fd, NULL, 0, MSG_DONTWAIT) (write is true) or
// recvfrom(fd, NULL, 0, MSG_DONTWAIT): how AF_PACKET and AF_XDP sockets
// are told their rings have work.
func Kick(fd int, write bool) unix.Errno {
	nr := uintptr(unix.SYS_RECVFROM)
	if write {
		nr = unix.SYS_SENDTO
	}
	_, _, e := unix.RawSyscall6(nr, uintptr(fd), 0, 0, unix.MSG_DONTWAIT, 0, 0)
	return e
}
