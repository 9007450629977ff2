package ofagent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
)

// Default OpenFlow port (IANA), as OVS uses for tcp:/ptcp: without one.
const defaultOFPort = 6653

// parseTarget splits an OVS connection target into its kind ("tcp",
// "ssl", "unix", "ptcp", "pssl", "punix") and the address
// net.Dial/net.Listen take.
func parseTarget(t string) (kind, addr string, err error) {
	kind, rest, ok := strings.Cut(t, ":")
	if !ok && kind != "ptcp" && kind != "pssl" {
		return "", "", fmt.Errorf("controller target %q: no method", t)
	}
	switch kind {
	case "unix", "punix":
		if rest == "" {
			return "", "", fmt.Errorf("controller target %q: no path", t)
		}
		return kind, rest, nil
	case "tcp", "ssl":
		host, port := rest, strconv.Itoa(defaultOFPort)
		if h, p, err := net.SplitHostPort(rest); err == nil {
			host, port = h, p
		} else if strings.HasPrefix(rest, "[") {
			host = strings.Trim(rest, "[]")
		}
		if host == "" {
			return "", "", fmt.Errorf("controller target %q: no host", t)
		}
		return kind, net.JoinHostPort(host, port), nil
	case "ptcp", "pssl":
		// ptcp:[PORT][:IP]
		port, ip := strconv.Itoa(defaultOFPort), ""
		if rest != "" {
			p, i, _ := strings.Cut(rest, ":")
			if p != "" {
				port = p
			}
			ip = strings.Trim(i, "[]")
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return "", "", fmt.Errorf("controller target %q: bad port", t)
		}
		return kind, net.JoinHostPort(ip, port), nil
	}
	return "", "", fmt.Errorf("controller target %q: unknown method %q", t, kind)
}

// listener accepts connections on a passive target (OVS's ofservice for
// service listeners; passive controllers are the same with controller
// set and their Controller settings).
type listener struct {
	a          *Agent
	target     string
	l          net.Listener
	path       string // unix socket to remove on close
	controller bool
	ssl        bool
	once       sync.Once

	mu      sync.Mutex
	cfg     Controller // controller listeners: the current settings
	lastErr string
}

// newListener listens on target; ctl is nil for a service listener.
func newListener(a *Agent, target string, ctl *Controller) (*listener, error) {
	kind, addr, err := parseTarget(target)
	if err != nil {
		return nil, err
	}
	var network string
	switch kind {
	case "punix":
		network = "unix"
		removeStaleSocket(addr)
	case "ptcp", "pssl":
		network = "tcp"
	default:
		return nil, fmt.Errorf("listen %q: not a passive target", target)
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", target, err)
	}
	ln := &listener{a: a, target: target, l: l, controller: ctl != nil, ssl: kind == "pssl"}
	if network == "unix" {
		ln.path = addr
		l.(*net.UnixListener).SetUnlinkOnClose(true)
	}
	if ctl != nil {
		ln.configure(*ctl)
	}
	return ln, nil
}

// update takes new controller settings: connections accepted from now on
// use them, and the probe interval applies to current ones too. The
// caller must not hold the agent's lock.
func (l *listener) update(c Controller) {
	l.configure(c)
	l.a.eachConn(func(oc *ofconn) {
		if oc.target == l.target && oc.controller {
			oc.probe.Store(int64(c.ProbeInterval))
		}
	})
}

// configure sets the settings for connections accepted from now on.
func (l *listener) configure(c Controller) {
	l.mu.Lock()
	l.cfg = c
	l.lastErr = ""
	if l.ssl {
		// Say now, not at the first connection, that the files are
		// unusable.
		if _, _, err := c.SSL.load(); err != nil {
			l.lastErr = err.Error()
		}
	}
	l.mu.Unlock()
}

func (l *listener) settings() Controller {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cfg
}

func (l *listener) setError(err error) {
	l.mu.Lock()
	l.lastErr = err.Error()
	l.mu.Unlock()
}

func (l *listener) lastError() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastErr
}

// Addr is the listener's address (ptcp:0 picks a port).
func (l *listener) Addr() net.Addr { return l.l.Addr() }

func (l *listener) run() {
	defer l.a.wg.Done()
	for {
		nc, err := l.l.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				l.a.log.Warn("openflow accept", "target", l.target, "err", err)
			}
			return
		}
		l.a.wg.Add(1)
		go func() {
			defer l.a.wg.Done()
			l.serve(nc)
		}()
	}
}

// serve runs one accepted connection, after its TLS handshake for pssl.
func (l *listener) serve(nc net.Conn) {
	cfg := l.settings()
	if l.ssl {
		ctx, cancel := context.WithCancel(context.Background())
		go func() { // Close must not wait for a handshake
			select {
			case <-l.a.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		tc, err := sslServer(ctx, nc, cfg.SSL)
		cancel()
		if err != nil {
			nc.Close()
			l.setError(err)
			l.a.log.Warn("openflow connection refused", "target", l.target, "peer", nc.RemoteAddr(), "err", err)
			return
		}
		nc = tc
	}
	c := newOfconn(l.a, nc, l.target, l.controller)
	if l.controller {
		c.probe.Store(int64(cfg.ProbeInterval))
	}
	if !l.a.addConn(c) {
		nc.Close()
		return
	}
	c.serve()
}

func (l *listener) close() { l.once.Do(func() { l.l.Close() }) }

// ListenAddr returns the address the listener for target is bound to
// (tests listen on "ptcp:0").
func (a *Agent) ListenAddr(target string) net.Addr {
	a.mu.Lock()
	defer a.mu.Unlock()
	if l := a.listeners[target]; l != nil {
		return l.Addr()
	}
	return nil
}
