// Package nx is the Nicira extension codec (OVS's NX_VENDOR_ID 0x2320):
// the NXAST_* actions, which appear in OpenFlow 1.0 and 1.3 action lists,
// and the NXT_*/NXST_* messages plain ovs-ofctl sends over OpenFlow 1.0.
// Actions with subtypes govs does not model decode to *Raw, so they
// round-trip and the agent can refuse them with OFPBAC_BAD_EXPERIMENTER_TYPE.
package nx

import (
	"encoding/binary"

	"github.com/govs/govs/internal/ofp"
)

// VendorID is NX_VENDOR_ID.
const VendorID uint32 = 0x00002320

// Action subtypes (enum nx_action_subtype).
const (
	ActResubmit      uint16 = 1
	ActSetTunnel     uint16 = 2
	ActSetQueue      uint16 = 4
	ActPopQueue      uint16 = 5
	ActRegMove       uint16 = 6
	ActRegLoad       uint16 = 7
	ActNote          uint16 = 8
	ActSetTunnel64   uint16 = 9
	ActResubmitTable uint16 = 14
	ActOutputReg     uint16 = 15
	ActExit          uint16 = 17
	ActDecTTL        uint16 = 18
	ActController    uint16 = 20
	ActDecTTLCntIDs  uint16 = 21
	ActPushMPLS      uint16 = 23
	ActPopMPLS       uint16 = 24
	ActSetMPLSTTL    uint16 = 25
	ActDecMPLSTTL    uint16 = 26
	ActRegLoad2      uint16 = 33
)

// Resubmit is NXAST_RESUBMIT or NXAST_RESUBMIT_TABLE (Subtype says which;
// Table is 0xff, "current table", for NXAST_RESUBMIT).
type Resubmit struct {
	Subtype uint16
	InPort  uint16
	Table   uint8
}

// SetTunnel is NXAST_SET_TUNNEL (32-bit) or NXAST_SET_TUNNEL64.
type SetTunnel struct {
	Subtype uint16
	TunID   uint64
}

// SetQueue is NXAST_SET_QUEUE.
type SetQueue struct{ Queue uint32 }

// NoArg is NXAST_POP_QUEUE, EXIT, DEC_TTL or DEC_MPLS_TTL.
type NoArg struct{ Subtype uint16 }

// RegMove is NXAST_REG_MOVE: copy NBits from Src[SrcOfs] to Dst[DstOfs];
// Src and Dst are NXM/OXM headers.
type RegMove struct {
	NBits, SrcOfs, DstOfs uint16
	Src, Dst              uint32
}

// RegLoad is NXAST_REG_LOAD: OfsNBits packs offset<<6 | (nbits-1).
type RegLoad struct {
	OfsNBits uint16
	Dst      uint32
	Value    uint64
}

// RegLoad2 is NXAST_REG_LOAD2: set_field / load with an OXM TLV (possibly
// masked).
type RegLoad2 struct{ Field ofp.OXM }

// Note is NXAST_NOTE; Data includes the zero padding ovs-ofctl adds.
type Note struct{ Data []byte }

// OutputReg is NXAST_OUTPUT_REG.
type OutputReg struct {
	OfsNBits uint16
	Src      uint32
	MaxLen   uint16
}

// Controller is NXAST_CONTROLLER.
type Controller struct {
	MaxLen       uint16
	ControllerID uint16
	Reason       uint8
}

// DecTTLCntIDs is NXAST_DEC_TTL_CNT_IDS.
type DecTTLCntIDs struct{ IDs []uint16 }

// Ethertype is NXAST_PUSH_MPLS or NXAST_POP_MPLS.
type Ethertype struct {
	Subtype   uint16
	Ethertype uint16
}

// SetMPLSTTL is NXAST_SET_MPLS_TTL.
type SetMPLSTTL struct{ TTL uint8 }

// Raw is any other Nicira action: Data follows the subtype.
type Raw struct {
	Subtype uint16
	Data    []byte
}

// OfsNBits packs an offset and bit count as NXAST_REG_LOAD and OUTPUT_REG do.
func OfsNBits(ofs, nbits uint16) uint16 { return ofs<<6 | (nbits - 1) }

func header(b []byte, subtype uint16, n int) []byte {
	b = binary.BigEndian.AppendUint16(b, 0xffff)
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	b = binary.BigEndian.AppendUint32(b, VendorID)
	return binary.BigEndian.AppendUint16(b, subtype)
}

var zeros [16]byte

// AppendAction implements ofp.Action.
func (a *Resubmit) AppendAction(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(header(b, a.Subtype, 16), a.InPort)
	if a.Subtype == ActResubmitTable {
		return append(b, a.Table, 0, 0, 0)
	}
	return append(b, 0, 0, 0, 0)
}

// AppendAction implements ofp.Action.
func (a *SetTunnel) AppendAction(b []byte) []byte {
	if a.Subtype == ActSetTunnel64 {
		b = append(header(b, a.Subtype, 24), zeros[:6]...)
		return binary.BigEndian.AppendUint64(b, a.TunID)
	}
	b = append(header(b, a.Subtype, 16), 0, 0)
	return binary.BigEndian.AppendUint32(b, uint32(a.TunID))
}

// AppendAction implements ofp.Action.
func (a *SetQueue) AppendAction(b []byte) []byte {
	return binary.BigEndian.AppendUint32(append(header(b, ActSetQueue, 16), 0, 0), a.Queue)
}

// AppendAction implements ofp.Action.
func (a *NoArg) AppendAction(b []byte) []byte {
	return append(header(b, a.Subtype, 16), zeros[:6]...)
}

// AppendAction implements ofp.Action.
func (a *RegMove) AppendAction(b []byte) []byte {
	b = header(b, ActRegMove, 24)
	b = binary.BigEndian.AppendUint16(b, a.NBits)
	b = binary.BigEndian.AppendUint16(b, a.SrcOfs)
	b = binary.BigEndian.AppendUint16(b, a.DstOfs)
	b = binary.BigEndian.AppendUint32(b, a.Src)
	return binary.BigEndian.AppendUint32(b, a.Dst)
}

// AppendAction implements ofp.Action.
func (a *RegLoad) AppendAction(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(header(b, ActRegLoad, 24), a.OfsNBits)
	b = binary.BigEndian.AppendUint32(b, a.Dst)
	return binary.BigEndian.AppendUint64(b, a.Value)
}

// AppendAction implements ofp.Action.
func (a *RegLoad2) AppendAction(b []byte) []byte {
	n := 10 + a.Field.Len()
	n += ofp.Pad8(n)
	start := len(b)
	b = a.Field.Append(header(b, ActRegLoad2, n))
	return append(b, zeros[:n-(len(b)-start)]...)
}

// AppendAction implements ofp.Action.
func (a *Note) AppendAction(b []byte) []byte {
	return append(header(b, ActNote, 10+len(a.Data)), a.Data...)
}

// AppendAction implements ofp.Action.
func (a *OutputReg) AppendAction(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(header(b, ActOutputReg, 24), a.OfsNBits)
	b = binary.BigEndian.AppendUint32(b, a.Src)
	b = binary.BigEndian.AppendUint16(b, a.MaxLen)
	return append(b, zeros[:6]...)
}

// AppendAction implements ofp.Action.
func (a *Controller) AppendAction(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(header(b, ActController, 16), a.MaxLen)
	b = binary.BigEndian.AppendUint16(b, a.ControllerID)
	return append(b, a.Reason, 0)
}

// AppendAction implements ofp.Action.
func (a *DecTTLCntIDs) AppendAction(b []byte) []byte {
	n := 16 + 2*len(a.IDs)
	n += ofp.Pad8(n)
	start := len(b)
	b = binary.BigEndian.AppendUint16(header(b, ActDecTTLCntIDs, n), uint16(len(a.IDs)))
	b = append(b, 0, 0, 0, 0)
	for _, id := range a.IDs {
		b = binary.BigEndian.AppendUint16(b, id)
	}
	return append(b, zeros[:n-(len(b)-start)]...)
}

// AppendAction implements ofp.Action.
func (a *Ethertype) AppendAction(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(header(b, a.Subtype, 16), a.Ethertype)
	return append(b, 0, 0, 0, 0)
}

// AppendAction implements ofp.Action.
func (a *SetMPLSTTL) AppendAction(b []byte) []byte {
	return append(header(b, ActSetMPLSTTL, 16), a.TTL, 0, 0, 0, 0, 0)
}

// AppendAction implements ofp.Action.
func (a *Raw) AppendAction(b []byte) []byte {
	return append(header(b, a.Subtype, 10+len(a.Data)), a.Data...)
}

// DecodeAction decodes one Nicira action, header included; the caller has
// checked the action header (type 0xffff, length a multiple of 8 that fits,
// vendor NX_VENDOR_ID).
func DecodeAction(b []byte) (ofp.Action, error) {
	if len(b) < 16 {
		return nil, ofp.ErrBadActionLen
	}
	sub := binary.BigEndian.Uint16(b[8:])
	p := b[10:]
	size := func(n int) bool { return len(b) == n }
	switch sub {
	case ActResubmit, ActResubmitTable:
		if !size(16) {
			break
		}
		a := &Resubmit{Subtype: sub, InPort: binary.BigEndian.Uint16(p), Table: 0xff}
		if sub == ActResubmitTable {
			a.Table = p[2]
		}
		return a, nil
	case ActSetTunnel:
		if size(16) {
			return &SetTunnel{Subtype: sub, TunID: uint64(binary.BigEndian.Uint32(p[2:]))}, nil
		}
	case ActSetTunnel64:
		if size(24) {
			return &SetTunnel{Subtype: sub, TunID: binary.BigEndian.Uint64(p[6:])}, nil
		}
	case ActSetQueue:
		if size(16) {
			return &SetQueue{Queue: binary.BigEndian.Uint32(p[2:])}, nil
		}
	case ActPopQueue, ActExit, ActDecTTL, ActDecMPLSTTL:
		if size(16) {
			return &NoArg{Subtype: sub}, nil
		}
	case ActRegMove:
		if size(24) {
			return &RegMove{
				NBits: binary.BigEndian.Uint16(p), SrcOfs: binary.BigEndian.Uint16(p[2:]),
				DstOfs: binary.BigEndian.Uint16(p[4:]), Src: binary.BigEndian.Uint32(p[6:]),
				Dst: binary.BigEndian.Uint32(p[10:]),
			}, nil
		}
	case ActRegLoad:
		if size(24) {
			return &RegLoad{OfsNBits: binary.BigEndian.Uint16(p), Dst: binary.BigEndian.Uint32(p[2:]), Value: binary.BigEndian.Uint64(p[6:])}, nil
		}
	case ActRegLoad2:
		o, n, err := ofp.DecodeOXM(p)
		if err != nil || len(b) != 10+n+ofp.Pad8(10+n) || !ofp.AllZero(p[n:]) {
			return nil, ofp.ErrBadSetLen
		}
		return &RegLoad2{Field: o}, nil
	case ActNote:
		return &Note{Data: p}, nil
	case ActLearn:
		return decodeLearn(b)
	case ActOutputReg:
		if size(24) {
			return &OutputReg{OfsNBits: binary.BigEndian.Uint16(p), Src: binary.BigEndian.Uint32(p[2:]), MaxLen: binary.BigEndian.Uint16(p[6:])}, nil
		}
	case ActController:
		if size(16) {
			return &Controller{MaxLen: binary.BigEndian.Uint16(p), ControllerID: binary.BigEndian.Uint16(p[2:]), Reason: p[4]}, nil
		}
	case ActDecTTLCntIDs:
		n := int(binary.BigEndian.Uint16(p))
		want := 16 + 2*n
		if len(b) != want+ofp.Pad8(want) {
			break
		}
		a := &DecTTLCntIDs{IDs: make([]uint16, n)}
		for i := range a.IDs {
			a.IDs[i] = binary.BigEndian.Uint16(b[16+2*i:])
		}
		return a, nil
	case ActPushMPLS, ActPopMPLS:
		if size(16) {
			return &Ethertype{Subtype: sub, Ethertype: binary.BigEndian.Uint16(p)}, nil
		}
	case ActSetMPLSTTL:
		if size(16) {
			return &SetMPLSTTL{TTL: p[0]}, nil
		}
	default:
		return &Raw{Subtype: sub, Data: p}, nil
	}
	return nil, ofp.ErrBadActionLen
}
