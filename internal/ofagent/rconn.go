package ofagent

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// rconn is an active controller connection that reconnects (OVS's rconn):
// after a failure it waits 1 s, doubling up to MaxBackoff, and a
// connection that lived at least as long as the backoff resets it.
type rconn struct {
	a      *Agent
	target string
	stop   chan struct{}
	once   sync.Once

	mu          sync.Mutex
	cur         *ofconn
	lastErr     string
	connectedAt time.Time
	lostAt      time.Time
	state       string
}

func newRconn(a *Agent, target string) *rconn {
	return &rconn{a: a, target: target, stop: make(chan struct{}), state: "BACKOFF"}
}

func (r *rconn) run() {
	defer r.a.wg.Done()
	_, addr, _ := parseTarget(r.target)
	network := "tcp"
	if strings.HasPrefix(r.target, "unix:") {
		network = "unix"
	}
	backoff := time.Second
	for {
		r.setState("CONNECTING", "")
		d := net.Dialer{Timeout: r.a.opts.MaxBackoff}
		nc, err := d.Dial(network, addr)
		if err == nil {
			c := newOfconn(r.a, nc, r.target, true)
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
		select {
		case <-r.stop:
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, r.a.opts.MaxBackoff)
	}
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
