package ovsdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/govs/govs/internal/daemon"
	"github.com/govs/govs/internal/ovsdb/vswitch"
)

// ServerOptions say how to run ovsdb-server.
type ServerOptions struct {
	Paths daemon.Paths
	// Server and Tool are the ovsdb-server and ovsdb-tool programs; empty
	// means look them up in PATH, then in /usr/sbin and /usr/bin.
	Server, Tool string
	Log          *slog.Logger
	// MaxBackoff caps the wait between restarts of a server that keeps
	// dying (default 8 s; the first restart is immediate).
	MaxBackoff time.Duration
}

// Server is a supervised ovsdb-server.
type Server struct {
	opts   ServerOptions
	cancel context.CancelFunc
	done   chan struct{}

	mu  sync.Mutex
	pid int // +checklocks:mu
}

// StartServer makes sure the database file exists and is current, starts
// ovsdb-server and returns once db.sock accepts connections. The server is
// restarted whenever it exits, until Stop.
func StartServer(opts ServerOptions) (*Server, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = 8 * time.Second
	}
	var err error
	if opts.Server, err = findProgram(opts.Server, "ovsdb-server"); err != nil {
		return nil, err
	}
	if opts.Tool, err = findProgram(opts.Tool, "ovsdb-tool"); err != nil {
		return nil, err
	}
	if err := opts.Paths.MkdirAll(); err != nil {
		return nil, err
	}
	if err := prepareDB(opts); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{opts: opts, cancel: cancel, done: make(chan struct{})}
	cmd, err := s.start()
	if err != nil {
		cancel()
		return nil, err
	}
	if err := waitSocket(opts.Paths.DBSocket(), cmd, 10*time.Second); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		cancel()
		return nil, err
	}
	go s.supervise(ctx, cmd)
	return s, nil
}

// Endpoint is the libovsdb endpoint of the server.
func (s *Server) Endpoint() string { return "unix:" + s.opts.Paths.DBSocket() }

// Pid returns the pid of the running ovsdb-server, 0 between restarts.
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pid
}

// Stop terminates the server and stops supervising it. The database file is
// left as it is.
func (s *Server) Stop() {
	s.cancel()
	<-s.done
}

func (s *Server) start() (*exec.Cmd, error) {
	p := s.opts.Paths
	// The server of a govs that was killed gets SIGTERM from the kernel
	// (serverProcAttr) and may still be exiting; it holds the pidfile, on
	// which a new ovsdb-server would abort.
	waitServerGone(p.PidFile("ovsdb-server"), 5*time.Second)
	// A server that died uncleanly leaves its socket behind; ovsdb-server
	// would refuse to bind it.
	os.Remove(p.DBSocket())
	args := []string{
		p.DBFile(),
		"--remote=punix:" + p.DBSocket(),
		"--remote=db:Open_vSwitch,Open_vSwitch,manager_options",
		"--private-key=db:Open_vSwitch,SSL,private_key",
		"--certificate=db:Open_vSwitch,SSL,certificate",
		"--bootstrap-ca-cert=db:Open_vSwitch,SSL,ca_cert",
		"--pidfile=" + p.PidFile("ovsdb-server"),
		"--log-file=" + p.LogFile("ovsdb-server"),
		"-vconsole:off",
	}
	cmd := exec.Command(s.opts.Server, args...)
	cmd.Env = append(os.Environ(), p.Env()...)
	cmd.SysProcAttr = serverProcAttr()
	var stderr strings.Builder
	cmd.Stderr = &limitWriter{b: &stderr, max: 2048}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start ovsdb-server: %w", err)
	}
	s.mu.Lock()
	s.pid = cmd.Process.Pid
	s.mu.Unlock()
	s.opts.Log.Info("ovsdb-server started", "pid", cmd.Process.Pid, "db", p.DBFile(), "socket", p.DBSocket())
	return cmd, nil
}

// supervise waits for the server to exit and starts it again, doubling the
// pause while it keeps dying young.
func (s *Server) supervise(ctx context.Context, cmd *exec.Cmd) {
	defer close(s.done)
	backoff := time.Duration(0)
	for {
		exited := make(chan error, 1)
		started := time.Now()
		go func() { exited <- cmd.Wait() }()
		select {
		case <-ctx.Done():
			cmd.Process.Signal(os.Interrupt)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
			s.mu.Lock()
			s.pid = 0
			s.mu.Unlock()
			return
		case err := <-exited:
			s.mu.Lock()
			s.pid = 0
			s.mu.Unlock()
			s.opts.Log.Warn("ovsdb-server exited; restarting", "err", err, "after", backoff)
		}
		if time.Since(started) > time.Minute {
			backoff = 0
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(max(2*backoff, 250*time.Millisecond), s.opts.MaxBackoff)
			next, err := s.start()
			if err == nil {
				cmd = next
				break
			}
			s.opts.Log.Error("restart ovsdb-server", "err", err)
		}
	}
}

// prepareDB creates conf.db from the schema when missing and converts it when
// the embedded schema is newer, as ovs-ctl does at every start.
func prepareDB(opts ServerOptions) error {
	schema := filepath.Join(opts.Paths.DBDir, ".govs-vswitch.ovsschema")
	if err := os.WriteFile(schema, vswitch.SchemaFile, 0o644); err != nil {
		return fmt.Errorf("write schema: %w", err)
	}
	defer os.Remove(schema)
	db := opts.Paths.DBFile()
	if _, err := os.Stat(db); errors.Is(err, os.ErrNotExist) {
		opts.Log.Info("creating database", "db", db)
		return runTool(opts, "create", db, schema)
	}
	out, err := exec.Command(opts.Tool, "needs-conversion", db, schema).Output()
	if err != nil {
		return fmt.Errorf("ovsdb-tool needs-conversion %s: %w", db, err)
	}
	if strings.TrimSpace(string(out)) == "yes" {
		opts.Log.Info("converting database to the current schema", "db", db)
		return runTool(opts, "convert", db, schema)
	}
	return nil
}

func runTool(opts ServerOptions, args ...string) error {
	out, err := exec.Command(opts.Tool, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ovsdb-tool %s: %w: %s", args[0], err, strings.TrimSpace(string(out)))
	}
	return nil
}

func findProgram(given, name string) (string, error) {
	if given != "" {
		return given, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found: install openvswitch-common, or pass --db to use a running server", name)
}

// waitSocket waits until path accepts connections, or the process exits.
func waitSocket(path string, cmd *exec.Cmd, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if dialable(path) {
			return nil
		}
		if cmd.ProcessState != nil || !processRunning(cmd.Process.Pid) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if w, ok := cmd.Stderr.(*limitWriter); ok && w.b.Len() > 0 {
		return fmt.Errorf("ovsdb-server did not come up on %s: %s", path, strings.TrimSpace(w.b.String()))
	}
	return fmt.Errorf("ovsdb-server did not come up on %s (see its log)", path)
}

type limitWriter struct {
	mu  sync.Mutex
	b   *strings.Builder
	max int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
