package ofproto

import (
	"sync/atomic"
	"time"
)

// Rule is one OpenFlow flow entry. Its match, priority, table, timeouts
// and flags never change while it is in a table; Instructions, Cookie,
// Modified (a modify) and Created (a relearn) change only under the
// bridge's write lock, so code without the lock reads them from a
// FlowView. Counters are atomic because the revalidators push statistics
// without the lock.
type Rule struct {
	Table        uint8
	Priority     uint16
	Match        MiniMatch
	Cookie       uint64
	IdleTimeout  uint16 // seconds; 0: none
	HardTimeout  uint16 // seconds; 0: none
	Flags        uint16 // FlagSendFlowRem, ...
	Instructions Instructions
	Created      time.Time
	Modified     time.Time // last add/modify that changed instructions
	// Hidden marks a rule the switch installed for itself, invisible to
	// OpenFlow and above every OpenFlow priority (see hidden.go).
	Hidden bool

	Packets atomic.Uint64
	Bytes   atomic.Uint64
	Used    atomic.Int64 // last hit, unix nanoseconds; 0: never

	removed atomic.Bool
	seq     uint64 // insertion order, breaks priority ties deterministically
	next    *Rule  // the next rule of its classifier bucket
	// older and newer link the classifier's rules in insertion order.
	older, newer *Rule
}

// AddStats credits the rule with traffic seen by the datapath.
func (r *Rule) AddStats(pkts, bytes uint64, used int64) {
	if pkts == 0 && bytes == 0 {
		return
	}
	r.Packets.Add(pkts)
	r.Bytes.Add(bytes)
	for {
		old := r.Used.Load()
		if used <= old || r.Used.CompareAndSwap(old, used) {
			return
		}
	}
}

// IsRemoved reports whether the rule has left its table. Translations
// that still hold it (xlate caches) use this to know they are stale.
func (r *Rule) IsRemoved() bool { return r.removed.Load() }

// UsesPort reports whether any output of the rule goes to port (the
// out_port filter of flow-mod delete and flow stats).
func (r *Rule) UsesPort(port uint32) bool { return r.Instructions.UsesPort(port) }

// UsesGroup reports whether any action of the rule refers to group.
func (r *Rule) UsesGroup(group uint32) bool { return r.Instructions.UsesGroup(group) }

// UsesMeter reports whether the rule is metered by meter.
func (r *Rule) UsesMeter(meter uint32) bool { return r.Instructions.UsesMeter(meter) }

// UsesPort reports whether any output of in goes to port (PortAny: any).
func (in *Instructions) UsesPort(port uint32) bool {
	if port == PortAny {
		return true
	}
	return actionsUsePort(in.Apply, port) || actionsUsePort(in.Write, port)
}

// UsesGroup reports whether any action of in refers to group (GroupAny:
// any).
func (in *Instructions) UsesGroup(group uint32) bool {
	if group == GroupAny {
		return true
	}
	return actionsUseGroup(in.Apply, group) || actionsUseGroup(in.Write, group)
}

// UsesMeter reports whether in meters with meter.
func (in *Instructions) UsesMeter(meter uint32) bool {
	if in.Meter == meter {
		return true
	}
	for _, acts := range [][]Action{in.Apply, in.Write} {
		for i := range acts {
			if acts[i].Type == ActMeter && acts[i].Meter == meter {
				return true
			}
		}
	}
	return false
}

// FlowView is a rule as Bridge.Flows hands it out. A modify changes a
// rule's instructions, cookie and modification time in place, and a
// relearn its creation time, under the bridge's write lock. A view
// carries copies of those, taken under the read lock, so a dump or a
// statistics reply that reads them after the lock is released reads
// one consistent state rather than racing the next flow-mod. The view's
// fields shadow the rule's; the rest of a rule (match, priority, table,
// timeouts, flags) never changes once it is in a table, and its counters
// are atomic.
type FlowView struct {
	*Rule
	Cookie       uint64
	Instructions Instructions
	Created      time.Time
	Modified     time.Time
}

// ViewOf returns a view of r. The caller must hold the bridge's lock, or
// r must be in no table (one it built itself, or a removed one).
func ViewOf(r *Rule) FlowView {
	return FlowView{Rule: r, Cookie: r.Cookie, Instructions: r.Instructions, Created: r.Created, Modified: r.Modified}
}

// UsesPort is Rule.UsesPort on the view's instructions.
func (v *FlowView) UsesPort(port uint32) bool { return v.Instructions.UsesPort(port) }

// UsesGroup is Rule.UsesGroup on the view's instructions.
func (v *FlowView) UsesGroup(group uint32) bool { return v.Instructions.UsesGroup(group) }

// UsesMeter is Rule.UsesMeter on the view's instructions.
func (v *FlowView) UsesMeter(meter uint32) bool { return v.Instructions.UsesMeter(meter) }

func actionsUsePort(acts []Action, port uint32) bool {
	for i := range acts {
		a := &acts[i]
		if (a.Type == ActOutput || a.Type == ActEnqueue) && a.Port == port {
			return true
		}
		if a.Type == ActController && port == PortController {
			return true
		}
	}
	return false
}

func actionsUseGroup(acts []Action, group uint32) bool {
	for i := range acts {
		if acts[i].Type == ActGroup && acts[i].Group == group {
			return true
		}
	}
	return false
}

// RemovedReason says why a rule left its table (ofp_flow_removed_reason,
// with OF1.4's group and meter deletes).
type RemovedReason uint8

const (
	RemovedIdleTimeout RemovedReason = 0
	RemovedHardTimeout RemovedReason = 1
	RemovedDelete      RemovedReason = 2
	RemovedGroupDelete RemovedReason = 3
	RemovedMeterDelete RemovedReason = 4
	RemovedEviction    RemovedReason = 5
)

// Removed is a rule that left its table, for FLOW_REMOVED messages (sent
// when Rule.Flags has FlagSendFlowRem).
type Removed struct {
	Rule   *Rule
	Reason RemovedReason
}
