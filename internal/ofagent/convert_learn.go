package ofagent

import (
	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/nx"
	"github.com/govs/govs/internal/ofproto"
)

// The learn action between its wire form (nx.Learn, NXM headers) and the
// model (ofproto.Learn, field ids). Ranges and prerequisites are checked
// by ofproto's validation, against the rule's match.

// errLearnField is OVS's answer to a learn spec naming a field it does not
// know.
var errLearnField = &ofp.Error{Type: ofp.ETBadMatch, Code: ofp.BMCBadField}

// learnFromNX converts a wire learn action.
func learnFromNX(w *nx.Learn) (ofproto.Action, error) {
	l := &ofproto.Learn{
		Table: w.TableID, Priority: w.Priority, Cookie: w.Cookie,
		IdleTimeout: w.IdleTimeout, HardTimeout: w.HardTimeout,
		FinIdleTimeout: w.FinIdleTimeout, FinHardTimeout: w.FinHardTimeout,
		Flags: w.Flags,
	}
	if len(w.Specs) > 0 {
		l.Specs = make([]ofproto.LearnSpec, len(w.Specs))
	}
	for i := range w.Specs {
		ws, s := &w.Specs[i], &l.Specs[i]
		// The model numbers the destinations as the wire does.
		s.NBits, s.Dst = ws.NBits, ofproto.LearnDst(ws.DstType)
		if ws.Immediate {
			imm := ws.Imm
			if len(imm) > len(s.Imm) {
				if !ofp.AllZero(imm[:len(imm)-len(s.Imm)]) {
					return ofproto.Action{}, errBadSetLen
				}
				imm = imm[len(imm)-len(s.Imm):]
			}
			copy(s.Imm[len(s.Imm)-len(imm):], imm)
		} else {
			f := fieldOfHeader(ws.Src)
			if f == nil {
				return ofproto.Action{}, errLearnField
			}
			s.SrcField, s.SrcOfs = f.ID, ws.SrcOfs
		}
		if s.Dst != ofproto.LearnOutput {
			f := fieldOfHeader(ws.Dst)
			if f == nil {
				return ofproto.Action{}, errLearnField
			}
			s.DstField, s.DstOfs = f.ID, ws.DstOfs
		}
	}
	return ofproto.Action{Type: ofproto.ActLearn, Learn: l}, nil
}

// learnToNX writes a model learn action with NXM headers, as ovs-ofctl
// does.
func learnToNX(l *ofproto.Learn) (ofp.Action, bool) {
	if l == nil {
		return nil, false
	}
	w := &nx.Learn{TableID: l.Table, Priority: l.Priority, Cookie: l.Cookie, Flags: l.Flags,
		IdleTimeout: l.IdleTimeout, HardTimeout: l.HardTimeout, FinIdleTimeout: l.FinIdleTimeout, FinHardTimeout: l.FinHardTimeout}
	w.Specs = make([]nx.LearnSpec, len(l.Specs))
	for i := range l.Specs {
		s, ws := &l.Specs[i], &w.Specs[i]
		ws.NBits, ws.DstType = s.NBits, nx.LearnDst(s.Dst)
		if s.SrcField == 0 {
			ws.Immediate = true
			n := 2 * ((int(s.NBits) + 15) / 16)
			ws.Imm = make([]byte, n)
			if n <= len(s.Imm) {
				copy(ws.Imm, s.Imm[len(s.Imm)-n:])
			} else {
				copy(ws.Imm[n-len(s.Imm):], s.Imm[:])
			}
		} else {
			f := flow.FieldByID(s.SrcField)
			if f == nil {
				return nil, false
			}
			ws.Src, ws.SrcOfs = headerOfField(f), s.SrcOfs
		}
		if s.Dst != ofproto.LearnOutput {
			f := flow.FieldByID(s.DstField)
			if f == nil {
				return nil, false
			}
			ws.Dst, ws.DstOfs = headerOfField(f), s.DstOfs
		}
	}
	return w, true
}
