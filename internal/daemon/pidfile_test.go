package daemon

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestPidfileStaleIsReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ovs-vswitchd.pid")
	// A pid that is certainly dead: a child we started and reaped.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644)
	pf, err := CreatePidfile(path)
	if err != nil {
		t.Fatalf("stale pidfile refused: %v", err)
	}
	if pid, _ := ReadPidfile(path); pid != os.Getpid() {
		t.Errorf("pidfile holds %d, want %d", pid, os.Getpid())
	}
	pf.Remove()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pidfile left after Remove: %v", err)
	}
}

func TestPidfileLiveProcessRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ovs-vswitchd.pid")
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	os.WriteFile(path, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644)
	if _, err := CreatePidfile(path); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("want ErrAlreadyRunning, got %v", err)
	}
	if err := CheckPidfile(path); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("CheckPidfile: want ErrAlreadyRunning, got %v", err)
	}
}

func TestPidfileSecondClaimInProcessRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ovs-vswitchd.pid")
	pf, err := CreatePidfile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Remove()
	if _, err := CreatePidfile(path); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("want ErrAlreadyRunning from the lock, got %v", err)
	}
}

func TestDefaultPathsFollowEnvironment(t *testing.T) {
	t.Setenv("OVS_RUNDIR", "/r")
	t.Setenv("OVS_DBDIR", "")
	t.Setenv("OVS_SYSCONFDIR", "/s")
	t.Setenv("OVS_LOGDIR", "")
	p := DefaultPaths()
	want := Paths{RunDir: "/r", DBDir: "/s/openvswitch", LogDir: "/var/log/openvswitch", SysConfDir: "/s"}
	if p != want {
		t.Errorf("got %+v want %+v", p, want)
	}
	if p.DBSocket() != "/r/db.sock" || p.PidFile("ovs-vswitchd") != "/r/ovs-vswitchd.pid" {
		t.Errorf("socket/pidfile paths: %s %s", p.DBSocket(), p.PidFile("ovs-vswitchd"))
	}
}

// TestLockPidfileSeenByOthers checks the lock as ovs-appctl does: another
// process asks F_GETLK and must be told that this process holds it.
func TestLockPidfileSeenByOthers(t *testing.T) {
	if path := os.Getenv("GOVS_TEST_GETLK"); path != "" {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart}
		if err := unix.FcntlFlock(f.Fd(), unix.F_GETLK, &lk); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("holder=%d\n", lk.Pid)
		return
	}
	path := filepath.Join(t.TempDir(), "ovs-vswitchd.pid")
	pf, err := CreatePidfile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Remove()
	holder := func() string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLockPidfileSeenByOthers$")
		cmd.Env = append(os.Environ(), "GOVS_TEST_GETLK="+path)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := holder(); !strings.Contains(out, "holder=0\n") {
		t.Fatalf("unlocked pidfile reported as held:\n%s", out)
	}
	release, err := LockPidfile(path)
	if err != nil {
		t.Fatal(err)
	}
	if out := holder(); !strings.Contains(out, fmt.Sprintf("holder=%d\n", os.Getpid())) {
		t.Errorf("locked pidfile: want holder=%d, child said:\n%s", os.Getpid(), out)
	}
	release()
	if out := holder(); !strings.Contains(out, "holder=0\n") {
		t.Errorf("released pidfile still held:\n%s", out)
	}
	if _, err := LockPidfile(filepath.Join(t.TempDir(), "missing.pid")); err == nil {
		t.Error("locking a missing pidfile succeeded")
	}
}
