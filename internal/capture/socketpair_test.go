package capture

import (
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// socketPair returns two connected unix stream sockets.
func socketPair() ([2]*net.UnixConn, error) {
	var out [2]*net.UnixConn
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return out, err
	}
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			return out, err
		}
		out[i] = c.(*net.UnixConn)
	}
	return out, nil
}
