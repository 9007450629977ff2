package linux

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// GRO reports whether generic receive offload is on for the interface
// (ethtool -k's generic-receive-offload).
func GRO(name string) (bool, error) {
	v, err := ethtoolValue(name, unix.ETHTOOL_GGRO, 0)
	if err != nil {
		return false, fmt.Errorf("%s: get gro: %w", name, err)
	}
	return v != 0, nil
}

// SetGRO turns generic receive offload on or off (ethtool -K name gro).
func SetGRO(name string, on bool) error {
	var data uint32
	if on {
		data = 1
	}
	if _, err := ethtoolValue(name, unix.ETHTOOL_SGRO, data); err != nil {
		return fmt.Errorf("%s: set gro: %w", name, err)
	}
	return nil
}

// ethtoolValue is the SIOCETHTOOL ioctl for the commands that take and
// return a struct ethtool_value.
func ethtoolValue(name string, cmd, data uint32) (uint32, error) {
	if len(name) >= unix.IFNAMSIZ {
		return 0, unix.EINVAL
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	v := struct{ cmd, data uint32 }{cmd, data}
	// struct ifreq: the name, then a union whose member here is a pointer
	// to the ethtool_value.
	var ifr struct {
		name [unix.IFNAMSIZ]byte
		data unsafe.Pointer
		_    [24 - unsafe.Sizeof(uintptr(0))]byte
	}
	copy(ifr.name[:], name)
	ifr.data = unsafe.Pointer(&v)
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr))); e != 0 {
		return 0, e
	}
	return v.data, nil
}
