package linux

import (
	"errors"
	"fmt"
	"net"
	"unicode"
	"unicode/utf8"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// DeviceError says a kernel network device could not be opened, worded as
// OVS words it: "could not open network device eth9 (No such device)".
type DeviceError struct {
	Name string
	Err  error
}

func (e *DeviceError) Error() string {
	return fmt.Sprintf("could not open network device %s (%s)", e.Name, strerror(e.Err))
}

func (e *DeviceError) Unwrap() error { return e.Err }

// strerror capitalises an errno's text like C's strerror, so messages read
// as OVS's do.
func strerror(err error) string {
	s := err.Error()
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// Device is a kernel network interface, known by its ifindex so a rename
// does not lose it. Port types embed it for MAC, MTU and LinkUp.
type Device struct {
	name  string
	index int
}

// Lookup finds the kernel interface called name. A missing interface gives
// a *DeviceError wrapping unix.ENODEV.
func Lookup(name string) (Device, error) {
	l, err := netlink.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			err = unix.ENODEV
		}
		return Device{}, &DeviceError{Name: name, Err: err}
	}
	return Device{name: name, index: l.Attrs().Index}, nil
}

// Name returns the interface name the device was opened with.
func (d Device) Name() string { return d.name }

// Index returns the kernel ifindex.
func (d Device) Index() int { return d.index }

func (d Device) attrs() *netlink.LinkAttrs {
	l, err := netlink.LinkByIndex(d.index)
	if err != nil {
		return nil
	}
	return l.Attrs()
}

// MAC returns the interface's Ethernet address, nil if it is gone.
func (d Device) MAC() net.HardwareAddr {
	if a := d.attrs(); a != nil {
		return a.HardwareAddr
	}
	return nil
}

// MTU returns the interface's MTU, 0 if it is gone.
func (d Device) MTU() int {
	if a := d.attrs(); a != nil {
		return a.MTU
	}
	return 0
}

// LinkUp reports the carrier as OVS does (IFF_RUNNING): administratively up
// and with a lower layer that is up.
func (d Device) LinkUp() bool {
	a := d.attrs()
	return a != nil && a.RawFlags&unix.IFF_RUNNING != 0
}

// SetUp brings the interface administratively up.
func (d Device) SetUp() error {
	l, err := netlink.LinkByIndex(d.index)
	if err != nil {
		return fmt.Errorf("%s: %w", d.name, err)
	}
	if err := netlink.LinkSetUp(l); err != nil {
		return fmt.Errorf("%s: set up: %w", d.name, err)
	}
	return nil
}

// Configure applies Interface.mtu_request and Interface.mac (zero values
// leave the kernel's settings alone).
func (d Device) Configure(mtu int, mac net.HardwareAddr) error {
	l, err := netlink.LinkByIndex(d.index)
	if err != nil {
		return fmt.Errorf("%s: %w", d.name, err)
	}
	a := l.Attrs()
	if mtu != 0 && mtu != a.MTU {
		if err := netlink.LinkSetMTU(l, mtu); err != nil {
			return fmt.Errorf("%s: set mtu %d: %w", d.name, mtu, err)
		}
	}
	if len(mac) != 0 && mac.String() != a.HardwareAddr.String() {
		if err := netlink.LinkSetHardwareAddr(l, mac); err != nil {
			return fmt.Errorf("%s: set mac %s: %w", d.name, mac, err)
		}
	}
	return nil
}

// Status returns the Interface.status keys every kernel port reports.
func (d Device) Status() map[string]string {
	st := map[string]string{}
	st["ifindex"] = fmt.Sprint(d.index)
	if dr, err := Driver(d.name); err == nil && dr != "" {
		st["driver_name"] = dr
	}
	return st
}

// Driver returns the kernel driver behind the interface ("veth", "tun",
// "ixgbe"), as ethtool -i shows it.
func Driver(name string) (string, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	info, err := unix.IoctlGetEthtoolDrvinfo(fd, name)
	if err != nil {
		return "", fmt.Errorf("%s: ethtool driver info: %w", name, err)
	}
	return unix.ByteSliceToString(info.Driver[:]), nil
}
