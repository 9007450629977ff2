package ofagent

import (
	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/of10"
	"github.com/govs/govs/internal/ofproto"
)

var (
	errBufferUnknown = &ofp.Error{Type: ofp.ETBadRequest, Code: ofp.BRCBufferUnknown}
	errBadPort       = &ofp.Error{Type: ofp.ETBadRequest, Code: ofp.BRCBadPort}
	errBadCommand    = &ofp.Error{Type: ofp.ETFlowModFailed, Code: 6} // OFPFMFC_BAD_COMMAND
)

// applyFlowMod applies fm to the bridge. govs never buffers packets, so
// a flow-mod naming a buffer is applied and then answered with
// OFPBRC_BUFFER_UNKNOWN, as OVS does for an expired buffer.
func (c *ofconn) applyFlowMod(fm *ofproto.FlowMod) error {
	if err := c.a.b.FlowMod(fm); err != nil {
		return err
	}
	if fm.BufferID != ofproto.NoBuffer {
		return errBufferUnknown
	}
	return nil
}

// flowModCommand10 splits an OpenFlow 1.0 / Nicira flow-mod command: with
// NXT_FLOW_MOD_TABLE_ID on, the high byte is the table.
func (c *ofconn) flowModCommand10(cmd uint16) (ofproto.FlowModCommand, uint8, error) {
	c.mu.Lock()
	withTable := c.flowModTableID
	c.mu.Unlock()
	table := uint8(0)
	if withTable {
		table = uint8(cmd >> 8)
		cmd &= 0xff
	}
	if cmd > uint16(ofproto.FlowDeleteStrict) {
		return 0, 0, errBadCommand
	}
	command := ofproto.FlowModCommand(cmd)
	if !withTable && (command == ofproto.FlowDelete || command == ofproto.FlowDeleteStrict) {
		table = ofproto.TableAll
	}
	if !withTable && (command == ofproto.FlowModify || command == ofproto.FlowModifyStrict) {
		table = ofproto.TableAll
	}
	return command, table, nil
}

// flowMod10 builds the model flow-mod shared by OFPT_FLOW_MOD (1.0) and
// NXT_FLOW_MOD: OpenFlow 1.0 semantics (a modify that matches nothing
// adds; modify sets the cookie; delete filters on out_port only).
func (c *ofconn) flowMod10(cmd uint16, match ofproto.Match, cookie uint64, idle, hard, prio uint16,
	bufferID uint32, outPort, flags uint16, acts []ofp.Action) (*ofproto.FlowMod, error) {
	command, table, err := c.flowModCommand10(cmd)
	if err != nil {
		return nil, err
	}
	fm := ofproto.NewFlowMod(command)
	fm.Table, fm.Match, fm.Priority = table, match, prio
	fm.IdleTimeout, fm.HardTimeout, fm.BufferID = idle, hard, bufferID
	// OF1.0 flags: SEND_FLOW_REM 1, CHECK_OVERLAP 2, EMERG 4 (refused).
	if flags&4 != 0 {
		return nil, &ofp.Error{Type: ofp.ETFlowModFailed, Code: 7} // BAD_FLAGS
	}
	fm.Flags = flags & (ofproto.FlagSendFlowRem | ofproto.FlagCheckOverlap)
	switch command {
	case ofproto.FlowAdd:
		fm.Cookie = cookie
	case ofproto.FlowModify, ofproto.FlowModifyStrict:
		// All ones means "leave the cookies alone" (OVS's
		// modify_cookie): ovs-ofctl mod-flows sends it unless told a
		// cookie without a mask.
		fm.ModifyAdds, fm.SetCookie, fm.NewCookie = true, cookie != ^uint64(0), cookie
		fm.Cookie = cookie
		if table == ofproto.TableAll {
			// An add needs a real table: OpenFlow 1.0 has only table 0.
			fm.Table = ofproto.TableAll
		}
	case ofproto.FlowDelete, ofproto.FlowDeleteStrict:
		fm.OutPort = ofproto.PortFrom16(outPort)
		if outPort == 0xffff {
			fm.OutPort = ofproto.PortAny
		}
		return fm, nil
	}
	insts, err := ActionsFrom10(acts, &match)
	if err != nil {
		return nil, err
	}
	fm.Apply = insts
	return fm, nil
}

// applyFlowMod10 applies an OpenFlow 1.0 style flow-mod. A modify over
// all tables is done per table (the model wants one table for the add
// half), adding to table 0 if nothing matched.
func (c *ofconn) applyFlowMod10(fm *ofproto.FlowMod) error {
	if fm.Command != ofproto.FlowModify && fm.Command != ofproto.FlowModifyStrict || fm.Table != ofproto.TableAll {
		return c.applyFlowMod(fm)
	}
	filter := ofproto.AllFlows()
	filter.Match, filter.Strict, filter.Priority = fm.Match, fm.Command == ofproto.FlowModifyStrict, fm.Priority
	tables := map[uint8]bool{}
	for _, r := range c.a.b.Flows(filter) {
		tables[r.Table] = true
	}
	if len(tables) == 0 {
		tables[0] = true
	}
	for t := range tables {
		one := *fm
		one.Table = t
		if err := c.a.b.FlowMod(&one); err != nil {
			return err
		}
	}
	if fm.BufferID != ofproto.NoBuffer {
		return errBufferUnknown
	}
	return nil
}

// flowModFromOF10 converts OFPT_FLOW_MOD (OpenFlow 1.0).
func (c *ofconn) flowModFromOF10(m *of10.FlowMod) (*ofproto.FlowMod, error) {
	return c.flowMod10(m.Command, MatchFrom10(&m.Match), m.Cookie, m.IdleTimeout, m.HardTimeout,
		m.Priority, m.BufferID, m.OutPort, m.Flags, m.Actions)
}

// flowModFromNX converts NXT_FLOW_MOD.
func (c *ofconn) flowModFromNX(m *of10.NXFlowMod) (*ofproto.FlowMod, error) {
	tlvs, cookie, mask, filtered, err := splitNXCookie(m.Match)
	if err != nil {
		return nil, err
	}
	match, err := MatchFromTLVs(tlvs)
	if err != nil {
		return nil, err
	}
	fm, err := c.flowMod10(m.Command, match, m.Cookie, m.IdleTimeout, m.HardTimeout,
		m.Priority, m.BufferID, m.OutPort, m.Flags, m.Actions)
	if err != nil || !filtered {
		return fm, err
	}
	// A cookie filter selects the rules a modify or delete touches; an
	// add has nothing to select (OVS refuses it too).
	if fm.Command == ofproto.FlowAdd {
		return nil, errBadField
	}
	fm.Cookie, fm.CookieMask = cookie, mask
	return fm, nil
}
