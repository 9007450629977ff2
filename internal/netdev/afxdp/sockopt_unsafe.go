package afxdp

import (
	"unsafe"

	"github.com/govs/govs/internal/netdev/linux"
	"golang.org/x/sys/unix"
)

// x/sys has no helpers for AF_XDP's struct options.

func setUmemReg(fd int, reg *unix.XDPUmemReg) error {
	return setsockopt(fd, unix.XDP_UMEM_REG, unsafe.Pointer(reg), unsafe.Sizeof(*reg))
}

func mmapOffsets(fd int) (unix.XDPMmapOffsets, error) {
	var off unix.XDPMmapOffsets
	err := getsockopt(fd, unix.XDP_MMAP_OFFSETS, unsafe.Pointer(&off), unsafe.Sizeof(off))
	return off, err
}

func statistics(fd int) (unix.XDPStatistics, error) {
	var st unix.XDPStatistics
	err := getsockopt(fd, unix.XDP_STATISTICS, unsafe.Pointer(&st), unsafe.Sizeof(st))
	return st, err
}

func setsockopt(fd, opt int, p unsafe.Pointer, n uintptr) error {
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), unix.SOL_XDP, uintptr(opt), uintptr(p), n, 0)
	if e != 0 {
		return e
	}
	return nil
}

func getsockopt(fd, opt int, p unsafe.Pointer, n uintptr) error {
	l := uint32(n)
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_XDP, uintptr(opt), uintptr(p), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return e
	}
	return nil
}

// kickTx asks the kernel to send what the TX ring holds (need_wakeup set).
func kickTx(fd int) unix.Errno { return linux.Kick(fd, true) }

// kickRx tells the kernel the fill ring has frames again (need_wakeup set).
func kickRx(fd int) unix.Errno { return linux.Kick(fd, false) }

func sliceAddr(b []byte) uintptr { return uintptr(unsafe.Pointer(&b[0])) }
