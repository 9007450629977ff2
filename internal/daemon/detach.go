package daemon

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// detachEnv marks the child of Detach, and carries the number of the pipe it
// reports readiness on.
const detachEnv = "GOVS_DETACHED_READY_FD"

// Detach implements --detach the way OVS does: the foreground process starts
// a copy of itself in a new session, waits until that copy says it is ready
// (its pidfile written, the database connected), and then exits with
// success, so that `govs run --detach && ovs-vsctl ...` works. If the child
// dies first, Detach returns its error output's summary.
//
// In the child, Detach returns (nil, Ready) immediately: the child calls
// ready once it serves. In the parent it never returns on success.
func Detach(args []string) (ready func(), err error) {
	if fd := os.Getenv(detachEnv); fd != "" {
		os.Unsetenv(detachEnv)
		w := os.NewFile(3, "ready")
		return func() {
			// The parent exits once told, and a write to its gone stderr
			// pipe would kill us with SIGPIPE: point the standard streams
			// at /dev/null before telling it.
			if null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0); err == nil {
				syscall.Dup2(int(null.Fd()), 1)
				syscall.Dup2(int(null.Fd()), 2)
				null.Close()
			}
			w.Write([]byte{'R'})
			w.Close()
		}, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("detach: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("detach: %w", err)
	}
	var stderr strings.Builder
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), detachEnv+"=3")
	cmd.ExtraFiles = []*os.File{w}
	cmd.Stdout = io.Discard
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("detach: %w", err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("detach: %w", err)
	}
	w.Close()
	copied := make(chan struct{})
	go func() {
		io.Copy(&limitedBuilder{b: &stderr, max: 4096}, errPipe)
		close(copied)
	}()
	var b [1]byte
	n, _ := r.Read(b[:])
	if n == 1 {
		os.Exit(0)
	}
	// The pipe closed without a word: the child failed to start.
	<-copied
	werr := cmd.Wait()
	msg := strings.TrimSpace(stderr.String())
	if msg == "" && werr != nil {
		msg = werr.Error()
	}
	return nil, errors.New("detached daemon failed to start: " + msg)
}

type limitedBuilder struct {
	b   *strings.Builder
	max int
}

func (l *limitedBuilder) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		if len(p) > room {
			l.b.Write(p[:room])
		} else {
			l.b.Write(p)
		}
	}
	return len(p), nil
}
