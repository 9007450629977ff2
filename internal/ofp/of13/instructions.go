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

// decodeInstructions decodes a list in one allocation when each
// instruction type appears at most once (OF1.3 §7.2.4 allows no more,
// so every well-formed list): the instructions and the list live in one
// instBlock. A repeated type starts another block.
func decodeInstructions(b []byte) ([]Instruction, error) {
	n := 0
	for rest := b; len(rest) > 0; n++ {
		if len(rest) < 8 {
			return nil, ofp.ErrBadInstructionLen
		}
		l := int(binary.BigEndian.Uint16(rest[2:]))
		if l < 8 || l%8 != 0 || l > len(rest) {
			return nil, ofp.ErrBadInstructionLen
		}
		rest = rest[l:]
	}
	if n == 0 {
		return nil, nil
	}
	blk := new(instBlock)
	out := blk.list[:0]
	if n > len(blk.list) {
		out = make([]Instruction, 0, n)
	}
	// used (bit t: the block's slot of instruction type t is taken) is
	// kept here, not in the block: a block's first touch must be a write.
	// A read of a fresh heap page maps the kernel's shared zero page, and
	// the write after it faults again to copy it and flushes the TLB of
	// every CPU the process runs on, the PMDs' among them (a quarter of a
	// bundle's page faults).
	var used uint64
	for len(b) > 0 {
		typ := binary.BigEndian.Uint16(b)
		l := int(binary.BigEndian.Uint16(b[2:]))
		if typ < 64 {
			if used&(1<<typ) != 0 {
				blk, used = new(instBlock), 0
			}
			used |= 1 << typ
		}
		in, err := blk.decode(typ, b[:l:l])
		if err != nil {
			return nil, err
		}
		out = append(out, in)
		b = b[l:]
	}
	return out, nil
}

// instBlock holds one of each instruction type, and room for the list.
type instBlock struct {
	list  [4]Instruction
	acts  [3]Actions // WRITE_ACTIONS, APPLY_ACTIONS, CLEAR_ACTIONS
	gotoT GotoTable
	meta  WriteMetadata
	meter Meter
}

// decode decodes one instruction of type typ (b is all of it) into its
// slot of blk.
func (blk *instBlock) decode(typ uint16, b []byte) (Instruction, error) {
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
		blk.gotoT = GotoTable{TableID: b[4]}
		return &blk.gotoT, nil
	case InstWriteMetadata:
		blk.meta = WriteMetadata{Metadata: binary.BigEndian.Uint64(b[8:]), Mask: binary.BigEndian.Uint64(b[16:])}
		return &blk.meta, nil
	case InstWriteActions, InstApplyActions, InstClearActions:
		acts, err := decodeActions(b[8:])
		if err != nil {
			return nil, err
		}
		a := &blk.acts[typ-InstWriteActions]
		*a = Actions{Type: typ, Actions: acts}
		return a, nil
	case InstMeter:
		blk.meter = Meter{MeterID: binary.BigEndian.Uint32(b[4:])}
		return &blk.meter, nil
	case InstExperimenter:
		return &ExperimenterInstruction{Experimenter: binary.BigEndian.Uint32(b[4:]), Data: b[8:]}, nil
	}
	return nil, ofp.ErrUnknownInstruction
}
