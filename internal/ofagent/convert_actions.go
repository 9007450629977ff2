package ofagent

import (
	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/nx"
	"github.com/govs/govs/internal/ofp/of10"
	"github.com/govs/govs/internal/ofp/of13"
	"github.com/govs/govs/internal/ofproto"
)

// Wire actions of every version become ofproto.Action values; an action
// the model cannot run is refused with the spec's OFPET_BAD_ACTION code,
// never dropped. Register loads become set-field actions with a mask over
// the loaded bits (DstOfs and NBits remember the range, so a flow dump
// writes them back as load:).

var (
	errBadActionType   = &ofp.Error{Type: ofp.ETBadAction, Code: ofp.BACBadType}
	errBadExperimenter = &ofp.Error{Type: ofp.ETBadAction, Code: ofp.BACBadExperimenter}
	errBadExpType      = &ofp.Error{Type: ofp.ETBadAction, Code: ofp.BACBadExpType}
	errBadArgument     = &ofp.Error{Type: ofp.ETBadAction, Code: ofp.BACBadArgument}
	errBadSetType      = &ofp.Error{Type: ofp.ETBadAction, Code: ofp.BACBadSetType}
	errBadSetLen       = &ofp.Error{Type: ofp.ETBadAction, Code: ofp.BACBadSetLen}
	errBadSetArg       = &ofp.Error{Type: ofp.ETBadAction, Code: ofp.BACBadSetArgument}
)

// fieldOfHeader finds the field an NXM/OXM header (reg_move, reg_load,
// output_reg) names.
func fieldOfHeader(h uint32) *flow.Field {
	class, field, _, _ := ofp.HeaderFields(h)
	o := ofp.OXM{Class: class, Field: field}
	return fieldOfTLV(&o)
}

// headerOfField is the NXM header (OXM basic for fields without one) an
// NX action names f with.
func headerOfField(f *flow.Field) uint32 {
	if f.ID == flow.FieldInPort {
		return 2 // NXM_OF_IN_PORT, 16 bits
	}
	if f.NXMHeader != 0 {
		return f.NXMHeader | uint32(f.Bytes)
	}
	return uint32(f.OXMClass)<<16 | uint32(f.OXMField)<<9 | uint32(f.Bytes)
}

// bitRange returns the value x placed at bits ofs..ofs+n of f, and the
// mask of those bits, in the field's wire layout.
func bitRange(f *flow.Field, ofs, n uint16, x uint64) (v, m [16]byte) {
	for i := 0; i < int(n); i++ {
		bit := int(ofs) + i
		if bit >= f.Bytes*8 {
			break
		}
		idx := f.Bytes - 1 - bit/8
		m[idx] |= 1 << (bit % 8)
		if i < 64 && x>>i&1 != 0 {
			v[idx] |= 1 << (bit % 8)
		}
	}
	return v, m
}

// setFieldFromTLV makes a set-field action of an OXM/NXM TLV (OF1.3
// set_field, NX reg_load2).
func setFieldFromTLV(o *ofp.OXM) (ofproto.Action, error) {
	f := fieldOfTLV(o)
	if f == nil || !f.Writable {
		return ofproto.Action{}, errBadSetType
	}
	if len(o.Value) != tlvWidth(o, f) {
		return ofproto.Action{}, errBadSetLen
	}
	a := ofproto.Action{Type: ofproto.ActSetField, Field: f.ID}
	if len(o.Value) != f.Bytes { // 16-bit NXM in_port
		a.Value = f.Value(uint64(ofproto.PortFrom16(uint16(o.Value[0])<<8 | uint16(o.Value[1]))))
	} else {
		copy(a.Value[:], o.Value)
	}
	all := f.AllOnes()
	a.Mask = all
	if o.HasMask {
		copy(a.Mask[:], o.Mask)
	}
	for i := range a.Value {
		if a.Value[i]&^all[i] != 0 {
			return a, errBadSetArg
		}
		a.Value[i] &= a.Mask[i]
	}
	return a, nil
}

// actionFromNX converts a Nicira action.
func actionFromNX(in ofp.Action) (ofproto.Action, error) {
	switch a := in.(type) {
	case *nx.Resubmit:
		port := ofproto.PortInPort
		if a.InPort != 0xfff8 {
			port = ofproto.PortFrom16(a.InPort)
		}
		return ofproto.Action{Type: ofproto.ActResubmit, Port: port, Table: a.Table}, nil
	case *nx.SetTunnel:
		f := flow.FieldByID(flow.FieldTunID)
		return ofproto.Action{Type: ofproto.ActSetField, Field: f.ID, Value: f.Value(a.TunID), Mask: f.AllOnes()}, nil
	case *nx.SetQueue:
		return ofproto.Action{Type: ofproto.ActSetQueue, Queue: a.Queue}, nil
	case *nx.NoArg:
		switch a.Subtype {
		case nx.ActDecTTL:
			return ofproto.Action{Type: ofproto.ActDecNwTTL}, nil
		case nx.ActDecMPLSTTL:
			return ofproto.Action{Type: ofproto.ActDecMPLSTTL}, nil
		}
		return ofproto.Action{}, errBadExpType // pop_queue, exit: not modelled
	case *nx.RegMove:
		src, dst := fieldOfHeader(a.Src), fieldOfHeader(a.Dst)
		if src == nil || dst == nil {
			return ofproto.Action{}, errBadArgument
		}
		return ofproto.Action{Type: ofproto.ActRegMove, SrcField: src.ID, SrcOfs: a.SrcOfs,
			Field: dst.ID, DstOfs: a.DstOfs, NBits: a.NBits}, nil
	case *nx.RegLoad:
		f := fieldOfHeader(a.Dst)
		ofs, n := a.OfsNBits>>6, a.OfsNBits&0x3f+1
		if f == nil || !f.Writable || int(ofs)+int(n) > f.Bits {
			return ofproto.Action{}, errBadArgument
		}
		if n < 64 && a.Value>>n != 0 {
			return ofproto.Action{}, errBadArgument
		}
		v, m := bitRange(f, ofs, n, a.Value)
		return ofproto.Action{Type: ofproto.ActSetField, Field: f.ID, Value: v, Mask: m, DstOfs: ofs, NBits: n}, nil
	case *nx.RegLoad2:
		return setFieldFromTLV(&a.Field)
	case *nx.Note:
		return ofproto.Action{Type: ofproto.ActNote, Note: append([]byte(nil), a.Data...)}, nil
	case *nx.OutputReg:
		f := fieldOfHeader(a.Src)
		ofs, n := a.OfsNBits>>6, a.OfsNBits&0x3f+1
		if f == nil || int(ofs)+int(n) > f.Bits {
			return ofproto.Action{}, errBadArgument
		}
		return ofproto.Action{Type: ofproto.ActOutputReg, SrcField: f.ID, SrcOfs: ofs, NBits: n, MaxLen: a.MaxLen}, nil
	case *nx.Controller:
		return ofproto.Action{Type: ofproto.ActController, MaxLen: a.MaxLen, ControllerID: a.ControllerID, Reason: a.Reason}, nil
	case *nx.DecTTLCntIDs:
		return ofproto.Action{Type: ofproto.ActDecNwTTL, Controllers: append([]uint16{}, a.IDs...)}, nil
	case *nx.Ethertype:
		if a.Subtype == nx.ActPushMPLS {
			return ofproto.Action{Type: ofproto.ActPushMPLS, Ethertype: a.Ethertype}, nil
		}
		return ofproto.Action{Type: ofproto.ActPopMPLS, Ethertype: a.Ethertype}, nil
	case *nx.SetMPLSTTL:
		return ofproto.Action{Type: ofproto.ActSetMPLSTTL, TTL: a.TTL}, nil
	case *nx.Learn:
		return learnFromNX(a)
	}
	return ofproto.Action{}, errBadExpType
}

// The OpenFlow 1.3 actions without arguments, and those with an
// ethertype, by type (made once: a map literal in ActionsFrom13 was built
// for every such action of every flow-mod).
var (
	noArgFrom13 = map[uint16]ofproto.ActionType{
		of13.ActCopyTTLOut: ofproto.ActCopyTTLOut, of13.ActCopyTTLIn: ofproto.ActCopyTTLIn,
		of13.ActDecMPLSTTL: ofproto.ActDecMPLSTTL, of13.ActPopVLAN: ofproto.ActPopVLAN,
		of13.ActDecNwTTL: ofproto.ActDecNwTTL, of13.ActPopPBB: ofproto.ActPopPBB,
	}
	ethertypeFrom13 = map[uint16]ofproto.ActionType{
		of13.ActPushVLAN: ofproto.ActPushVLAN, of13.ActPushMPLS: ofproto.ActPushMPLS,
		of13.ActPushPBB: ofproto.ActPushPBB, of13.ActPopMPLS: ofproto.ActPopMPLS,
	}
)

// ActionsFrom13 converts an OpenFlow 1.3 action list.
func ActionsFrom13(in []ofp.Action) ([]ofproto.Action, error) {
	out := make([]ofproto.Action, 0, len(in))
	for _, wa := range in {
		var a ofproto.Action
		var err error
		switch w := wa.(type) {
		case *of13.Output:
			a = ofproto.Action{Type: ofproto.ActOutput, Port: w.Port, MaxLen: w.MaxLen}
		case *of13.NoArg:
			a.Type = noArgFrom13[w.Type]
		case *of13.Ethertype:
			a.Ethertype = w.Ethertype
			a.Type = ethertypeFrom13[w.Type]
		case *of13.SetTTL:
			a = ofproto.Action{Type: ofproto.ActSetNwTTL, TTL: w.TTL}
			if w.Type == of13.ActSetMPLSTTL {
				a.Type = ofproto.ActSetMPLSTTL
			}
		case *of13.SetQueue:
			a = ofproto.Action{Type: ofproto.ActSetQueue, Queue: w.Queue}
		case *of13.Group:
			a = ofproto.Action{Type: ofproto.ActGroup, Group: w.Group}
		case *of13.SetField:
			a, err = setFieldFromTLV(&w.Field)
		case *of13.ExperimenterAction:
			err = errBadExperimenter
		default:
			a, err = actionFromNX(wa)
		}
		if err != nil {
			return nil, err
		}
		if a.Type == 0 {
			return nil, errBadActionType
		}
		out = append(out, a)
	}
	return out, nil
}

// ActionsFrom10 converts an OpenFlow 1.0 action list (with Nicira
// actions). m is the rule's match: OpenFlow 1.0's set-tp actions mean the
// port field of whatever transport protocol it matches.
func ActionsFrom10(in []ofp.Action, m *ofproto.Match) ([]ofproto.Action, error) {
	out := make([]ofproto.Action, 0, len(in))
	set := func(id flow.FieldID, x uint64) ofproto.Action {
		f := flow.FieldByID(id)
		return ofproto.Action{Type: ofproto.ActSetField, Field: id, Value: f.Value(x), Mask: f.AllOnes()}
	}
	for _, wa := range in {
		var a ofproto.Action
		var err error
		switch w := wa.(type) {
		case *of10.Output:
			a = ofproto.Action{Type: ofproto.ActOutput, Port: ofproto.PortFrom16(w.Port), MaxLen: w.MaxLen}
		case *of10.Set16:
			switch w.Type {
			case of10.ActSetVLANVID:
				if w.Value > 0xfff {
					return nil, errBadArgument
				}
				a = set(flow.FieldVLANVID, uint64(w.Value|flow.VLANCFI))
			case of10.ActSetTpSrc:
				a = set(tpField(m, true), uint64(w.Value))
			case of10.ActSetTpDst:
				a = set(tpField(m, false), uint64(w.Value))
			}
		case *of10.Set8:
			switch w.Type {
			case of10.ActSetVLANPCP:
				if w.Value > 7 {
					return nil, errBadArgument
				}
				a = set(flow.FieldVLANPCP, uint64(w.Value))
			case of10.ActSetNwTOS:
				a = set(flow.FieldNwTOS, uint64(w.Value&0xfc))
			case of10.ActStripVLAN:
				a = ofproto.Action{Type: ofproto.ActPopVLAN}
			}
		case *of10.SetDLAddr:
			id := flow.FieldEthSrc
			if w.Type == of10.ActSetDLDst {
				id = flow.FieldEthDst
			}
			a = ofproto.Action{Type: ofproto.ActSetField, Field: id, Mask: flow.FieldByID(id).AllOnes()}
			copy(a.Value[:], w.Addr[:])
		case *of10.SetNwAddr:
			id := flow.FieldIPv4Src
			if w.Type == of10.ActSetNwDst {
				id = flow.FieldIPv4Dst
			}
			a = set(id, uint64(w.Addr))
		case *of10.Enqueue:
			a = ofproto.Action{Type: ofproto.ActEnqueue, Port: ofproto.PortFrom16(w.Port), Queue: w.QueueID}
		case *of10.VendorAction:
			err = errBadExperimenter
		default:
			a, err = actionFromNX(wa)
		}
		if err != nil {
			return nil, err
		}
		if a.Type == 0 {
			return nil, errBadActionType
		}
		out = append(out, a)
	}
	return out, nil
}

// tpField picks the transport port field an OpenFlow 1.0 set-tp action
// writes, from the match's IP protocol (TCP when it names none).
func tpField(m *ofproto.Match, src bool) flow.FieldID {
	proto := uint8(flow.IPProtoTCP)
	if m != nil && m.Mask.NwProto == 0xff {
		proto = m.Key.NwProto
	}
	switch {
	case proto == flow.IPProtoUDP && src:
		return flow.FieldUDPSrc
	case proto == flow.IPProtoUDP:
		return flow.FieldUDPDst
	case proto == flow.IPProtoSCTP && src:
		return flow.FieldSCTPSrc
	case proto == flow.IPProtoSCTP:
		return flow.FieldSCTPDst
	case src:
		return flow.FieldTCPSrc
	}
	return flow.FieldTCPDst
}

// actionToNX writes the model actions that only Nicira spells (and the
// set-fields OpenFlow cannot): ok false if there is no encoding.
func actionToNX(a *ofproto.Action) (ofp.Action, bool) {
	switch a.Type {
	case ofproto.ActResubmit:
		port := uint16(0xfff8)
		if a.Port != ofproto.PortInPort {
			port = ofproto.PortTo16(a.Port)
		}
		sub := nx.ActResubmitTable
		if a.Table == ofproto.TableAll {
			sub = nx.ActResubmit
		}
		return &nx.Resubmit{Subtype: sub, InPort: port, Table: a.Table}, true
	case ofproto.ActRegMove:
		src, dst := flow.FieldByID(a.SrcField), flow.FieldByID(a.Field)
		if src == nil || dst == nil {
			return nil, false
		}
		return &nx.RegMove{NBits: a.NBits, SrcOfs: a.SrcOfs, DstOfs: a.DstOfs,
			Src: headerOfField(src), Dst: headerOfField(dst)}, true
	case ofproto.ActOutputReg:
		src := flow.FieldByID(a.SrcField)
		if src == nil || a.NBits == 0 {
			return nil, false
		}
		return &nx.OutputReg{OfsNBits: nx.OfsNBits(a.SrcOfs, a.NBits), Src: headerOfField(src), MaxLen: a.MaxLen}, true
	case ofproto.ActNote:
		return &nx.Note{Data: a.Note}, true
	case ofproto.ActController:
		return &nx.Controller{MaxLen: a.MaxLen, ControllerID: a.ControllerID, Reason: a.Reason}, true
	case ofproto.ActDecNwTTL:
		if len(a.Controllers) > 0 {
			return &nx.DecTTLCntIDs{IDs: a.Controllers}, true
		}
		return &nx.NoArg{Subtype: nx.ActDecTTL}, true
	case ofproto.ActSetQueue:
		return &nx.SetQueue{Queue: a.Queue}, true
	case ofproto.ActLearn:
		return learnToNX(a.Learn)
	case ofproto.ActSetField:
		f := flow.FieldByID(a.Field)
		if f == nil {
			return nil, false
		}
		if a.NBits != 0 && f.Bytes <= 8 {
			x := f.Uint(a.Value)
			return &nx.RegLoad{OfsNBits: nx.OfsNBits(a.DstOfs, a.NBits), Dst: headerOfField(f), Value: x >> a.DstOfs}, true
		}
		o, _ := tlvFor(f, a.Value, a.Mask, a.Mask == f.AllOnes(), false, nil, nil)
		return &nx.RegLoad2{Field: o}, true
	}
	return nil, false
}

// ActionsTo13 writes model actions as an OpenFlow 1.3 list.
func ActionsTo13(in []ofproto.Action) []ofp.Action {
	out := make([]ofp.Action, 0, len(in))
	for i := range in {
		a := &in[i]
		var w ofp.Action
		switch a.Type {
		case ofproto.ActOutput:
			w = &of13.Output{Port: a.Port, MaxLen: a.MaxLen}
		case ofproto.ActEnqueue:
			out = append(out, &of13.SetQueue{Queue: a.Queue})
			w = &of13.Output{Port: a.Port}
		case ofproto.ActGroup:
			w = &of13.Group{Group: a.Group}
		case ofproto.ActSetQueue:
			w = &of13.SetQueue{Queue: a.Queue}
		case ofproto.ActPushVLAN:
			w = &of13.Ethertype{Type: of13.ActPushVLAN, Ethertype: a.Ethertype}
		case ofproto.ActPushMPLS:
			w = &of13.Ethertype{Type: of13.ActPushMPLS, Ethertype: a.Ethertype}
		case ofproto.ActPopMPLS:
			w = &of13.Ethertype{Type: of13.ActPopMPLS, Ethertype: a.Ethertype}
		case ofproto.ActPushPBB:
			w = &of13.Ethertype{Type: of13.ActPushPBB, Ethertype: a.Ethertype}
		case ofproto.ActPopVLAN:
			w = &of13.NoArg{Type: of13.ActPopVLAN}
		case ofproto.ActPopPBB:
			w = &of13.NoArg{Type: of13.ActPopPBB}
		case ofproto.ActCopyTTLOut:
			w = &of13.NoArg{Type: of13.ActCopyTTLOut}
		case ofproto.ActCopyTTLIn:
			w = &of13.NoArg{Type: of13.ActCopyTTLIn}
		case ofproto.ActDecMPLSTTL:
			w = &of13.NoArg{Type: of13.ActDecMPLSTTL}
		case ofproto.ActSetNwTTL:
			w = &of13.SetTTL{Type: of13.ActSetNwTTL, TTL: a.TTL}
		case ofproto.ActSetMPLSTTL:
			w = &of13.SetTTL{Type: of13.ActSetMPLSTTL, TTL: a.TTL}
		case ofproto.ActDecNwTTL:
			if len(a.Controllers) == 0 {
				w = &of13.NoArg{Type: of13.ActDecNwTTL}
			}
		case ofproto.ActSetField:
			f := flow.FieldByID(a.Field)
			if f != nil && a.NBits == 0 && a.Mask == f.AllOnes() && f.OXMClass != 0 {
				o, _ := tlvFor(f, a.Value, a.Mask, true, false, nil, nil)
				w = &of13.SetField{Field: o}
			}
		}
		if w == nil {
			var ok bool
			if w, ok = actionToNX(a); !ok {
				continue
			}
		}
		out = append(out, w)
	}
	return out
}

// ActionsTo10 writes model actions as an OpenFlow 1.0 list with Nicira
// actions.
func ActionsTo10(in []ofproto.Action) []ofp.Action {
	out := make([]ofp.Action, 0, len(in))
	for i := range in {
		a := &in[i]
		var w ofp.Action
		switch a.Type {
		case ofproto.ActOutput:
			w = &of10.Output{Port: ofproto.PortTo16(a.Port), MaxLen: a.MaxLen}
		case ofproto.ActEnqueue:
			w = &of10.Enqueue{Port: ofproto.PortTo16(a.Port), QueueID: a.Queue}
		case ofproto.ActPopVLAN:
			w = &of10.Set8{Type: of10.ActStripVLAN}
		case ofproto.ActPushMPLS, ofproto.ActPopMPLS:
			sub := nx.ActPushMPLS
			if a.Type == ofproto.ActPopMPLS {
				sub = nx.ActPopMPLS
			}
			w = &nx.Ethertype{Subtype: sub, Ethertype: a.Ethertype}
		case ofproto.ActSetMPLSTTL:
			w = &nx.SetMPLSTTL{TTL: a.TTL}
		case ofproto.ActDecMPLSTTL:
			w = &nx.NoArg{Subtype: nx.ActDecMPLSTTL}
		case ofproto.ActSetField:
			w = setFieldTo10(a)
		}
		if w == nil {
			var ok bool
			if w, ok = actionToNX(a); !ok {
				continue
			}
		}
		out = append(out, w)
	}
	return out
}

// setFieldTo10 uses OpenFlow 1.0's own set actions where one fits exactly.
func setFieldTo10(a *ofproto.Action) ofp.Action {
	f := flow.FieldByID(a.Field)
	if f == nil || a.NBits != 0 || a.Mask != f.AllOnes() {
		return nil
	}
	x := f.Uint(a.Value)
	switch a.Field {
	case flow.FieldEthSrc, flow.FieldEthDst:
		t := of10.ActSetDLSrc
		if a.Field == flow.FieldEthDst {
			t = of10.ActSetDLDst
		}
		w := &of10.SetDLAddr{Type: t}
		copy(w.Addr[:], a.Value[:6])
		return w
	case flow.FieldVLANVID:
		if x&flow.VLANCFI != 0 {
			return &of10.Set16{Type: of10.ActSetVLANVID, Value: uint16(x & 0xfff)}
		}
	case flow.FieldVLANPCP:
		return &of10.Set8{Type: of10.ActSetVLANPCP, Value: uint8(x)}
	case flow.FieldIPv4Src:
		return &of10.SetNwAddr{Type: of10.ActSetNwSrc, Addr: uint32(x)}
	case flow.FieldIPv4Dst:
		return &of10.SetNwAddr{Type: of10.ActSetNwDst, Addr: uint32(x)}
	case flow.FieldNwTOS:
		return &of10.Set8{Type: of10.ActSetNwTOS, Value: uint8(x)}
	case flow.FieldTCPSrc, flow.FieldUDPSrc, flow.FieldSCTPSrc:
		return &of10.Set16{Type: of10.ActSetTpSrc, Value: uint16(x)}
	case flow.FieldTCPDst, flow.FieldUDPDst, flow.FieldSCTPDst:
		return &of10.Set16{Type: of10.ActSetTpDst, Value: uint16(x)}
	}
	return nil
}
