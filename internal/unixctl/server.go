package unixctl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Request flow, one connection:
//
//  1. read one JSON value (at most maxMessage bytes); a value that is not
//     JSON, or a JSON-RPC message that is not a request (no method, or a
//     null id: a notification), closes the connection, as OVS's
//     unixctl_server_run does;
//  2. check the request: known method, params an array of strings, their
//     number within the command's bounds; a failure is an error reply;
//  3. run the command, one at a time across all connections (OVS's
//     unixctl commands run in its single main loop; govs keeps that, so
//     handlers need no locking among themselves);
//  4. reply {"result": text, "error": null, "id": id} or
//     {"result": null, "error": text, "id": id}; non-empty texts end in a
//     newline, added when the handler left it out (OVS does the same).
//  5. run the handler's AfterReply function (exit), then read the next
//     request.

// maxMessage bounds one request; ovs-appctl sends a few hundred bytes.
const maxMessage = 1 << 20

// maxConns bounds simultaneous connections; more are closed at accept.
const maxConns = 32

// Handler runs one command. Its text is the reply; an error is sent as the
// error reply (ovs-appctl prints it to stderr and exits with status 2).
type Handler func(c *Call) (string, error)

// Call is one invocation of a command.
type Call struct {
	Method   string
	Args     []string
	after    func()
	conn     net.Conn
	hijacked bool
}

// AfterReply makes fn run once the reply has been written (exit uses it, so
// ovs-appctl gets its answer before the daemon goes away).
func (c *Call) AfterReply(fn func()) { c.after = fn }

// Hijack makes fn take the connection over once a successful reply has
// been written: fn streams on it (govs capture's records) outside the
// command lock, and the connection closes when fn returns.
func (c *Call) Hijack(fn func(net.Conn)) {
	conn := c.conn
	c.after = func() { fn(conn) }
	c.hijacked = true
}

// Unlimited is a MaxArgs for commands that take any number of arguments.
const Unlimited = -1

// Command describes a command.
type Command struct {
	Name    string
	Usage   string // argument synopsis, as list-commands shows it
	MinArgs int
	MaxArgs int // Unlimited: no bound
	Run     Handler
}

// Options configure a Server.
type Options struct {
	Log *slog.Logger
}

// Server answers ovs-appctl on a unix socket.
//
// Locks: mu guards the command table, the listener and the connection
// set; run serialises command handlers. A handler may call Register (run
// is taken before mu, never the other way round).
type Server struct {
	log *slog.Logger

	mu     sync.Mutex
	cmds   map[string]*Command   // +checklocks:mu
	ln     net.Listener          // +checklocks:mu
	path   string                // +checklocks:mu
	conns  map[net.Conn]struct{} // +checklocks:mu
	closed bool                  // +checklocks:mu

	run sync.Mutex

	wg   sync.WaitGroup
	stop chan struct{}

	cov      *coverage
	memory   []func(add func(name string, v uint64))
	received atomic.Uint64
	replied  atomic.Uint64
}

// New returns a server with the built-in commands (list-commands,
// coverage/show, memory/show) registered. It listens once Listen is called.
func New(opts Options) *Server {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	s := &Server{
		log:   opts.Log,
		cmds:  map[string]*Command{},
		conns: map[net.Conn]struct{}{},
		stop:  make(chan struct{}),
	}
	s.cov = newCoverage()
	s.AddCounters(func(add func(string, uint64)) {
		add("unixctl_received", s.received.Load())
		add("unixctl_replied", s.replied.Load())
	})
	s.Register(Command{Name: "list-commands", Run: s.listCommands})
	s.Register(Command{Name: "coverage/show", Run: s.coverageShow})
	s.Register(Command{Name: "memory/show", Run: s.memoryShow})
	return s
}

// Register adds or replaces a command.
func (s *Server) Register(c Command) {
	cc := c
	s.mu.Lock()
	s.cmds[c.Name] = &cc
	s.mu.Unlock()
}

// Commands returns the registered command names, sorted.
func (s *Server) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.cmds))
}

func (s *Server) listCommands(*Call) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	b.WriteString("The available commands are:\n")
	for _, name := range slices.Sorted(maps.Keys(s.cmds)) {
		fmt.Fprintf(&b, "  %-23s %s\n", name, s.cmds[name].Usage)
	}
	return b.String(), nil
}

// Listen creates the socket at path (replacing a stale one: the caller
// holds the pidfile, so no live daemon owns it) and serves it until Close.
func (s *Server) Listen(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("unixctl: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("unixctl: %w", err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return errors.New("unixctl: server closed")
	}
	s.ln, s.path = ln, path
	s.mu.Unlock()
	s.wg.Add(2)
	go s.accept(ln)
	go s.cov.sampler(&s.wg, s.stop, s.collectCounters)
	s.log.Info("unixctl listening", "path", path)
	return nil
}

// Path returns the socket path ("" before Listen).
func (s *Server) Path() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.path
}

// Close stops listening, closes every connection, waits for running
// handlers and removes the socket.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	ln, path := s.ln, s.path
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	close(s.stop)
	if ln != nil {
		ln.Close()
	}
	s.wg.Wait()
	if path != "" {
		os.Remove(path)
	}
}

func (s *Server) accept(ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("unixctl accept", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.mu.Lock()
		if s.closed || len(s.conns) >= maxConns {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(c)
	}
}

// message is a JSON-RPC 1.0 message as OVS's jsonrpc.c reads it: a request
// has a method and a non-null id.
type message struct {
	Method *string          `json:"method"`
	Params json.RawMessage  `json:"params"`
	ID     json.RawMessage  `json:"id"`
	Result *json.RawMessage `json:"result"`
}

type reply struct {
	Result *string         `json:"result"`
	Error  *string         `json:"error"`
	ID     json.RawMessage `json:"id"`
}

// errTooLong ends a connection whose request exceeds maxMessage.
var errTooLong = errors.New("request too long")

// limitReader fails once more than n bytes were read since the last reset.
type limitReader struct {
	r io.Reader
	n int
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errTooLong
	}
	if len(p) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= n
	return n, err
}

func (s *Server) serve(c net.Conn) {
	defer func() {
		c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.wg.Done()
	}()
	lr := &limitReader{r: c}
	dec := json.NewDecoder(lr)
	for {
		lr.n = maxMessage
		var m message
		if err := dec.Decode(&m); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.log.Debug("unixctl: bad message, closing connection", "err", err)
			}
			return
		}
		if m.Method == nil || len(m.ID) == 0 || bytes.Equal(m.ID, []byte("null")) {
			s.log.Debug("unixctl: received a message that is not a request, closing connection")
			return
		}
		s.received.Add(1)
		text, call, err := s.handle(c, *m.Method, m.Params)
		r := reply{ID: m.ID}
		if err != nil {
			e := withNewline(err.Error())
			r.Error = &e
		} else {
			t := withNewline(text)
			r.Result = &t
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&r); err != nil {
			return
		}
		if _, err := c.Write(buf.Bytes()); err != nil {
			return
		}
		s.replied.Add(1)
		if call != nil && call.after != nil && !(call.hijacked && err != nil) {
			call.after()
			if call.hijacked {
				return
			}
		}
	}
}

// handle validates a request and runs its command.
func (s *Server) handle(conn net.Conn, method string, params json.RawMessage) (string, *Call, error) {
	s.mu.Lock()
	cmd := s.cmds[method]
	s.mu.Unlock()
	if cmd == nil {
		return "", nil, fmt.Errorf("\"%s\" is not a valid command (use \"list-commands\" to see a list of valid commands)", method)
	}
	var raw []json.RawMessage
	if len(params) > 0 && !bytes.Equal(params, []byte("null")) {
		if err := json.Unmarshal(params, &raw); err != nil {
			return "", nil, fmt.Errorf("\"%s\" command has non-array params", method)
		}
	}
	args := make([]string, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r, &args[i]); err != nil || !bytes.HasPrefix(bytes.TrimSpace(r), []byte(`"`)) {
			return "", nil, fmt.Errorf("\"%s\" command has non-string argument", method)
		}
	}
	if len(args) < cmd.MinArgs {
		return "", nil, fmt.Errorf("\"%s\" command requires at least %d arguments", method, cmd.MinArgs)
	}
	if cmd.MaxArgs != Unlimited && len(args) > cmd.MaxArgs {
		return "", nil, fmt.Errorf("\"%s\" command takes at most %d arguments", method, cmd.MaxArgs)
	}
	call := &Call{Method: method, Args: args, conn: conn}
	s.run.Lock()
	text, err := runHandler(cmd.Run, call)
	s.run.Unlock()
	return text, call, err
}

// runHandler turns a handler's panic into an error reply, so one broken
// command cannot take the daemon down.
func runHandler(h Handler, c *Call) (text string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: internal error: %v", c.Method, p)
		}
	}()
	return h(c)
}

func withNewline(s string) string {
	if s != "" && !strings.HasSuffix(s, "\n") {
		return s + "\n"
	}
	return s
}

// ovsError is an error reply worded as OVS words it (capitalised, unlike Go
// errors), so scripts matching OVS's messages keep working.
type ovsError string

func (e ovsError) Error() string { return string(e) }

func ovsErrorf(format string, a ...any) error { return ovsError(fmt.Sprintf(format, a...)) }
