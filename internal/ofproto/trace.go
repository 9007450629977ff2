package ofproto

import (
	"errors"
	"fmt"
	"strings"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
)

// Tracing (ofproto/trace) and packet-out: translations that are not
// upcalls. Neither learns MACs nor credits rules.

// TraceKind says what a trace step records.
type TraceKind uint8

const (
	TraceLookup TraceKind = iota + 1
	TraceAction
	TraceActionSet
	TraceOutput
	TracePacketIn
	TraceBucket
	TracePatch
	TraceNote
)

// TraceStep is one event of a translation.
type TraceStep struct {
	Kind   TraceKind
	Depth  int
	Bridge string
	Table  uint8
	Rule   *Rule  // TraceLookup: the rule matched, nil on a miss
	Action Action // TraceAction
	Port   uint32 // TraceOutput: datapath port; TracePatch: peer OpenFlow port
	Text   string // TraceNote and a summary of the other kinds
}

// Trace is a recorded translation.
type Trace struct {
	Bridge    string
	Key       flow.Key // as given (OpenFlow in_port)
	Steps     []TraceStep
	Mask      flow.Mask // the megaflow mask
	Actions   odp.Actions
	NoInstall bool
}

// ErrNoBridge is returned for an unknown bridge name.
var ErrNoBridge = errors.New("no such bridge")

// Trace translates k through bridge without side effects and records every
// step. k.InPort is an OpenFlow port of the bridge.
func (o *Ofproto) Trace(bridge string, k *flow.Key) (*Trace, error) {
	t := &Trace{Bridge: bridge, Key: *k}
	c := o.getCtx()
	defer o.putCtx(c)
	pm := o.lockAll()
	bs := pm.stateByName(bridge)
	if bs == nil {
		unlockAll(pm)
		return nil, fmt.Errorf("trace %s: %w", bridge, ErrNoBridge)
	}
	c.start(pm, bs, k, k.InPort, nil)
	c.mayLearn = false
	c.trace = t
	c.pipeline()
	c.finish()
	unlockAll(pm)
	t.Mask = c.wc
	t.Actions = append(odp.Actions(nil), c.acts...)
	t.NoInstall = c.noInstall
	return t, nil
}

// PacketOut translates a controller's packet-out: actions run on pkt as if
// it arrived on OpenFlow port inPort (PortController or PortAny when it did
// not come from a port); output to TABLE runs the pipeline. It returns the
// datapath actions to execute on pkt.
func (o *Ofproto) PacketOut(bridge string, inPort uint32, actions []Action, pkt []byte) (odp.Actions, error) {
	var k flow.Key
	flow.ParseBytes(pkt, &k)
	c := o.getCtx()
	defer o.putCtx(c)
	pm := o.lockAll()
	bs := pm.stateByName(bridge)
	if bs == nil {
		unlockAll(pm)
		return nil, fmt.Errorf("packet-out %s: %w", bridge, ErrNoBridge)
	}
	c.start(pm, bs, &k, inPort, nil)
	c.pkt = pkt
	c.mayLearn = false
	c.packetOut = true
	c.actions(actions)
	c.finish()
	unlockAll(pm)
	// The packet is executed once: what its translation went through
	// counts it, as in OVS.
	c.pushStats(1, uint64(len(pkt)), c.now)
	o.queueLearned(c)
	return append(odp.Actions(nil), c.acts...), nil
}

func (c *xlateCtx) step(s TraceStep) {
	s.Depth = c.depth
	s.Bridge = c.bs.b.Name()
	c.trace.Steps = append(c.trace.Steps, s)
}

func (c *xlateCtx) note(format string, args ...any) {
	if c.trace == nil {
		return
	}
	c.step(TraceStep{Kind: TraceNote, Text: fmt.Sprintf(format, args...)})
}

func (c *xlateCtx) traceLookup(table uint8, r *Rule) {
	if c.trace == nil {
		return
	}
	text := "no match"
	if r != nil && r.Hidden {
		text = fmt.Sprintf("hidden rule, priority %d above OpenFlow's", r.Priority)
	} else if r != nil {
		text = fmt.Sprintf("priority %d, cookie %#x", r.Priority, r.Cookie)
	}
	c.step(TraceStep{Kind: TraceLookup, Table: table, Rule: r, Text: text})
}

func (c *xlateCtx) traceAction(a *Action) {
	if c.trace == nil {
		return
	}
	c.step(TraceStep{Kind: TraceAction, Table: c.table, Action: *a, Text: actionName(a)})
}

func (c *xlateCtx) traceActionSet(s *actionSet) {
	if c.trace == nil {
		return
	}
	c.step(TraceStep{Kind: TraceActionSet, Text: "executing action set"})
}

func (c *xlateCtx) traceOutput(odpPort uint32) {
	if c.trace == nil {
		return
	}
	c.step(TraceStep{Kind: TraceOutput, Port: odpPort, Text: fmt.Sprintf("output to datapath port %d", odpPort)})
}

func (c *xlateCtx) tracePacketIn(reason PacketInReason, id uint16) {
	if c.trace == nil {
		return
	}
	c.step(TraceStep{Kind: TracePacketIn, Table: c.table, Text: fmt.Sprintf("packet-in reason %d to controller %d", reason, id)})
}

func (c *xlateCtx) traceBucket(group uint32, i int) {
	if c.trace == nil {
		return
	}
	c.step(TraceStep{Kind: TraceBucket, Text: fmt.Sprintf("group %d bucket %d", group, i)})
}

func (c *xlateCtx) tracePatch(peerBridge string, peerPort uint32) {
	if c.trace == nil {
		return
	}
	c.step(TraceStep{Kind: TracePatch, Port: peerPort, Text: fmt.Sprintf("patch to bridge %s port %d", peerBridge, peerPort)})
}

var actionNames = [...]string{
	ActOutput: "output", ActGroup: "group", ActSetQueue: "set_queue", ActSetField: "set_field",
	ActPushVLAN: "push_vlan", ActPopVLAN: "pop_vlan", ActPushMPLS: "push_mpls", ActPopMPLS: "pop_mpls",
	ActPushPBB: "push_pbb", ActPopPBB: "pop_pbb", ActSetNwTTL: "set_nw_ttl", ActDecNwTTL: "dec_ttl",
	ActSetMPLSTTL: "set_mpls_ttl", ActDecMPLSTTL: "dec_mpls_ttl", ActCopyTTLOut: "copy_ttl_out",
	ActCopyTTLIn: "copy_ttl_in", ActController: "controller", ActResubmit: "resubmit",
	ActRegMove: "move", ActOutputReg: "output_reg", ActNote: "note", ActEnqueue: "enqueue", ActMeter: "meter",
	ActLearn: "learn",
}

func actionName(a *Action) string {
	if int(a.Type) < len(actionNames) && actionNames[a.Type] != "" {
		return actionNames[a.Type]
	}
	return fmt.Sprintf("action %d", a.Type)
}

// String renders the trace roughly as ovs-appctl ofproto/trace does.
func (t *Trace) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "bridge %s, in_port %d\n", t.Bridge, t.Key.InPort)
	for _, s := range t.Steps {
		indent := strings.Repeat("    ", s.Depth)
		switch s.Kind {
		case TraceLookup:
			fmt.Fprintf(&sb, "%s%s table %d: %s\n", indent, s.Bridge, s.Table, s.Text)
		default:
			fmt.Fprintf(&sb, "%s%s\n", indent, s.Text)
		}
	}
	fmt.Fprintf(&sb, "datapath actions: %d", len(t.Actions))
	if t.NoInstall {
		sb.WriteString(" (not installed)")
	}
	sb.WriteString("\n")
	return sb.String()
}
