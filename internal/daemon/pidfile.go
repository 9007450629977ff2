package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrAlreadyRunning is wrapped by CreatePidfile when a live process owns the
// pidfile: an ovs-vswitchd or another govs already serves the directory.
var ErrAlreadyRunning = errors.New("already running")

// Pidfile is a pidfile this process owns.
type Pidfile struct {
	path string
	lock *os.File
}

// CreatePidfile claims path for this process, as OVS's pidfile check does: a
// pidfile naming a live process (other than us) is refused with
// ErrAlreadyRunning; a stale one is replaced. The file is written under a
// sibling lock so that two daemons starting together cannot both win; the
// lock is held for the life of the process.
func CreatePidfile(path string) (*Pidfile, error) {
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pidfile: %w", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		pid, _ := ReadPidfile(path)
		return nil, fmt.Errorf("%s: %w: pid %d (%s) serves %s; stop it or use another OVS_RUNDIR",
			path, ErrAlreadyRunning, pid, processName(pid), filepath.Dir(path))
	}
	if pid, err := ReadPidfile(path); err == nil && pid != os.Getpid() && processAlive(pid) {
		lock.Close()
		return nil, fmt.Errorf("%s: %w: pid %d (%s) serves %s; stop it or use another OVS_RUNDIR",
			path, ErrAlreadyRunning, pid, processName(pid), filepath.Dir(path))
	}
	// Write then rename, so a reader (ovs-appctl) never sees a torn file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		lock.Close()
		return nil, fmt.Errorf("pidfile: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		lock.Close()
		return nil, fmt.Errorf("pidfile: %w", err)
	}
	return &Pidfile{path: path, lock: lock}, nil
}

// Path returns the pidfile's path.
func (p *Pidfile) Path() string { return p.path }

// Remove deletes the pidfile if it still names this process, and releases
// the lock.
func (p *Pidfile) Remove() {
	if pid, err := ReadPidfile(p.path); err == nil && pid == os.Getpid() {
		os.Remove(p.path)
	}
	os.Remove(p.lock.Name())
	p.lock.Close()
}

// ReadPidfile returns the pid written in path.
func ReadPidfile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%s: no pid in pidfile", path)
	}
	return pid, nil
}

// processAlive reports whether pid exists. EPERM means it exists but is
// someone else's, which still makes the directory taken.
func processAlive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

func processName(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// CheckPidfile returns an ErrAlreadyRunning error if path names a live
// process other than this one, without claiming anything. --detach uses it
// to refuse in the foreground, where the user sees the message.
func CheckPidfile(path string) error {
	if pid, err := ReadPidfile(path); err == nil && pid != os.Getpid() && processAlive(pid) {
		return fmt.Errorf("%s: %w: pid %d (%s) serves %s; stop it or use another OVS_RUNDIR",
			path, ErrAlreadyRunning, pid, processName(pid), filepath.Dir(path))
	}
	return nil
}
