package ovsdb

import (
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// serverProcAttr has the kernel send ovsdb-server SIGTERM when govs dies
// without stopping it (SIGKILL, a crash), so that the server does not
// outlive its supervisor holding the pidfile and the database lock: the
// next govs could not start its own. (Pdeathsig follows the thread that
// started the server; should that thread end first, the server is
// stopped and the supervisor starts it again.)
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}

// waitServerGone waits, up to timeout, until the ovsdb-server that pidfile
// names is no longer running.
func waitServerGone(pidfile string, timeout time.Duration) {
	b, err := os.ReadFile(pidfile)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return
	}
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
		if err != nil || strings.TrimSpace(string(comm)) != "ovsdb-server" || !processRunning(pid) {
			return
		}
	}
}

func dialable(path string) bool {
	c, err := net.DialTimeout("unix", path, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// processRunning reports whether pid is alive and not a zombie; a child that
// exited stays a zombie until waited for, which kill(0) would call alive.
func processRunning(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
