package ofagent

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/odp"
	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofproto"
)

// Options configure an Agent.
type Options struct {
	// Bridge is the switch the agent serves; Ofproto the set of bridges
	// it belongs to (packet-out translation). Both are required.
	Bridge  *ofproto.Bridge
	Ofproto *ofproto.Ofproto

	// RunDir is OVS_RUNDIR: the agent listens on <RunDir>/<bridge>.mgmt,
	// the socket `ovs-ofctl br0` uses. Empty: no management socket.
	RunDir string

	// Sync makes every earlier change visible in the datapath (the
	// integrator revalidates synchronously); a barrier reply is sent only
	// after it returns. Nil: nothing to wait for.
	Sync func()
	// Execute runs datapath actions on a packet-out's packet; inPort is
	// the packet's OpenFlow in_port. Nil: packet-outs are translated
	// and dropped.
	Execute func(pkt []byte, inPort uint32, acts odp.Actions) error
	// PortStats returns a port's counters for port stats replies.
	PortStats func(ofport uint32) (netdev.Stats, bool)
	// OnConnectivity is called (without agent locks held) when the first
	// controller connects and when the last one goes away: the integrator
	// applies fail_mode there (standalone: NORMAL while disconnected).
	OnConnectivity func(connected bool)

	// Versions are the OpenFlow versions offered in HELLO (OVSDB
	// Bridge.protocols); empty means OpenFlow 1.0 and 1.3.
	Versions []uint8
	// ProbeInterval and MaxBackoff are the defaults for controllers
	// that do not set their own (Controller): ProbeInterval 0 means 5 s
	// as in OVS, negative disables probes; MaxBackoff 0 means 8 s.
	ProbeInterval time.Duration
	MaxBackoff    time.Duration
	// ExpireInterval, if positive, makes the agent expire timed-out rules
	// itself (Bridge.Expire, then FLOW_REMOVED). Zero: the integrator
	// calls FlowsRemoved with what its own expiry loop removed.
	ExpireInterval time.Duration

	// Description strings for OFPMP_DESC.
	MfrDesc, HWDesc, SWDesc, SerialNum, DPDesc string

	Log *slog.Logger
}

// Agent is the OpenFlow side of one bridge (OVS's connmgr): its
// listeners, its controller connections and what they share (roles'
// generation id, connectivity for fail_mode).
type Agent struct {
	opts Options
	log  *slog.Logger
	b    *ofproto.Bridge

	mu          sync.Mutex
	conns       map[*ofconn]struct{}
	listeners   map[string]*listener // by target (Listen and passive controllers)
	controllers map[string]*rconn    // active controller targets
	genID       uint64
	genIDSet    bool
	closed      bool
	wg          sync.WaitGroup
	stop        chan struct{}

	commitState commitState

	// after is time.After; tests replace it to see reconnect backoffs.
	after func(time.Duration) <-chan time.Time

	nControllers atomic.Int32 // connected primary (controller) connections
	connMu       sync.Mutex   // serialises OnConnectivity calls
	lastConn     bool
}

// New returns an agent serving opts.Bridge. If the bridge has no
// OnRemoved hook, the agent installs FlowsRemoved there, so flow-mod
// deletes reach controllers; the management socket is opened when RunDir
// is set.
func New(opts Options) (*Agent, error) {
	if opts.Bridge == nil || opts.Ofproto == nil {
		return nil, errors.New("ofagent: Bridge and Ofproto are required")
	}
	if len(opts.Versions) == 0 {
		opts.Versions = []uint8{ofp.Version10, ofp.Version13}
	}
	if opts.ProbeInterval == 0 {
		opts.ProbeInterval = 5 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 8 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	a := &Agent{
		opts:        opts,
		log:         opts.Log.With("bridge", opts.Bridge.Name()),
		b:           opts.Bridge,
		conns:       map[*ofconn]struct{}{},
		listeners:   map[string]*listener{},
		controllers: map[string]*rconn{},
		after:       time.After,
		stop:        make(chan struct{}),
	}
	if a.b.OnRemoved == nil {
		a.b.OnRemoved = a.FlowsRemoved
	}
	if opts.RunDir != "" {
		sock := filepath.Join(opts.RunDir, a.b.Name()+".mgmt")
		if err := a.Listen("punix:" + sock); err != nil {
			return nil, err
		}
	}
	if opts.ExpireInterval > 0 {
		a.wg.Add(1)
		go a.expireLoop()
	}
	return a, nil
}

// MgmtSocket is the management socket path for bridge in rundir.
func MgmtSocket(rundir, bridge string) string { return filepath.Join(rundir, bridge+".mgmt") }

// Close stops listeners and controllers, closes every connection and
// waits for the agent's goroutines; the management socket is removed.
func (a *Agent) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	close(a.stop)
	for _, l := range a.listeners {
		l.close()
	}
	for _, r := range a.controllers {
		r.close()
	}
	for c := range a.conns {
		c.close()
	}
	a.mu.Unlock()
	a.wg.Wait()
	return nil
}

// Listen opens a passive service listener ("punix:PATH" or
// "ptcp:[PORT][:IP]"): connections on it are for management tools, not
// controllers, so they neither count for fail_mode nor get probed.
func (a *Agent) Listen(target string) error {
	return a.listen(target, nil)
}

func (a *Agent) listen(target string, ctl *Controller) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return errors.New("ofagent: closed")
	}
	if l, ok := a.listeners[target]; ok {
		if ctl != nil {
			a.mu.Unlock()
			l.update(*ctl)
			a.mu.Lock()
		}
		return nil
	}
	l, err := newListener(a, target, ctl)
	if err != nil {
		return err
	}
	a.listeners[target] = l
	a.wg.Add(1)
	go l.run()
	return nil
}

// addConn registers c; false if the agent is closing.
func (a *Agent) addConn(c *ofconn) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return false
	}
	a.conns[c] = struct{}{}
	return true
}

func (a *Agent) delConn(c *ofconn) {
	a.mu.Lock()
	delete(a.conns, c)
	a.mu.Unlock()
}

// controllerUp and controllerDown track controller connections that
// finished HELLO, for Connected and OnConnectivity.
func (a *Agent) controllerUp()   { a.nControllers.Add(1); a.notifyConnectivity() }
func (a *Agent) controllerDown() { a.nControllers.Add(-1); a.notifyConnectivity() }

func (a *Agent) notifyConnectivity() {
	a.connMu.Lock()
	defer a.connMu.Unlock()
	now := a.Connected()
	if now == a.lastConn {
		return
	}
	a.lastConn = now
	if a.opts.OnConnectivity != nil {
		a.opts.OnConnectivity(now)
	}
}

// eachConn calls fn for every connection that finished HELLO.
func (a *Agent) eachConn(fn func(c *ofconn)) {
	a.mu.Lock()
	conns := make([]*ofconn, 0, len(a.conns))
	for c := range a.conns {
		conns = append(conns, c)
	}
	a.mu.Unlock()
	for _, c := range conns {
		if c.ready.Load() {
			fn(c)
		}
	}
}

func (a *Agent) expireLoop() {
	defer a.wg.Done()
	t := time.NewTicker(a.opts.ExpireInterval)
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case now := <-t.C:
			if rm := a.b.Expire(now); len(rm) > 0 {
				a.FlowsRemoved(rm)
			}
		}
	}
}

// sync runs the integrator's Sync hook (barrier semantics).
func (a *Agent) sync() {
	if a.opts.Sync != nil {
		a.opts.Sync()
	}
}

func removeStaleSocket(path string) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		os.Remove(path)
	}
}
