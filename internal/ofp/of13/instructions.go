package of13

import (
	"encoding/binary"

	"github.com/govs/govs/internal/ofp"
)

// Instruction types (ofp_instruction_type).
const (
	InstGotoTable     uint16 = 1
	InstWriteMetadata uint16 = 2
	InstWriteActions  uint16 = 3
	InstApplyActions  uint16 = 4
	InstClearActions  uint16 = 5
	InstMeter         uint16 = 6
	InstExperimenter  uint16 = 0xffff
)

// Instruction is one decoded instruction.
type Instruction interface {
	AppendInstruction(b []byte) []byte
}

// GotoTable is OFPIT_GOTO_TABLE.
type GotoTable struct{ TableID uint8 }

// WriteMetadata is OFPIT_WRITE_METADATA.
type WriteMetadata struct{ Metadata, Mask uint64 }

// Actions is OFPIT_WRITE_ACTIONS, APPLY_ACTIONS or CLEAR_ACTIONS (the last
// with no actions).
type Actions struct {
	Type    uint16
	Actions []ofp.Action
}

// Meter is OFPIT_METER.
type Meter struct{ MeterID uint32 }

// ExperimenterInstruction is OFPIT_EXPERIMENTER, kept as sent.
type ExperimenterInstruction struct {
	Experimenter uint32
	Data         []byte
}

func appendInstHeader(b []byte, typ uint16, n int) []byte {
	b = binary.BigEndian.AppendUint16(b, typ)
	return binary.BigEndian.AppendUint16(b, uint16(n))
}

// AppendInstruction implements Instruction.
func (i *GotoTable) AppendInstruction(b []byte) []byte {
	return append(appendInstHeader(b, InstGotoTable, 8), i.TableID, 0, 0, 0)
}

// AppendInstruction implements Instruction.
func (i *WriteMetadata) AppendInstruction(b []byte) []byte {
	b = append(appendInstHeader(b, InstWriteMetadata, 24), 0, 0, 0, 0)
	b = binary.BigEndian.AppendUint64(b, i.Metadata)
	return binary.BigEndian.AppendUint64(b, i.Mask)
}

// AppendInstruction implements Instruction.
func (i *Actions) AppendInstruction(b []byte) []byte {
	start := len(b)
	b = append(appendInstHeader(b, i.Type, 0), 0, 0, 0, 0)
	b = appendActions(b, i.Actions)
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return b
}

// AppendInstruction implements Instruction.
func (i *Meter) AppendInstruction(b []byte) []byte {
	return binary.BigEndian.AppendUint32(appendInstHeader(b, InstMeter, 8), i.MeterID)
}

// AppendInstruction implements Instruction.
func (i *ExperimenterInstruction) AppendInstruction(b []byte) []byte {
	b = appendInstHeader(b, InstExperimenter, 8+len(i.Data))
	b = binary.BigEndian.AppendUint32(b, i.Experimenter)
	return append(b, i.Data...)
}

// DecodeInstructions decodes an instruction list.
func DecodeInstructions(b []byte) ([]Instruction, error) { return decodeInstructions(b) }

// AppendInstructions appends an instruction list.
func AppendInstructions(b []byte, insts []Instruction) []byte { return appendInstructions(b, insts) }

func appendInstructions(b []byte, insts []Instruction) []byte {
	for _, i := range insts {
		b = i.AppendInstruction(b)
	}
	return b
}

func decodeInstructions(b []byte) ([]Instruction, error) {
	var out []Instruction
	for len(b) > 0 {
		if len(b) < 8 {
			return nil, ofp.ErrBadInstructionLen
		}
		typ := binary.BigEndian.Uint16(b)
		n := int(binary.BigEndian.Uint16(b[2:]))
		if n < 8 || n%8 != 0 || n > len(b) {
			return nil, ofp.ErrBadInstructionLen
		}
		in, err := decodeInstruction(typ, b[:n:n])
		if err != nil {
			return nil, err
		}
		out = append(out, in)
		b = b[n:]
	}
	return out, nil
}

func decodeInstruction(typ uint16, b []byte) (Instruction, error) {
	want := 8
	switch typ {
	case InstWriteMetadata:
		want = 24
	case InstWriteActions, InstApplyActions, InstExperimenter:
		want = len(b)
	}
	if len(b) != want {
		return nil, ofp.ErrBadInstructionLen
	}
	switch typ {
	case InstGotoTable:
		return &GotoTable{TableID: b[4]}, nil
	case InstWriteMetadata:
		return &WriteMetadata{Metadata: binary.BigEndian.Uint64(b[8:]), Mask: binary.BigEndian.Uint64(b[16:])}, nil
	case InstWriteActions, InstApplyActions, InstClearActions:
		acts, err := decodeActions(b[8:])
		if err != nil {
			return nil, err
		}
		return &Actions{Type: typ, Actions: acts}, nil
	case InstMeter:
		return &Meter{MeterID: binary.BigEndian.Uint32(b[4:])}, nil
	case InstExperimenter:
		return &ExperimenterInstruction{Experimenter: binary.BigEndian.Uint32(b[4:]), Data: b[8:]}, nil
	}
	return nil, ofp.ErrUnknownInstruction
}
