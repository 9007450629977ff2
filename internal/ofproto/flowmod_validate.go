package ofproto

import (
	"github.com/govs/govs/internal/flow"
)

// ValidateMatch checks a match against OF1.3 §7.2.3: value bits only under
// mask bits (OFPBMC_BAD_WILDCARDS), masks only on maskable fields
// (OFPBMC_BAD_MASK), sane values (OFPBMC_BAD_VALUE), only bits some field
// owns (OFPBMC_BAD_FIELD) and every field's prerequisites present
// (OFPBMC_BAD_PREREQ).
func ValidateMatch(m *Match) error {
	if !valueUnderMask(m) {
		return ofErr(ErrBadMatch, BadMatchBadWildcards, "value bits outside the mask")
	}
	if m.Mask.PbbISID != 0 {
		// The parser never sets it (no PBB), so such a rule could never
		// match; OVS has no such field.
		return ofErr(ErrBadMatch, BadMatchBadField, "pbb_isid: PBB is not supported")
	}
	var buf [flow.NumFieldIDs]flow.FieldID
	present := flow.FieldsIn(&m.Mask, buf[:0])
	for _, id := range present {
		f := flow.FieldByID(id)
		if f.Maskable || f.IsExact(&m.Mask) {
			continue
		}
		// Fields sharing storage with a maskable one (vlan_vid inside
		// vlan_tci, icmp_type inside tp_src) are judged by that one.
		if sharedMaskable(f, &m.Mask) {
			continue
		}
		return ofErr(ErrBadMatch, BadMatchBadMask, "%s is not maskable", f.Name)
	}
	// vlan_vid: a VID without OFPVID_PRESENT is meaningless (OF1.3 Table 13).
	tci, tciMask := m.Key.VLANs[0].TCI, m.Mask.VLANs[0].TCI
	if tciMask&flow.VLANCFI != 0 && tci&flow.VLANCFI == 0 && tci != 0 {
		return ofErr(ErrBadMatch, BadMatchBadValue, "VLAN bits without a VLAN present")
	}
	if m.Mask.NwFrag&flow.FragLater != 0 && m.Key.NwFrag&flow.FragLater != 0 &&
		(m.Mask.NwFrag&flow.FragAny == 0 || m.Key.NwFrag&flow.FragAny == 0) {
		return ofErr(ErrBadMatch, BadMatchBadValue, "ip_frag later without fragment")
	}
	if bad, ok := flow.MatchPrereqsOKIn(&m.Key, &m.Mask, present); !ok {
		if bad == nil {
			return ofErr(ErrBadMatch, BadMatchBadField, "match on bits no field owns")
		}
		return ofErr(ErrBadMatch, BadMatchBadPrereq, "%s without its prerequisites", bad.Name)
	}
	return nil
}

// matchMemo remembers the last match a transaction found valid. A bulk
// load repeats one shape of match (the same fields, the same
// prerequisites) with new values, and whether a match is valid depends on
// its key only through the value bits outside its mask and through the
// fields that prerequisites and value checks name: a match with the same
// mask and the same such fields is valid too.
type matchMemo struct {
	mask flow.Mask
	pre  prereqKey
	ok   bool
}

// prereqKey is the part of a key ValidateMatch reads besides whether its
// bits lie under the mask: the fields prerequisites name (prereqOK) and
// the VLAN and fragment checks.
type prereqKey struct {
	ethType uint16
	tci     uint16
	tpSrc   uint16
	nwProto uint8
	nwFrag  uint8
}

func prereqKeyOf(k *flow.Key) prereqKey {
	return prereqKey{ethType: k.EthType, tci: k.VLANs[0].TCI, tpSrc: k.TpSrc, nwProto: k.NwProto, nwFrag: k.NwFrag}
}

// validate is ValidateMatch(m), remembering m's shape when it is valid. A
// nil memo remembers nothing.
func (mm *matchMemo) validate(m *Match) error {
	if mm == nil {
		return ValidateMatch(m)
	}
	if mm.ok && mm.pre == prereqKeyOf(&m.Key) && mm.mask == m.Mask && valueUnderMask(m) {
		return nil
	}
	if err := ValidateMatch(m); err != nil {
		return err
	}
	*mm = matchMemo{mask: m.Mask, pre: prereqKeyOf(&m.Key), ok: true}
	return nil
}

// valueUnderMask reports whether m's key has bits only where its mask
// does.
func valueUnderMask(m *Match) bool {
	kw, mw := m.Key.Words(), m.Mask.Words()
	for i := range kw {
		if kw[i]&^mw[i] != 0 {
			return false
		}
	}
	return true
}

func sharedMaskable(f *flow.Field, m *flow.Mask) bool {
	for id := flow.FieldID(1); id < flow.NumFieldIDs; id++ {
		g := flow.FieldByID(id)
		if g.Maskable && g != f && fieldsShareBits(f, g) {
			return true
		}
	}
	return false
}

// fieldsShareBits reports whether f's bits all lie inside g's.
func fieldsShareBits(f, g *flow.Field) bool {
	var a flow.Mask
	f.Unwildcard(&a)
	var b flow.Mask
	g.Unwildcard(&b)
	aw, bw := a.Words(), b.Words()
	for i := range aw {
		if aw[i]&^bw[i] != 0 {
			return false
		}
	}
	return true
}

// validateInstructionsLocked checks a rule's instructions for table
// against its match.
func (b *Bridge) validateInstructionsLocked(table uint8, in *Instructions, m *Match) error {
	if in.Meter != 0 && b.meters[in.Meter] == nil {
		return ofErr(ErrMeterModFailed, MeterModUnknownMeter, "meter %d", in.Meter)
	}
	if in.GotoTable >= 0 && (in.GotoTable <= int(table) || in.GotoTable >= MaxTables) {
		return ofErr(ErrBadInstruction, BadInstBadTableID, "goto_table:%d from table %d", in.GotoTable, table)
	}
	ctx := newActionContext(m)
	if err := b.validateActionsLocked(in.Apply, &ctx, false); err != nil {
		return err
	}
	if err := b.validateActionsLocked(in.Write, &ctx, false); err != nil {
		return err
	}
	if !b.deleteLearnedSeen {
		deleteLearnedCookies(in, func(learnedCookie) { b.deleteLearnedSeen = true })
	}
	return nil
}

// ValidateActions checks actions against a match, as for a flow or, with
// packetOut, a packet-out (which may output to TABLE). Caller holds RLock.
func (b *Bridge) ValidateActions(acts []Action, m *Match, packetOut bool) error {
	ctx := newActionContext(m)
	return b.validateActionsLocked(acts, &ctx, packetOut)
}

// actionContext is the match as the actions so far have changed it: a
// push_vlan makes vlan_pcp settable, a pop_mpls changes dl_type, as OVS's
// ofpacts_check follows the flow through the actions.
type actionContext struct {
	key  flow.Key
	mask flow.Mask
}

func newActionContext(m *Match) actionContext { return actionContext{key: m.Key, mask: m.Mask} }

func (b *Bridge) validateActionsLocked(acts []Action, ctx *actionContext, packetOut bool) error {
	for i := range acts {
		if err := b.validateAction(&acts[i], ctx, packetOut); err != nil {
			return err
		}
	}
	return nil
}

func validOutPort(port uint32, packetOut bool) bool {
	switch port {
	case PortInPort, PortNormal, PortFlood, PortAll, PortController, PortLocal:
		return true
	case PortTable:
		return packetOut
	}
	return port != 0 && port < PortMax
}

func (b *Bridge) validateAction(a *Action, ctx *actionContext, packetOut bool) error {
	switch a.Type {
	case ActOutput, ActEnqueue:
		if !validOutPort(a.Port, packetOut) {
			return ofErr(ErrBadAction, BadActionBadOutPort, "output to port %#x", a.Port)
		}
	case ActGroup:
		if b.groups[a.Group] == nil {
			return ofErr(ErrBadAction, BadActionBadOutGroup, "group %d", a.Group)
		}
	case ActMeter:
		if b.meters[a.Meter] == nil {
			return ofErr(ErrMeterModFailed, MeterModUnknownMeter, "meter %d", a.Meter)
		}
	case ActSetField:
		if err := checkSetFieldType(a); err != nil {
			return err
		}
		f := flow.FieldByID(a.Field)
		if !f.PrereqsOK(&ctx.key, &ctx.mask) {
			return ofErr(ErrBadAction, BadActionMatchInconsistent, "set_field %s without its prerequisites", f.Name)
		}
		if int(a.DstOfs) >= f.Bits {
			return ofErr(ErrBadAction, BadActionBadSetArgument, "set_field %s offset %d", f.Name, a.DstOfs)
		}
		f.SetMasked(&ctx.key, a.Value, a.Mask)
	case ActRegMove:
		src, dst := flow.FieldByID(a.SrcField), flow.FieldByID(a.Field)
		if src == nil || dst == nil || !dst.Writable {
			return ofErr(ErrBadAction, BadActionBadArgument, "move between bad fields")
		}
		if int(a.SrcOfs)+int(a.NBits) > src.Bits || int(a.DstOfs)+int(a.NBits) > dst.Bits || a.NBits == 0 {
			return ofErr(ErrBadAction, BadActionBadArgument, "move %s[%d..] to %s[%d..] of %d bits",
				src.Name, a.SrcOfs, dst.Name, a.DstOfs, a.NBits)
		}
		if !src.PrereqsOK(&ctx.key, &ctx.mask) || !dst.PrereqsOK(&ctx.key, &ctx.mask) {
			return ofErr(ErrBadAction, BadActionMatchInconsistent, "move %s to %s without prerequisites", src.Name, dst.Name)
		}
	case ActOutputReg:
		src := flow.FieldByID(a.SrcField)
		if src == nil || a.NBits == 0 || int(a.SrcOfs)+int(a.NBits) > src.Bits {
			return ofErr(ErrBadAction, BadActionBadArgument, "output_reg field")
		}
	case ActLearn:
		return validateLearn(a.Learn, ctx)
	case ActPushVLAN:
		if a.Ethertype != flow.EthTypeVLAN && a.Ethertype != flow.EthTypeQinQ {
			return ofErr(ErrBadAction, BadActionBadArgument, "push_vlan %#x", a.Ethertype)
		}
		ctx.key.VLANs[0].TCI |= flow.VLANCFI
		ctx.mask.VLANs[0].TCI |= flow.VLANCFI
	case ActPopVLAN:
		ctx.key.VLANs[0].TCI = 0
	case ActPushMPLS:
		if a.Ethertype != flow.EthTypeMPLS && a.Ethertype != flow.EthTypeMPLSM {
			return ofErr(ErrBadAction, BadActionBadArgument, "push_mpls %#x", a.Ethertype)
		}
		ctx.key.EthType, ctx.mask.EthType = a.Ethertype, 0xffff
		ctx.key.NwProto, ctx.mask.NwProto = 0, 0
	case ActPopMPLS:
		ctx.key.EthType, ctx.mask.EthType = a.Ethertype, 0xffff
		ctx.key.NwProto, ctx.mask.NwProto = 0, 0
	case ActPushPBB, ActPopPBB:
		// The datapath has no PBB: refused as OVS refuses it, never
		// accepted and ignored.
		return ofErr(ErrBadAction, BadActionBadType, "%s: PBB is not supported", actionName(a))
	case ActSetQueue, ActSetNwTTL, ActDecNwTTL, ActSetMPLSTTL,
		ActDecMPLSTTL, ActCopyTTLOut, ActCopyTTLIn, ActController, ActResubmit, ActNote:
	default:
		return ofErr(ErrBadAction, BadActionBadType, "action type %d", a.Type)
	}
	return nil
}

func checkSetFieldType(a *Action) error {
	f := flow.FieldByID(a.Field)
	if f == nil || !f.Writable {
		return ofErr(ErrBadAction, BadActionBadSetType, "set_field on field %d", a.Field)
	}
	if a.Field == flow.FieldPbbISID {
		// OVS's answer for a field it does not know.
		return ofErr(ErrBadAction, BadActionBadSetLen, "set_field pbb_isid: PBB is not supported")
	}
	return nil
}
