package demo

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	readyTimeout = 20 * time.Second // govs answers ovs-vsctl
	stopTimeout  = 10 * time.Second // govs exits after SIGTERM
)

// govsDaemon is the `govs run` child.
type govsDaemon struct {
	cmd    *exec.Cmd
	log    string // its stdout and stderr
	runDir string
	exited chan struct{} // closed when it exits
	err    error         // its exit status, once exited is closed
}

// ovsEnv returns the environment for govs and the OVS tools: the demo's
// own directories under base, every other OVS_* variable dropped.
func ovsEnv(base string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OVS_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"OVS_RUNDIR="+filepath.Join(base, "run"),
		"OVS_DBDIR="+filepath.Join(base, "db"),
		"OVS_LOGDIR="+filepath.Join(base, "log"),
		"OVS_SYSCONFDIR="+filepath.Join(base, "etc"),
	)
}

// startGovs starts `exe run` with env and waits until it serves the
// database.
func startGovs(ctx context.Context, r *runner, exe, base string) (*govsDaemon, error) {
	for _, d := range []string{"run", "db", "log", "etc"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			return nil, err
		}
	}
	d := &govsDaemon{log: filepath.Join(base, "govs.log"), runDir: filepath.Join(base, "run"), exited: make(chan struct{})}
	f, err := os.Create(d.log)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r.p.command("govs", "run")
	// Not CommandContext: govs is stopped by the clean-up, in order, and
	// not killed on Ctrl-C. Pdeathsig stops it if the demo dies.
	d.cmd = exec.Command(exe, "run")
	d.cmd.Env = r.env
	d.cmd.Stdout = f
	d.cmd.Stderr = f
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start govs: %w", err)
	}
	go func() {
		d.err = d.cmd.Wait()
		close(d.exited)
	}()
	err = waitFor(ctx, readyTimeout, "govs to answer ovs-vsctl", func() (bool, error) {
		select {
		case <-d.exited:
			return false, fmt.Errorf("govs exited during start-up (%v)", d.err)
		default:
		}
		out, err := r.run(ctx, quiet, "ovs-vsctl", "--timeout=1", "get", "Open_vSwitch", ".", "ovs_version")
		return err == nil && strings.TrimSpace(out) != "[]", nil
	})
	if err != nil {
		return d, err
	}
	r.p.note("    govs is running: pid %d, run directory %s", d.cmd.Process.Pid, d.runDir)
	return d, nil
}

// stop sends SIGTERM (govs then removes its XDP programs and TAPs) and
// waits; after stopTimeout it kills govs. The ovsdb-server govs supervised
// goes with it; if govs was killed, stop ends that server too.
func (d *govsDaemon) stop() error {
	var err error
	select {
	case <-d.exited: // already reported by the step that noticed
	default:
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(stopTimeout):
			_ = d.cmd.Process.Kill()
			<-d.exited
			err = fmt.Errorf("govs did not exit within %v of SIGTERM; killed", stopTimeout)
		}
	}
	if pid := pidFromFile(filepath.Join(d.runDir, "ovsdb-server.pid")); pid > 0 && syscall.Kill(pid, 0) == nil {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		for i := 0; i < 50 && syscall.Kill(pid, 0) == nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	return err
}

// logTail returns the last n lines govs printed.
func (d *govsDaemon) logTail(n int) string {
	b, err := os.ReadFile(d.log)
	if err != nil {
		return ""
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

func pidFromFile(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// waitFor polls cond every 100 ms until it is true, returns an error, ctx
// ends, or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s", timeout, what)
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
