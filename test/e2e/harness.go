package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Govs is one govs daemon started by a test, in its own directories.
type Govs struct {
	Bin    string
	RunDir string
	DBDir  string
	LogDir string
	// Netns, when set, is the network namespace govs runs in (through
	// `ip netns exec`): the bridges' internal ports and the switch-side
	// ends of the test's links live there, so a test can use OVS's own
	// names (br0) without colliding with other runs on the machine.
	Netns string
	cmd   *exec.Cmd
	out   *syncBuffer
	// exited is closed when the running govs has exited (cmd.Wait done).
	exited chan struct{}
}

// syncBuffer is govs' output: written by exec's copying goroutine, read
// by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// BuildGovs builds cmd/govs once per test binary and returns its path.
// GOVS_E2E_RACE=1 builds it with the race detector (set GORACE's
// log_path to collect its reports from every daemon the tests start).
func BuildGovs(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "govs-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "govs")
		args := []string{"build", "-o", builtBin}
		if os.Getenv("GOVS_E2E_RACE") == "1" {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, "github.com/govs/govs/cmd/govs")...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// RequireOVSTools skips the test when ovsdb-server or ovs-vsctl are missing.
func RequireOVSTools(t testing.TB) {
	t.Helper()
	for _, p := range []string{"ovs-vsctl", "ovsdb-tool"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s not installed (openvswitch-switch/common)", p)
		}
	}
	if _, err := exec.LookPath("ovsdb-server"); err != nil {
		if _, err := os.Stat("/usr/sbin/ovsdb-server"); err != nil {
			t.Skip("ovsdb-server not installed")
		}
	}
}

// NewGovs prepares directories for a govs instance under a fresh temporary
// directory; Start runs it.
func NewGovs(t testing.TB) *Govs {
	t.Helper()
	RequireOVSTools(t)
	base := t.TempDir()
	return &Govs{
		Bin:    BuildGovs(t),
		RunDir: filepath.Join(base, "run"),
		DBDir:  filepath.Join(base, "db"),
		LogDir: filepath.Join(base, "log"),
	}
}

// Env is the environment that points OVS tools and govs at this instance.
func (g *Govs) Env() []string {
	return append(os.Environ(), "OVS_RUNDIR="+g.RunDir, "OVS_DBDIR="+g.DBDir, "OVS_LOGDIR="+g.LogDir)
}

// Command returns `govs args...` in this instance's environment.
func (g *Govs) Command(args ...string) *exec.Cmd {
	cmd := exec.Command(g.Bin, args...)
	if g.Netns != "" {
		// ip execs the command, so the child's pid is govs'.
		cmd = exec.Command("ip", append([]string{"netns", "exec", g.Netns, g.Bin}, args...)...)
	}
	cmd.Env = g.Env()
	return cmd
}

// Start runs `govs run args...` in the foreground (as a child of the test),
// waits until the database answers and the first pass is written back, and
// stops it at the end of the test.
func (g *Govs) Start(t testing.TB, args ...string) {
	t.Helper()
	g.out = new(syncBuffer)
	g.cmd = g.Command(append([]string{"run"}, args...)...)
	g.cmd.Stdout = g.out
	g.cmd.Stderr = g.out
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmd, exited := g.cmd, make(chan struct{})
	g.exited = exited
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { g.Stop(t) })
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("govs exited while starting (%v); output:\n%s", cmd.ProcessState, g.out)
		default:
		}
		out, err := g.VsctlErr("--timeout=1", "get", "Open_vSwitch", ".", "ovs_version")
		if err == nil && strings.TrimSpace(out) != "[]" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("govs not ready after 10s (%v); output:\n%s", err, g.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop sends SIGTERM and waits for govs to exit; it also makes sure the
// ovsdb-server govs supervised is gone.
func (g *Govs) Stop(t testing.TB) {
	if g.cmd == nil {
		return
	}
	cmd := g.cmd
	g.cmd = nil
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.exited:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-g.exited
		t.Errorf("govs did not exit on SIGTERM; output:\n%s", g.out)
	}
	if pid := g.ServerPid(); pid > 0 && syscall.Kill(pid, 0) == nil {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("ovsdb-server %d outlived govs", pid)
	}
}

// Kill sends SIGKILL, as a crash would, and waits for govs to exit. It
// leaves alone whatever govs could not clean up (ovsdb-server among it):
// the test checks what is left and what a new Start makes of it.
func (g *Govs) Kill(t testing.TB) {
	if g.cmd == nil {
		return
	}
	g.cmd.Process.Kill()
	<-g.exited
	g.cmd = nil
}

// Exited reports whether the govs last started has exited.
func (g *Govs) Exited() bool {
	select {
	case <-g.exited:
		return true
	default:
		return false
	}
}

// Output returns what govs printed so far.
func (g *Govs) Output() string { return g.out.String() }

// Pid returns the pid of the govs process.
func (g *Govs) Pid() int { return g.cmd.Process.Pid }

// ServerPid reads ovsdb-server's pidfile (0 if none).
func (g *Govs) ServerPid() int {
	b, err := os.ReadFile(filepath.Join(g.RunDir, "ovsdb-server.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// DBSocket is the db.sock path of this instance.
func (g *Govs) DBSocket() string { return filepath.Join(g.RunDir, "db.sock") }

// VsctlErr runs ovs-vsctl against this instance's database.
func (g *Govs) VsctlErr(args ...string) (string, error) {
	cmd := exec.Command("ovs-vsctl", append([]string{"--db=unix:" + g.DBSocket()}, args...)...)
	cmd.Env = g.Env()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("ovs-vsctl %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// Vsctl runs ovs-vsctl (with a timeout, so a switch that never writes
// cur_cfg fails the test instead of hanging it) and fails the test on error.
func (g *Govs) Vsctl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := g.VsctlErr(append([]string{"--timeout=5"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// Get returns one column of one record, as ovs-vsctl get prints it.
func (g *Govs) Get(t testing.TB, table, record, column string) string {
	t.Helper()
	return g.Vsctl(t, "get", table, record, column)
}

// WaitFor polls cond every 20 ms until it holds or timeout passes.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
