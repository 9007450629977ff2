package daemon

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// LockPidfile takes the POSIX record lock (fcntl F_SETLK, write lock on the
// whole file) that OVS's daemons hold on their pidfile. ovs-appctl reads
// $OVS_RUNDIR/<target>.pid and trusts the pid in it only if the process
// holding that lock is the one named (OVS's read_pidfile); otherwise it
// reports "No such process" and never reaches the .ctl socket.
//
// The lock lives as long as the returned release is not called and, as
// every POSIX record lock, only while this process closes no other
// descriptor of the same file.
func LockPidfile(path string) (release func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("lock pidfile: %w", err)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart}
	if err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock pidfile %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
