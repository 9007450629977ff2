package ofproto

// The action set (OF1.3 §5.10): what write-actions accumulate and the end
// of a pipeline executes, at most one action of each kind (one set-field
// per field), always in the order below whatever order they were written in.
// Group buckets are action sets too (OVS executes them the same way).
//
// It is a fixed-size value: no allocation to fill, copy or clear.

// Action-set slots in execution order.
const (
	slotCopyTTLIn = iota
	slotPopVLAN
	slotPopPBB
	slotPopMPLS
	slotPushMPLS
	slotPushPBB
	slotPushVLAN
	slotCopyTTLOut
	slotDecMPLSTTL
	slotDecNwTTL
	slotSet // set-field, set TTLs, register loads and other actions: ordered list
	slotQoS
	slotGroup
	slotOutput
	numSlots
)

// maxSetActions bounds the set-phase list; OpenFlow allows one set-field per
// field, so this is never reached by a conforming controller.
const maxSetActions = 32

type actionSet struct {
	has   uint32 // bit per slot
	slots [numSlots]Action
	sets  [maxSetActions]Action
	nsets int
}

func (s *actionSet) reset() {
	*s = actionSet{}
}

func (s *actionSet) empty() bool { return s.has == 0 && s.nsets == 0 }

func slotOf(a *Action) int {
	switch a.Type {
	case ActCopyTTLIn:
		return slotCopyTTLIn
	case ActPopVLAN:
		return slotPopVLAN
	case ActPopPBB:
		return slotPopPBB
	case ActPopMPLS:
		return slotPopMPLS
	case ActPushMPLS:
		return slotPushMPLS
	case ActPushPBB:
		return slotPushPBB
	case ActPushVLAN:
		return slotPushVLAN
	case ActCopyTTLOut:
		return slotCopyTTLOut
	case ActDecMPLSTTL:
		return slotDecMPLSTTL
	case ActDecNwTTL:
		return slotDecNwTTL
	case ActSetQueue:
		return slotQoS
	case ActGroup:
		return slotGroup
	case ActOutput, ActController, ActEnqueue, ActOutputReg:
		return slotOutput
	}
	return slotSet
}

// write merges a into the set: it replaces an action of the same kind
// (for set-field, of the same field).
func (s *actionSet) write(a *Action) {
	slot := slotOf(a)
	if slot != slotSet {
		s.slots[slot] = *a
		s.has |= 1 << slot
		return
	}
	for i := 0; i < s.nsets; i++ {
		if sameSetKind(&s.sets[i], a) {
			s.sets[i] = *a
			return
		}
	}
	if s.nsets == maxSetActions {
		s.nsets--
	}
	s.sets[s.nsets] = *a
	s.nsets++
}

func sameSetKind(x, y *Action) bool {
	if x.Type != y.Type {
		return false
	}
	switch x.Type {
	case ActSetField:
		return x.Field == y.Field
	case ActSetNwTTL, ActSetMPLSTTL, ActMeter:
		return true
	}
	return false
}

// execActionSet runs s in OF1.3 §5.10 order. An output is ignored when a
// group is present.
func (c *xlateCtx) execActionSet(s *actionSet) {
	if s.empty() {
		return
	}
	c.traceActionSet(s)
	for slot := 0; slot < numSlots && !c.exit; slot++ {
		if slot == slotSet {
			for i := 0; i < s.nsets && !c.exit; i++ {
				c.action(&s.sets[i])
			}
			continue
		}
		if s.has&(1<<slot) == 0 {
			continue
		}
		if slot == slotOutput && s.has&(1<<slotGroup) != 0 {
			continue
		}
		c.action(&s.slots[slot])
	}
}
