package bridge

import (
	"sync"
	"time"

	"github.com/govs/govs/internal/ofproto"
)

// Fail mode: what a bridge does about its flows when its controller set
// changes and while no controller is connected (OVS's
// ofproto/fail-open.c, and the flushes of vswitchd/bridge.c and
// ofproto/connmgr.c).
//
//  1. Configuration transitions, as OVS 3.1 does them:
//     - the bridge gains its first controller or loses its last one:
//     every flow is deleted (the controller starts from an empty
//     switch; a bridge left without one does not keep its rules);
//     - the fail mode changes on a bridge without controllers: every
//     flow is deleted;
//     - after either, a standalone bridge without controllers gets OVS's
//     default rule back (priority=0,actions=NORMAL).
//  2. Fail-open: a standalone bridge (fail_mode unset or "standalone")
//     that has controllers, none of which has been connected for three
//     times the longest probe interval (as OVS's fail-open.c: the
//     interval OVS derives from Controller.inactivity_probe, whole
//     seconds and at least 5 s, so 15 s by default; 15 s too when probes
//     are disabled), forwards every packet with NORMAL. When a
//     controller connects (after HELLO, before it sends anything else),
//     the bridge goes back to its OpenFlow tables.
//  3. A secure bridge never fails open: it keeps the rules its
//     controller installed and forwards nothing else.
//
// Fail-open is OVS's hidden rule (ofproto/fail-open.c): table 0,
// match-all, actions=NORMAL, above every OpenFlow priority (OVS's
// 0xf0f0f0; an ofproto hidden rule, see internal/ofproto/hidden.go). It
// does not show in dump-flows, flow or aggregate statistics or table
// active counts, and no flow-mod removes it, delete-all included; it
// shows in ofproto/trace. Only this file installs and removes it.

// failOpenPriority ranks the fail-open rule among the bridge's hidden
// rules (it is the only one).
const failOpenPriority = 0

// failState is a bridge's fail-mode state. The agent's connectivity
// callback, the trigger timer and configuration calls all take mu; the
// flow changes they make run with mu held, so they are applied in the
// order the events happened.
type failState struct {
	mu          sync.Mutex
	mode        string        // "secure" or "standalone", as last applied
	controllers bool          // the bridge has controllers configured
	trigger     time.Duration // disconnection that opens the bridge
	connected   bool          // a controller connection is up
	timer       *time.Timer   // armed while a fail-open is pending
	open        bool          // the fail-open rule is installed
}

// failStates holds each bridge's failState. It lives beside the Switch
// rather than in it so that fail-mode handling stays in this file; states
// of deleted bridges are dropped by applyFailMode and by their timers.
var failStates sync.Map // *bridge -> *failState

func failModeOf(mode string) string {
	if mode == "secure" {
		return "secure"
	}
	return "standalone"
}

// failStateOf returns b's state, creating it as "no controllers, the
// bridge's own mode" (what AddBridge set up).
func failStateOf(b *bridge) *failState {
	if v, ok := failStates.Load(b); ok {
		return v.(*failState)
	}
	v, _ := failStates.LoadOrStore(b, &failState{mode: failModeOf(b.spec.FailMode)})
	return v.(*failState)
}

// live reports whether b is still one of the switch's bridges.
func (s *Switch) live(b *bridge) bool {
	v, ok := s.byName.Load(b.name)
	return ok && v.(*bridge) == b
}

// applyFailMode applies b.spec's fail mode and controller set; it runs
// after every AddBridge and ReconfigureBridge (through setControllers).
func (s *Switch) applyFailMode(b *bridge) {
	failStates.Range(func(k, v any) bool {
		if old := k.(*bridge); old != b && !s.live(old) {
			v.(*failState).stop()
			failStates.Delete(k)
		}
		return true
	})
	fs := failStateOf(b)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	mode := failModeOf(b.spec.FailMode)
	has := len(b.spec.Controllers) > 0
	flush := has != fs.controllers || (!has && mode != fs.mode)
	fs.mode, fs.controllers = mode, has
	fs.trigger = failOpenTriggerOf(b)
	if flush {
		if fs.open {
			// OVS's flush takes the fail-open rule too; it comes back
			// below if the bridge is still open.
			fs.open = false
			s.delFailOpenRule(b)
		}
		s.flushFlows(b)
		if !has && mode == "standalone" {
			s.addDefaultFlow(b)
		}
	}
	s.updateFailOpenLocked(b, fs)
}

// failOpenTriggerOf is failOpenTrigger; tests shorten it.
var failOpenTriggerOf = failOpenTrigger

// failOpenTrigger is how long b's controllers must all be disconnected
// before it fails open: three times their longest probe interval, or
// 15 s when none probes (OVS's fail_open_get_trigger_duration).
func failOpenTrigger(b *bridge) time.Duration {
	var d time.Duration
	for _, c := range b.spec.Controllers {
		d = max(d, c.ProbeInterval())
	}
	if d == 0 {
		return 15 * time.Second
	}
	return 3 * d
}

// controllerConnectivity is the agent's OnConnectivity hook: connected is
// whether any controller connection is up.
func (s *Switch) controllerConnectivity(b *bridge, connected bool) {
	fs := failStateOf(b)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if !s.live(b) {
		fs.stopLocked()
		failStates.Delete(b)
		return
	}
	fs.connected = connected
	s.updateFailOpenLocked(b, fs)
	s.log.Info("controller connectivity", "bridge", b.name, "connected", connected, "fail_mode", fs.mode)
}

// updateFailOpenLocked makes the fail-open rule and timer agree with fs:
// a bridge that just became eligible (lost its last connection, got its
// first controller, became standalone) fails open after fs.trigger.
func (s *Switch) updateFailOpenLocked(b *bridge, fs *failState) {
	eligible := fs.mode == "standalone" && fs.controllers && !fs.connected
	if !eligible {
		fs.stopLocked()
		if fs.open {
			fs.open = false
			s.delFailOpenRule(b)
		}
		return
	}
	if fs.open || fs.timer != nil {
		return
	}
	fs.timer = time.AfterFunc(fs.trigger, func() { s.failOpen(b, fs) })
}

// failOpen runs when the trigger time passed with no controller.
func (s *Switch) failOpen(b *bridge, fs *failState) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.timer = nil
	if !s.live(b) {
		failStates.Delete(b)
		return
	}
	if fs.open || fs.connected || !fs.controllers || fs.mode != "standalone" {
		return
	}
	fs.open = true
	normal := ofproto.Instructions{GotoTable: -1, Apply: []ofproto.Action{{Type: ofproto.ActOutput, Port: ofproto.PortNormal}}}
	if err := b.ofb.SetHiddenRule(0, failOpenPriority, ofproto.MatchAll(), normal); err != nil {
		s.log.Error("add fail-open rule", "bridge", b.name, "err", err)
	}
	s.log.Warn("no controller connected: failing open (NORMAL)", "bridge", b.name, "after", fs.trigger)
}

func (fs *failState) stop() {
	fs.mu.Lock()
	fs.stopLocked()
	fs.mu.Unlock()
}

func (fs *failState) stopLocked() {
	if fs.timer != nil {
		fs.timer.Stop()
		fs.timer = nil
	}
}

// flushFlows deletes every rule of b (OVS's ofproto_flush_flows).
func (s *Switch) flushFlows(b *bridge) {
	fm := ofproto.NewFlowMod(ofproto.FlowDelete)
	fm.Table = ofproto.TableAll
	if err := b.ofb.FlowMod(fm); err != nil {
		s.log.Error("flush flows", "bridge", b.name, "err", err)
	}
}

// addDefaultFlow adds OVS's default rule, priority=0,actions=NORMAL.
func (s *Switch) addDefaultFlow(b *bridge) {
	fm := ofproto.NewFlowMod(ofproto.FlowAdd)
	fm.Apply = []ofproto.Action{{Type: ofproto.ActOutput, Port: ofproto.PortNormal}}
	if err := b.ofb.FlowMod(fm); err != nil {
		s.log.Error("add NORMAL flow", "bridge", b.name, "err", err)
	}
}

// delFailOpenRule removes the hidden fail-open rule.
func (s *Switch) delFailOpenRule(b *bridge) {
	b.ofb.DelHiddenRule(0, failOpenPriority, ofproto.MatchAll())
}
