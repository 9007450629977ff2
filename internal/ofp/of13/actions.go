package of13

import (
	"encoding/binary"

	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/nx"
)

// Action types (ofp_action_type).
const (
	ActOutput       uint16 = 0
	ActCopyTTLOut   uint16 = 11
	ActCopyTTLIn    uint16 = 12
	ActSetMPLSTTL   uint16 = 15
	ActDecMPLSTTL   uint16 = 16
	ActPushVLAN     uint16 = 17
	ActPopVLAN      uint16 = 18
	ActPushMPLS     uint16 = 19
	ActPopMPLS      uint16 = 20
	ActSetQueue     uint16 = 21
	ActGroup        uint16 = 22
	ActSetNwTTL     uint16 = 23
	ActDecNwTTL     uint16 = 24
	ActSetField     uint16 = 25
	ActPushPBB      uint16 = 26
	ActPopPBB       uint16 = 27
	ActExperimenter uint16 = 0xffff
)

// Output is OFPAT_OUTPUT.
type Output struct {
	Port   uint32
	MaxLen uint16
}

// NoArg is an action without arguments: OFPAT_COPY_TTL_OUT, COPY_TTL_IN,
// DEC_MPLS_TTL, POP_VLAN, DEC_NW_TTL, POP_PBB.
type NoArg struct{ Type uint16 }

// Ethertype is OFPAT_PUSH_VLAN, PUSH_MPLS, PUSH_PBB or POP_MPLS.
type Ethertype struct {
	Type      uint16
	Ethertype uint16
}

// SetTTL is OFPAT_SET_MPLS_TTL or SET_NW_TTL.
type SetTTL struct {
	Type uint16
	TTL  uint8
}

// SetQueue is OFPAT_SET_QUEUE.
type SetQueue struct{ Queue uint32 }

// Group is OFPAT_GROUP.
type Group struct{ Group uint32 }

// SetField is OFPAT_SET_FIELD; Field carries no mask in OpenFlow 1.3.
type SetField struct{ Field ofp.OXM }

// ExperimenterAction is an experimenter action other than Nicira's, kept as
// sent so it round-trips; the agent refuses it with
// OFPBAC_BAD_EXPERIMENTER.
type ExperimenterAction struct {
	Experimenter uint32
	Data         []byte
}

func appendActHeader(b []byte, typ uint16, length int) []byte {
	b = binary.BigEndian.AppendUint16(b, typ)
	return binary.BigEndian.AppendUint16(b, uint16(length))
}

// AppendAction implements ofp.Action.
func (a *Output) AppendAction(b []byte) []byte {
	b = appendActHeader(b, ActOutput, 16)
	b = binary.BigEndian.AppendUint32(b, a.Port)
	b = binary.BigEndian.AppendUint16(b, a.MaxLen)
	return append(b, 0, 0, 0, 0, 0, 0)
}

// AppendAction implements ofp.Action.
func (a *NoArg) AppendAction(b []byte) []byte {
	return append(appendActHeader(b, a.Type, 8), 0, 0, 0, 0)
}

// AppendAction implements ofp.Action.
func (a *Ethertype) AppendAction(b []byte) []byte {
	b = appendActHeader(b, a.Type, 8)
	return append(binary.BigEndian.AppendUint16(b, a.Ethertype), 0, 0)
}

// AppendAction implements ofp.Action.
func (a *SetTTL) AppendAction(b []byte) []byte {
	return append(appendActHeader(b, a.Type, 8), a.TTL, 0, 0, 0)
}

// AppendAction implements ofp.Action.
func (a *SetQueue) AppendAction(b []byte) []byte {
	return binary.BigEndian.AppendUint32(appendActHeader(b, ActSetQueue, 8), a.Queue)
}

// AppendAction implements ofp.Action.
func (a *Group) AppendAction(b []byte) []byte {
	return binary.BigEndian.AppendUint32(appendActHeader(b, ActGroup, 8), a.Group)
}

// AppendAction implements ofp.Action.
func (a *SetField) AppendAction(b []byte) []byte {
	n := 4 + a.Field.Len()
	n += ofp.Pad8(n)
	start := len(b)
	b = appendActHeader(b, ActSetField, n)
	b = a.Field.Append(b)
	return append(b, make([]byte, n-(len(b)-start))...)
}

// AppendAction implements ofp.Action.
func (a *ExperimenterAction) AppendAction(b []byte) []byte {
	b = appendActHeader(b, ActExperimenter, 8+len(a.Data))
	b = binary.BigEndian.AppendUint32(b, a.Experimenter)
	return append(b, a.Data...)
}

// DecodeActions decodes an OpenFlow 1.3 action list. Nicira actions decode
// to package nx's types; unknown Nicira subtypes to *nx.Raw.
func DecodeActions(b []byte) ([]ofp.Action, error) { return decodeActions(b) }

// AppendActions appends an action list.
func AppendActions(b []byte, acts []ofp.Action) []byte { return appendActions(b, acts) }

func appendActions(b []byte, acts []ofp.Action) []byte { return ofp.AppendActions(b, acts) }

func decodeActions(b []byte) ([]ofp.Action, error) { return ofp.DecodeActions(b, decodeAction) }

func decodeAction(typ uint16, b []byte) (ofp.Action, error) {
	want := 8
	switch typ {
	case ActOutput:
		want = 16
	case ActSetField, ActExperimenter:
		want = -1
	}
	if want > 0 && len(b) != want {
		return nil, ofp.ErrBadActionLen
	}
	switch typ {
	case ActOutput:
		return &Output{Port: binary.BigEndian.Uint32(b[4:]), MaxLen: binary.BigEndian.Uint16(b[8:])}, nil
	case ActCopyTTLOut, ActCopyTTLIn, ActDecMPLSTTL, ActPopVLAN, ActDecNwTTL, ActPopPBB:
		return &NoArg{Type: typ}, nil
	case ActPushVLAN, ActPushMPLS, ActPushPBB, ActPopMPLS:
		return &Ethertype{Type: typ, Ethertype: binary.BigEndian.Uint16(b[4:])}, nil
	case ActSetMPLSTTL, ActSetNwTTL:
		return &SetTTL{Type: typ, TTL: b[4]}, nil
	case ActSetQueue:
		return &SetQueue{Queue: binary.BigEndian.Uint32(b[4:])}, nil
	case ActGroup:
		return &Group{Group: binary.BigEndian.Uint32(b[4:])}, nil
	case ActSetField:
		o, n, err := ofp.DecodeOXM(b[4:])
		if err != nil || o.HasMask {
			return nil, ofp.ErrBadSetLen
		}
		if !ofp.AllZero(b[4+n:]) || len(b) != 4+n+ofp.Pad8(4+n) {
			return nil, ofp.ErrBadSetLen
		}
		return &SetField{Field: o}, nil
	case ActExperimenter:
		exp := binary.BigEndian.Uint32(b[4:])
		if exp == nx.VendorID {
			return nx.DecodeAction(b)
		}
		return &ExperimenterAction{Experimenter: exp, Data: b[8:]}, nil
	}
	return nil, ofp.ErrBadActionType
}
