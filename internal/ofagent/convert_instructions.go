package ofagent

import (
	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/of13"
	"github.com/govs/govs/internal/ofproto"
)

var (
	errUnsupInst       = &ofp.Error{Type: ofp.ETBadInstruction, Code: ofp.BICUnsupInst}
	errBadInstExp      = &ofp.Error{Type: ofp.ETBadInstruction, Code: ofp.BICBadExperimenter}
	errUnknownInst     = &ofp.Error{Type: ofp.ETBadInstruction, Code: ofp.BICUnknownInst}
	errBadGroupType    = &ofp.Error{Type: ofp.ETGroupModFailed, Code: 10} // OFPGMFC_BAD_TYPE
	errBadBand         = &ofp.Error{Type: ofp.ETMeterModFailed, Code: 8}  // OFPMMFC_BAD_BAND
	errBadGroupCommand = &ofp.Error{Type: ofp.ETGroupModFailed, Code: 11} // OFPGMFC_BAD_COMMAND
	errBadMeterCommand = &ofp.Error{Type: ofp.ETMeterModFailed, Code: 4}  // OFPMMFC_BAD_COMMAND
)

// InstructionsFrom13 converts an OpenFlow 1.3 instruction set. Each kind
// may appear once (OFPBIC_UNSUP_INST for repeats, as OpenFlow 1.3 has no
// DUP_INST code).
func InstructionsFrom13(in []of13.Instruction) (ofproto.Instructions, error) {
	out := ofproto.Instructions{GotoTable: -1}
	var seen [8]bool
	for _, wi := range in {
		var kind int
		switch w := wi.(type) {
		case *of13.GotoTable:
			kind = int(of13.InstGotoTable)
			out.GotoTable = int(w.TableID)
		case *of13.WriteMetadata:
			kind = int(of13.InstWriteMetadata)
			out.WriteMetadata, out.Metadata, out.MetadataMask = true, w.Metadata&w.Mask, w.Mask
		case *of13.Actions:
			kind = int(w.Type)
			switch w.Type {
			case of13.InstClearActions:
				if len(w.Actions) != 0 {
					return out, errUnsupInst
				}
				out.ClearActions = true
			case of13.InstApplyActions, of13.InstWriteActions:
				acts, err := ActionsFrom13(w.Actions)
				if err != nil {
					return out, err
				}
				if w.Type == of13.InstApplyActions {
					out.Apply = acts
				} else {
					out.Write = acts
				}
			}
		case *of13.Meter:
			kind = int(of13.InstMeter)
			out.Meter = w.MeterID
		case *of13.ExperimenterInstruction:
			return out, errBadInstExp
		default:
			return out, errUnknownInst
		}
		if kind < len(seen) {
			if seen[kind] {
				return out, errUnsupInst
			}
			seen[kind] = true
		}
	}
	return out, nil
}

// InstructionsTo13 writes a rule's instructions in the spec's order.
func InstructionsTo13(in *ofproto.Instructions) []of13.Instruction {
	var out []of13.Instruction
	if in.Meter != 0 {
		out = append(out, &of13.Meter{MeterID: in.Meter})
	}
	if in.Apply != nil {
		out = append(out, &of13.Actions{Type: of13.InstApplyActions, Actions: ActionsTo13(in.Apply)})
	}
	if in.ClearActions {
		out = append(out, &of13.Actions{Type: of13.InstClearActions})
	}
	if in.Write != nil {
		out = append(out, &of13.Actions{Type: of13.InstWriteActions, Actions: ActionsTo13(in.Write)})
	}
	if in.WriteMetadata {
		out = append(out, &of13.WriteMetadata{Metadata: in.Metadata, Mask: in.MetadataMask})
	}
	if in.GotoTable >= 0 {
		out = append(out, &of13.GotoTable{TableID: uint8(in.GotoTable)})
	}
	return out
}

// GroupModFrom13 converts OFPT_GROUP_MOD.
func GroupModFrom13(w *of13.GroupMod) (*ofproto.GroupMod, error) {
	if w.Command > 2 {
		return nil, errBadGroupCommand
	}
	if w.Type > uint8(ofproto.GroupTypeFastFailover) {
		return nil, errBadGroupType
	}
	gm := &ofproto.GroupMod{Command: ofproto.GroupModCommand(w.Command)}
	gm.ID, gm.Type = w.GroupID, ofproto.GroupType(w.Type)
	for i := range w.Buckets {
		wb := &w.Buckets[i]
		acts, err := ActionsFrom13(wb.Actions)
		if err != nil {
			return nil, err
		}
		gm.Buckets = append(gm.Buckets, ofproto.Bucket{Weight: wb.Weight, WatchPort: wb.WatchPort,
			WatchGroup: wb.WatchGroup, Actions: acts})
	}
	return gm, nil
}

// BucketsTo13 writes a group's buckets.
func BucketsTo13(bs []ofproto.Bucket) []of13.Bucket {
	out := make([]of13.Bucket, len(bs))
	for i := range bs {
		out[i] = of13.Bucket{Weight: bs[i].Weight, WatchPort: bs[i].WatchPort,
			WatchGroup: bs[i].WatchGroup, Actions: ActionsTo13(bs[i].Actions)}
	}
	return out
}

// Meter band types on the wire.
const (
	bandDrop       = 1
	bandDSCPRemark = 2
)

// MeterModFrom13 converts OFPT_METER_MOD.
func MeterModFrom13(w *of13.MeterMod) (*ofproto.MeterMod, error) {
	if w.Command > 2 {
		return nil, errBadMeterCommand
	}
	mm := &ofproto.MeterMod{Command: ofproto.MeterModCommand(w.Command)}
	mm.ID, mm.Flags = w.MeterID, w.Flags
	for _, wb := range w.Bands {
		b := ofproto.MeterBand{Rate: wb.Rate, Burst: wb.BurstSize}
		switch wb.Type {
		case bandDrop:
			b.Type = ofproto.BandDrop
		case bandDSCPRemark:
			b.Type = ofproto.BandDSCPRemark
			if len(wb.Data) > 0 {
				b.PrecLevel = wb.Data[0]
			}
		default:
			return nil, errBadBand
		}
		mm.Bands = append(mm.Bands, b)
	}
	return mm, nil
}

// BandsTo13 writes a meter's bands.
func BandsTo13(bs []ofproto.MeterBand) []of13.MeterBand {
	out := make([]of13.MeterBand, len(bs))
	for i, b := range bs {
		out[i] = of13.MeterBand{Type: uint16(b.Type), Rate: b.Rate, BurstSize: b.Burst, Data: []byte{0, 0, 0, 0}}
		if b.Type == ofproto.BandDSCPRemark {
			out[i].Data = []byte{b.PrecLevel, 0, 0, 0}
		}
	}
	return out
}
