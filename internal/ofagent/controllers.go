package ofagent

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// Controller is one controller target with its connection settings: an
// OVSDB Controller row, plus the SSL row for ssl: and pssl: targets.
type Controller struct {
	// Target is "tcp:IP[:PORT]", "ssl:IP[:PORT]", "unix:PATH" (active,
	// reconnected with backoff) or "ptcp:[PORT][:IP]", "pssl:[PORT][:IP]",
	// "punix:PATH" (passive, listened on). Ports default to 6653.
	Target string
	// ProbeInterval is how long a connection may stay silent before an
	// echo request probes it, and twice that before it is dropped
	// (Controller.inactivity_probe). 0 means Options.ProbeInterval;
	// negative disables probes.
	ProbeInterval time.Duration
	// MaxBackoff caps the wait between connection attempts of an active
	// target (Controller.max_backoff); 0 means Options.MaxBackoff.
	MaxBackoff time.Duration
	// SSL is the configuration ssl: and pssl: targets need; nil for
	// them is reported in the target's status.
	SSL *SSLConfig
}

// withDefaults fills the settings left to the agent's options.
func (a *Agent) withDefaults(c Controller) Controller {
	if c.ProbeInterval == 0 {
		c.ProbeInterval = a.opts.ProbeInterval
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = a.opts.MaxBackoff
	}
	return c
}

// SetControllers makes the bridge's controller set exactly cs (OVSDB
// Bridge.controller). Targets already present keep their connections and
// take the new settings: the probe interval at once, backoff and SSL
// files at the next connection. An ssl:/pssl: target whose SSL
// configuration is missing or unreadable is kept, with the reason in its
// status, so it comes up once the configuration is fixed. The error
// joins the targets that could not be used at all (bad syntax, a port
// that cannot be listened on); the others are applied regardless.
func (a *Agent) SetControllers(cs []Controller) error {
	want := map[string]bool{}
	var errs []error
	for _, c := range cs {
		kind, _, err := parseTarget(c.Target)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c = a.withDefaults(c)
		want[c.Target] = true
		switch kind {
		case "tcp", "unix", "ssl":
			a.mu.Lock()
			if r, ok := a.controllers[c.Target]; ok {
				r.update(c)
			} else if !a.closed {
				r := newRconn(a, c)
				a.controllers[c.Target] = r
				a.wg.Add(1)
				go r.run()
			}
			a.mu.Unlock()
		case "ptcp", "punix", "pssl":
			if err := a.listen(c.Target, &c); err != nil {
				errs = append(errs, err)
				delete(want, c.Target)
			}
		}
	}
	a.mu.Lock()
	for t, r := range a.controllers {
		if !want[t] {
			r.close()
			delete(a.controllers, t)
		}
	}
	for t, l := range a.listeners {
		if l.controller && !want[t] {
			l.close()
			delete(a.listeners, t)
		}
	}
	a.mu.Unlock()
	return errors.Join(errs...)
}

// Connected reports whether any controller connection is up (fail_mode).
func (a *Agent) Connected() bool { return a.nControllers.Load() > 0 }

// ControllerStatus is what OVSDB's Controller row shows for a target.
type ControllerStatus struct {
	Target      string
	IsConnected bool
	Role        string            // "master", "slave" or "other"
	Status      map[string]string // state, last_error, sec_since_connect, sec_since_disconnect
}

// ControllerStatus returns the status of every configured controller
// target, sorted by target.
func (a *Agent) ControllerStatus() []ControllerStatus {
	a.mu.Lock()
	var out []ControllerStatus
	for t, r := range a.controllers {
		out = append(out, r.status(t))
	}
	for t, l := range a.listeners {
		if !l.controller {
			continue
		}
		st := ControllerStatus{Target: t, Role: "other", Status: map[string]string{"state": "LISTENING"}}
		if e := l.lastError(); e != "" {
			st.Status["last_error"] = e
		}
		for c := range a.conns {
			if c.target == t && c.ready.Load() {
				st.IsConnected = true
				st.Role = c.roleName()
				st.Status["state"] = "ACTIVE"
				st.Status["sec_since_connect"] = fmt.Sprint(int(time.Since(c.since).Seconds()))
			}
		}
		out = append(out, st)
	}
	a.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Target < out[j].Target })
	return out
}
