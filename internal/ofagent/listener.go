package ofagent

import (
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
// "unix", "ptcp", "punix") and the address net.Dial/net.Listen take.
func parseTarget(t string) (kind, addr string, err error) {
	kind, rest, ok := strings.Cut(t, ":")
	if !ok && kind != "ptcp" {
		return "", "", fmt.Errorf("controller target %q: no method", t)
	}
	switch kind {
	case "unix", "punix":
		if rest == "" {
			return "", "", fmt.Errorf("controller target %q: no path", t)
		}
		return kind, rest, nil
	case "tcp":
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
	case "ptcp":
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
	case "ssl", "pssl":
		return "", "", fmt.Errorf("controller target %q: SSL is not supported yet", t)
	}
	return "", "", fmt.Errorf("controller target %q: unknown method %q", t, kind)
}

// listener accepts connections on a passive target (OVS's ofservice for
// service listeners; passive controllers are the same with controller
// set).
type listener struct {
	a          *Agent
	target     string
	l          net.Listener
	path       string // unix socket to remove on close
	controller bool
	once       sync.Once
}

func newListener(a *Agent, target string, controller bool) (*listener, error) {
	kind, addr, err := parseTarget(target)
	if err != nil {
		return nil, err
	}
	var network string
	switch kind {
	case "punix":
		network = "unix"
		removeStaleSocket(addr)
	case "ptcp":
		network = "tcp"
	default:
		return nil, fmt.Errorf("listen %q: not a passive target", target)
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", target, err)
	}
	ln := &listener{a: a, target: target, l: l, controller: controller}
	if network == "unix" {
		ln.path = addr
		l.(*net.UnixListener).SetUnlinkOnClose(true)
	}
	return ln, nil
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
		c := newOfconn(l.a, nc, l.target, l.controller)
		if !l.a.addConn(c) {
			nc.Close()
			return
		}
		l.a.wg.Add(1)
		go func() {
			defer l.a.wg.Done()
			c.serve()
		}()
	}
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
