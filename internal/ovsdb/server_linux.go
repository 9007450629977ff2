package ovsdb

import (
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

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
