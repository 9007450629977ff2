package ofagent

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"sync"
	"time"
)

// rconn is an active controller connection that reconnects (OVS's rconn):
// after a failure it waits 1 s, doubling up to the target's MaxBackoff,
// and a connection that lived at least as long as the backoff resets it.
type rconn struct {
	a      *Agent
	target string
	stop   chan struct{}
	once   sync.Once
	ctx    context.Context // cancelled by close: ends a dial or handshake
	cancel context.CancelFunc

	mu          sync.Mutex
	cfg         Controller
	cur         *ofconn
	lastErr     string
	connectedAt time.Time
	lostAt      time.Time
	state       string
}

func newRconn(a *Agent, c Controller) *rconn {
	ctx, cancel := context.WithCancel(context.Background())
	return &rconn{a: a, target: c.Target, cfg: c, stop: make(chan struct{}), ctx: ctx, cancel: cancel, state: "BACKOFF"}
}

// update takes new settings: the probe interval applies to the current
// connection at once, the rest at the next connection attempt.
func (r *rconn) update(c Controller) {
	r.mu.Lock()
	r.cfg = c
	if r.cur != nil {
		r.cur.probe.Store(int64(c.ProbeInterval))
	}
	r.mu.Unlock()
}

func (r *rconn) settings() Controller {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cfg
}

func (r *rconn) run() {
	defer r.a.wg.Done()
	kind, addr, _ := parseTarget(r.target)
	network := "tcp"
	if kind == "unix" {
		network = "unix"
	}
	backoff := time.Second
	for {
		cfg := r.settings()
		r.setState("CONNECTING", "")
		nc, err := r.dial(network, addr, kind == "ssl", cfg)
		if err == nil {
			c := newOfconn(r.a, nc, r.target, true)
			c.probe.Store(int64(cfg.ProbeInterval))
			if !r.a.addConn(c) {
				nc.Close()
				return
			}
			r.mu.Lock()
			r.cur, r.connectedAt, r.state = c, time.Now(), "ACTIVE"
			r.mu.Unlock()
			start := time.Now()
			serr := c.serve()
			r.mu.Lock()
			r.cur, r.lostAt, r.state = nil, time.Now(), "BACKOFF"
			if serr != nil {
				r.lastErr = serr.Error()
			}
			r.mu.Unlock()
			if time.Since(start) >= backoff {
				backoff = time.Second
			}
		} else {
			r.setState("BACKOFF", err.Error())
		}
		backoff = min(backoff, r.settings().MaxBackoff)
		select {
		case <-r.stop:
			return
		case <-r.a.after(backoff):
		}
		backoff = min(2*backoff, r.settings().MaxBackoff)
	}
}

// dial connects to the controller, with the TLS handshake for ssl:.
func (r *rconn) dial(network, addr string, ssl bool, cfg Controller) (net.Conn, error) {
	var tc *tls.Config
	if ssl {
		var err error
		if tc, err = cfg.SSL.tlsConfig(false); err != nil {
			return nil, err
		}
	}
	d := net.Dialer{Timeout: max(cfg.MaxBackoff, time.Second)}
	nc, err := d.DialContext(r.ctx, network, addr)
	if err != nil || tc == nil {
		return nc, err
	}
	c := tls.Client(nc, tc)
	if err := tlsHandshake(r.ctx, c); err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

func (r *rconn) setState(state, lastErr string) {
	r.mu.Lock()
	r.state = state
	if lastErr != "" {
		r.lastErr = lastErr
	}
	r.mu.Unlock()
}

func (r *rconn) close() {
	r.once.Do(func() {
		close(r.stop)
		r.cancel()
		r.mu.Lock()
		if r.cur != nil {
			r.cur.close()
		}
		r.mu.Unlock()
	})
}

func (r *rconn) status(target string) ControllerStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := ControllerStatus{Target: target, Role: "other", Status: map[string]string{"state": r.state}}
	if r.lastErr != "" {
		st.Status["last_error"] = r.lastErr
	}
	if r.cur != nil && r.cur.ready.Load() {
		st.IsConnected = true
		st.Role = r.cur.roleName()
		st.Status["sec_since_connect"] = fmt.Sprint(int(time.Since(r.connectedAt).Seconds()))
	} else if !r.lostAt.IsZero() {
		st.Status["sec_since_disconnect"] = fmt.Sprint(int(time.Since(r.lostAt).Seconds()))
	}
	return st
}
