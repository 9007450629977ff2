package unixctl

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/govs/govs/internal/daemon"
)

// goroutineLeakCheck fails the test if goroutines started during it are
// still running at its end (wireguard-go's device_test.go does the same).
func goroutineLeakCheck(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				t.Errorf("goroutines leaked: %d before, %d after\n%s", before, runtime.NumGoroutine(),
					buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// testServer starts a server with test commands on a socket in a fresh
// directory and closes it at the end of the test.
func testServer(t *testing.T) (*Server, string) {
	t.Helper()
	s := New(Options{})
	s.Register(Command{Name: "echo", Usage: "[arg...]", MaxArgs: Unlimited, Run: func(c *Call) (string, error) {
		return strings.Join(c.Args, " "), nil
	}})
	s.Register(Command{Name: "two", Usage: "a [b]", MinArgs: 1, MaxArgs: 2, Run: func(c *Call) (string, error) {
		return "ok\n", nil
	}})
	s.Register(Command{Name: "fail", Run: func(*Call) (string, error) {
		return "", errors.New("it failed")
	}})
	s.Register(Command{Name: "panic", Run: func(*Call) (string, error) {
		panic("boom")
	}})
	path := filepath.Join(t.TempDir(), "test.ctl")
	if err := s.Listen(path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, path
}

type testReply struct {
	Result *string         `json:"result"`
	Error  *string         `json:"error"`
	ID     json.RawMessage `json:"id"`
}

// exchange sends raw on a new connection and returns the reply, or
// closed=true when the server closed the connection instead.
func exchange(t *testing.T, path, raw string) (r testReply, closed bool) {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		return r, true
	}
	if err := json.NewDecoder(c).Decode(&r); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "reset") {
			return r, true
		}
		t.Fatalf("reading reply: %v", err)
	}
	return r, false
}

func str(p *string) string {
	if p == nil {
		return "<null>"
	}
	return fmt.Sprintf("%q", *p)
}

func TestServerRequests(t *testing.T) {
	goroutineLeakCheck(t)
	_, path := testServer(t)
	tests := []struct {
		name    string
		req     string
		result  string // quoted, or <null>
		errText string // quoted, or <null>
		id      string
	}{
		{"echo", `{"method":"echo","params":["a","b"],"id":7}`, `"a b\n"`, "<null>", "7"},
		{"empty result has no newline", `{"method":"echo","params":[],"id":1}`, `""`, "<null>", "1"},
		{"string id", `{"method":"echo","params":["x"],"id":"abc"}`, `"x\n"`, "<null>", `"abc"`},
		{"no params", `{"method":"echo","id":2}`, `""`, "<null>", "2"},
		{"null params", `{"method":"echo","params":null,"id":2}`, `""`, "<null>", "2"},
		{"unknown command", `{"method":"nosuch","params":[],"id":3}`, "<null>",
			`"\"nosuch\" is not a valid command (use \"list-commands\" to see a list of valid commands)\n"`, "3"},
		{"too few", `{"method":"two","params":[],"id":4}`, "<null>", `"\"two\" command requires at least 1 arguments\n"`, "4"},
		{"too many", `{"method":"two","params":["a","b","c"],"id":5}`, "<null>", `"\"two\" command takes at most 2 arguments\n"`, "5"},
		{"non-string arg", `{"method":"echo","params":["a",1],"id":6}`, "<null>", `"\"echo\" command has non-string argument\n"`, "6"},
		{"object arg", `{"method":"echo","params":[{"a":"b"}],"id":6}`, "<null>", `"\"echo\" command has non-string argument\n"`, "6"},
		{"params not an array", `{"method":"echo","params":{"a":"b"},"id":8}`, "<null>", `"\"echo\" command has non-array params\n"`, "8"},
		{"handler error", `{"method":"fail","params":[],"id":9}`, "<null>", `"it failed\n"`, "9"},
		{"handler panic", `{"method":"panic","params":[],"id":10}`, "<null>", `"panic: internal error: boom\n"`, "10"},
		{"html is not escaped", `{"method":"echo","params":["<a&b>"],"id":11}`, `"<a&b>\n"`, "<null>", "11"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, closed := exchange(t, path, tc.req)
			if closed {
				t.Fatal("connection closed")
			}
			if got := str(r.Result); got != tc.result {
				t.Errorf("result = %s, want %s", got, tc.result)
			}
			if got := str(r.Error); got != tc.errText {
				t.Errorf("error = %s, want %s", got, tc.errText)
			}
			if string(r.ID) != tc.id {
				t.Errorf("id = %s, want %s", r.ID, tc.id)
			}
		})
	}
}

func TestServerClosesOnBadMessages(t *testing.T) {
	goroutineLeakCheck(t)
	_, path := testServer(t)
	for _, tc := range []struct{ name, raw string }{
		{"not json", `hello`},
		{"truncated then garbage", `{"method":"echo",]`},
		{"notification (null id)", `{"method":"echo","params":[],"id":null}`},
		{"notification (no id)", `{"method":"echo","params":[]}`},
		{"a reply, not a request", `{"result":"x","error":null,"id":1}`},
		{"too long", `{"method":"echo","params":["` + strings.Repeat("a", maxMessage+10) + `"],"id":1}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r, closed := exchange(t, path, tc.raw); !closed {
				t.Errorf("got a reply %+v, want the connection closed", r)
			}
		})
	}
	// The server still answers afterwards.
	if r, closed := exchange(t, path, `{"method":"echo","params":["ok"],"id":1}`); closed || str(r.Result) != `"ok\n"` {
		t.Errorf("after bad messages: %+v closed=%v", r, closed)
	}
}

func TestServerSeveralRequestsOnOneConnection(t *testing.T) {
	goroutineLeakCheck(t)
	_, path := testServer(t)
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	dec := json.NewDecoder(bufio.NewReader(c))
	// Two requests back to back in one write: OVS's stream has no framing.
	io.WriteString(c, `{"method":"echo","params":["1"],"id":1}{"method":"echo","params":["2"],"id":2}`)
	for i := 1; i <= 2; i++ {
		var r testReply
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf(`"%d\n"`, i); str(r.Result) != want || string(r.ID) != fmt.Sprint(i) {
			t.Errorf("reply %d: %+v", i, r)
		}
	}
}

func TestServerAfterReply(t *testing.T) {
	goroutineLeakCheck(t)
	s, path := testServer(t)
	ran := make(chan struct{})
	var replied bool
	s.Register(Command{Name: "bye", Run: func(c *Call) (string, error) {
		c.AfterReply(func() { close(ran) })
		return "bye", nil
	}})
	r, closed := exchange(t, path, `{"method":"bye","params":[],"id":1}`)
	replied = !closed && str(r.Result) == `"bye\n"`
	if !replied {
		t.Fatalf("reply %+v closed=%v", r, closed)
	}
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("AfterReply function did not run")
	}
}

func TestServerListCommands(t *testing.T) {
	_, path := testServer(t)
	r, _ := exchange(t, path, `{"method":"list-commands","params":[],"id":1}`)
	want := "The available commands are:\n" +
		"  coverage/show           \n" +
		"  echo                    [arg...]\n" +
		"  fail                    \n" +
		"  list-commands           \n" +
		"  memory/show             \n" +
		"  panic                   \n" +
		"  two                     a [b]\n"
	if r.Result == nil || *r.Result != want {
		t.Errorf("list-commands:\n%s\nwant:\n%s", str(r.Result), want)
	}
}

func TestServerCloseRemovesSocket(t *testing.T) {
	goroutineLeakCheck(t)
	s := New(Options{})
	path := filepath.Join(t.TempDir(), "x.ctl")
	// A stale socket file from a crashed daemon is replaced.
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(path); err != nil {
		t.Fatal(err)
	}
	// An idle open connection must not keep Close waiting.
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(20 * time.Millisecond)
	s.Close()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("socket still there after Close: %v", err)
	}
	if err := s.Listen(path); err == nil {
		t.Error("Listen after Close succeeded")
	}
}

func TestServerConnectionLimit(t *testing.T) {
	goroutineLeakCheck(t)
	_, path := testServer(t)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range maxConns {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	// Let the server accept them all before the one over the limit.
	r, closed := exchange(t, path, `{"method":"echo","params":[],"id":1}`)
	if !closed {
		// The last connection may have raced an earlier one's accept;
		// then the limit must show on the next.
		t.Logf("first extra connection answered: %+v", r)
		if _, closed := exchange(t, path, `{"method":"echo","params":[],"id":1}`); !closed {
			t.Error("connections beyond the limit are served")
		}
	}
}

// TestOVSAppctl runs Debian's ovs-appctl against the server, found the
// way it finds ovs-vswitchd: OVS_RUNDIR/<target>.pid, locked by the pid
// it names, then <target>.<pid>.ctl.
func TestOVSAppctl(t *testing.T) {
	appctl, err := exec.LookPath("ovs-appctl")
	if err != nil {
		t.Skip("ovs-appctl not installed (openvswitch-common)")
	}
	goroutineLeakCheck(t)
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "govs-test.pid")
	if err := os.WriteFile(pidfile, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, string, int) {
		cmd := exec.Command(appctl, append([]string{"-t", "govs-test", "--timeout=5"}, args...)...)
		cmd.Env = append(os.Environ(), "OVS_RUNDIR="+dir)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), code
	}
	s := New(Options{})
	s.Register(Command{Name: "echo", MaxArgs: Unlimited, Run: func(c *Call) (string, error) {
		return strings.Join(c.Args, "|"), nil
	}})
	if err := s.Listen(filepath.Join(dir, fmt.Sprintf("govs-test.%d.ctl", os.Getpid()))); err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	// Without the lock ovs-appctl takes the pidfile for stale.
	if _, stderr, code := run("echo", "x"); code == 0 || !strings.Contains(stderr, "No such process") {
		t.Errorf("unlocked pidfile: code %d, stderr %q", code, stderr)
	}
	release, err := daemon.LockPidfile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if out, stderr, code := run("echo", "a b", "c"); code != 0 || out != "a b|c\n" {
		t.Errorf("echo: code %d, out %q, stderr %q", code, out, stderr)
	}
	if _, stderr, code := run("nosuch"); code != 2 || !strings.Contains(stderr, `"nosuch" is not a valid command`) {
		t.Errorf("unknown command: code %d, stderr %q", code, stderr)
	}
}

func TestDaemonCommands(t *testing.T) {
	goroutineLeakCheck(t)
	s, path := testServer(t)
	exited := make(chan struct{})
	var level slog.LevelVar
	RegisterDaemon(s, DaemonOptions{Program: "ovs-vswitchd", Version: "1.2.3", Exit: func() { close(exited) },
		Level: &level, Console: true})
	if r, _ := exchange(t, path, `{"method":"version","params":[],"id":1}`); str(r.Result) != `"ovs-vswitchd (govs) 1.2.3\n"` {
		t.Errorf("version: %s", str(r.Result))
	}
	if r, _ := exchange(t, path, `{"method":"vlog/set","params":["ANY:console:warn"],"id":1}`); r.Error != nil || level.Level() != slog.LevelWarn {
		t.Errorf("vlog/set: %s, level %v", str(r.Error), level.Level())
	}
	if r, _ := exchange(t, path, `{"method":"exit","params":["--now"],"id":1}`); r.Error == nil {
		t.Error("exit --now accepted")
	}
	select {
	case <-exited:
		t.Fatal("exit ran on a refused request")
	default:
	}
	if r, _ := exchange(t, path, `{"method":"exit","params":["--cleanup"],"id":1}`); str(r.Result) != `""` {
		t.Errorf("exit: %+v", r)
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("exit did not call Exit")
	}
}
