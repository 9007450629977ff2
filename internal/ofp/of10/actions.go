package of10

import (
	"encoding/binary"

	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/nx"
)

// Action types (ofp_action_type, OpenFlow 1.0).
const (
	ActOutput     uint16 = 0
	ActSetVLANVID uint16 = 1
	ActSetVLANPCP uint16 = 2
	ActStripVLAN  uint16 = 3
	ActSetDLSrc   uint16 = 4
	ActSetDLDst   uint16 = 5
	ActSetNwSrc   uint16 = 6
	ActSetNwDst   uint16 = 7
	ActSetNwTOS   uint16 = 8
	ActSetTpSrc   uint16 = 9
	ActSetTpDst   uint16 = 10
	ActEnqueue    uint16 = 11
	ActVendor     uint16 = 0xffff
)

// Output is OFPAT_OUTPUT.
type Output struct{ Port, MaxLen uint16 }

// Set16 is an action with one 16-bit argument: SET_VLAN_VID, SET_TP_SRC,
// SET_TP_DST.
type Set16 struct {
	Type  uint16
	Value uint16
}

// Set8 is SET_VLAN_PCP or SET_NW_TOS (8 bytes), or STRIP_VLAN (Value 0).
type Set8 struct {
	Type  uint16
	Value uint8
}

// SetDLAddr is SET_DL_SRC or SET_DL_DST.
type SetDLAddr struct {
	Type uint16
	Addr [6]byte
}

// SetNwAddr is SET_NW_SRC or SET_NW_DST.
type SetNwAddr struct {
	Type uint16
	Addr uint32
}

// Enqueue is OFPAT_ENQUEUE.
type Enqueue struct {
	Port    uint16
	QueueID uint32
}

// VendorAction is a non-Nicira vendor action, kept as sent.
type VendorAction struct {
	Vendor uint32
	Data   []byte
}

func hdr(b []byte, typ uint16, n int) []byte {
	b = binary.BigEndian.AppendUint16(b, typ)
	return binary.BigEndian.AppendUint16(b, uint16(n))
}

// AppendAction implements ofp.Action.
func (a *Output) AppendAction(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(hdr(b, ActOutput, 8), a.Port)
	return binary.BigEndian.AppendUint16(b, a.MaxLen)
}

// AppendAction implements ofp.Action.
func (a *Set16) AppendAction(b []byte) []byte {
	return append(binary.BigEndian.AppendUint16(hdr(b, a.Type, 8), a.Value), 0, 0)
}

// AppendAction implements ofp.Action.
func (a *Set8) AppendAction(b []byte) []byte {
	return append(hdr(b, a.Type, 8), a.Value, 0, 0, 0)
}

// AppendAction implements ofp.Action.
func (a *SetDLAddr) AppendAction(b []byte) []byte {
	return append(append(hdr(b, a.Type, 16), a.Addr[:]...), 0, 0, 0, 0, 0, 0)
}

// AppendAction implements ofp.Action.
func (a *SetNwAddr) AppendAction(b []byte) []byte {
	return binary.BigEndian.AppendUint32(hdr(b, a.Type, 8), a.Addr)
}

// AppendAction implements ofp.Action.
func (a *Enqueue) AppendAction(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(hdr(b, ActEnqueue, 16), a.Port)
	b = append(b, 0, 0, 0, 0, 0, 0)
	return binary.BigEndian.AppendUint32(b, a.QueueID)
}

// AppendAction implements ofp.Action.
func (a *VendorAction) AppendAction(b []byte) []byte {
	return append(binary.BigEndian.AppendUint32(hdr(b, ActVendor, 8+len(a.Data)), a.Vendor), a.Data...)
}

// DecodeActions decodes an OpenFlow 1.0 action list.
func DecodeActions(b []byte) ([]ofp.Action, error) { return decodeActions(b) }

// AppendActions appends an action list.
func AppendActions(b []byte, acts []ofp.Action) []byte { return appendActions(b, acts) }

func appendActions(b []byte, acts []ofp.Action) []byte { return ofp.AppendActions(b, acts) }

func decodeActions(b []byte) ([]ofp.Action, error) { return ofp.DecodeActions(b, decodeAction) }

func decodeAction(typ uint16, b []byte) (ofp.Action, error) {
	want := 8
	switch typ {
	case ActSetDLSrc, ActSetDLDst, ActEnqueue:
		want = 16
	case ActVendor:
		want = len(b)
	}
	if len(b) != want {
		return nil, ofp.ErrBadActionLen
	}
	switch typ {
	case ActOutput:
		return &Output{Port: binary.BigEndian.Uint16(b[4:]), MaxLen: binary.BigEndian.Uint16(b[6:])}, nil
	case ActSetVLANVID, ActSetTpSrc, ActSetTpDst:
		return &Set16{Type: typ, Value: binary.BigEndian.Uint16(b[4:])}, nil
	case ActSetVLANPCP, ActSetNwTOS, ActStripVLAN:
		return &Set8{Type: typ, Value: b[4]}, nil
	case ActSetDLSrc, ActSetDLDst:
		a := &SetDLAddr{Type: typ}
		copy(a.Addr[:], b[4:])
		return a, nil
	case ActSetNwSrc, ActSetNwDst:
		return &SetNwAddr{Type: typ, Addr: binary.BigEndian.Uint32(b[4:])}, nil
	case ActEnqueue:
		return &Enqueue{Port: binary.BigEndian.Uint16(b[4:]), QueueID: binary.BigEndian.Uint32(b[12:])}, nil
	case ActVendor:
		v := binary.BigEndian.Uint32(b[4:])
		if v == nx.VendorID {
			return nx.DecodeAction(b)
		}
		return &VendorAction{Vendor: v, Data: b[8:]}, nil
	}
	return nil, ofp.ErrBadActionType
}
