package ofagent

import (
	"encoding/binary"

	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/nx"
	"github.com/govs/govs/internal/ofp/of13"
	"github.com/govs/govs/internal/ofproto"
)

// Switch capabilities we report (ofp_capabilities).
const (
	capFlowStats  = 1 << 0
	capTableStats = 1 << 1
	capPortStats  = 1 << 2
	capGroupStats = 1 << 3
	capQueueStats = 1 << 6
)

// handle13 handles one OpenFlow 1.3 message.
func (c *ofconn) handle13(msg []byte) error {
	if msg[1] == of13.TypeExperimenter && len(msg) >= 12 && binary.BigEndian.Uint32(msg[8:]) == of13.ONFExperimenter {
		// The bundle messages, 100 000 in a big bundle: decoded into the
		// connection's own struct rather than a new one each.
		m := &c.onfWire
		if err := m.Decode(msg); err != nil {
			return err
		}
		if c.isSlave() {
			return errIsSlave
		}
		return c.bundle13(m, msg)
	}
	m, err := of13.Decode(msg)
	if err != nil {
		return err
	}
	if c.isSlave() && changesState13(m) {
		return errIsSlave
	}
	switch m := m.(type) {
	case *of13.Hello, *of13.EchoReply, *of13.ErrorMsg:
	case *of13.EchoRequest:
		c.send(echoReply(msg))
	case *of13.FeaturesRequest:
		c.sendMsg(&of13.FeaturesReply{Xid: m.Xid, DatapathID: c.a.b.DatapathID(), NTables: ofproto.MaxTables,
			Capabilities: capFlowStats | capTableStats | capPortStats | capGroupStats | capQueueStats})
	case *of13.GetConfigRequest:
		c.mu.Lock()
		r := &of13.GetConfigReply{Xid: m.Xid, Flags: c.configFlags, MissSendLen: c.missSendLen}
		c.mu.Unlock()
		c.sendMsg(r)
	case *of13.SetConfig:
		c.mu.Lock()
		c.configFlags, c.missSendLen = m.Flags, m.MissSendLen
		c.mu.Unlock()
	case *of13.BarrierRequest:
		c.a.sync()
		c.sendMsg(&of13.BarrierReply{Xid: m.Xid})
	case *of13.FlowMod:
		fm := new(ofproto.FlowMod)
		if err := flowModFrom13(fm, m); err != nil {
			return err
		}
		return c.applyFlowMod(fm)
	case *of13.GroupMod:
		gm, err := GroupModFrom13(m)
		if err != nil {
			return err
		}
		return c.a.b.GroupMod(gm)
	case *of13.MeterMod:
		mm, err := MeterModFrom13(m)
		if err != nil {
			return err
		}
		return c.a.b.MeterMod(mm)
	case *of13.PortMod:
		return c.a.portMod(m.PortNo, m.HWAddr, m.Config, m.Mask)
	case *of13.TableMod:
		return c.a.b.SetTableConfig(m.TableID, m.Config)
	case *of13.PacketOut:
		acts, err := ActionsFrom13(m.Actions)
		if err != nil {
			return err
		}
		return c.a.packetOut(m.BufferID, m.InPort, acts, m.Data)
	case *of13.MultipartRequest:
		return c.multipart13(m)
	case *of13.RoleRequest:
		return c.roleRequest13(m)
	case *of13.GetAsyncRequest:
		c.sendMsg(&of13.GetAsyncReply{Xid: m.Xid, Config: c.getAsync()})
	case *of13.SetAsync:
		c.setAsync(&m.Config)
	case *of13.QueueGetConfigRequest:
		c.sendMsg(&of13.QueueGetConfigReply{Xid: m.Xid, Port: m.Port})
	case *of13.Experimenter: // ONF's (bundles) are handled above
		switch m.Experimenter {
		case nx.VendorID:
			// OVS speaks Nicira messages in OF1.3 too; those govs
			// lacks are an unknown type of a known experimenter.
			return ofp.ErrBadExpType
		}
		return ofp.ErrBadExperimenter
	default:
		// Replies and switch-to-controller messages make no sense here.
		return ofp.ErrBadType
	}
	return nil
}

// changesState13 reports whether m modifies the switch (refused to
// slaves, OF1.3 §6.3.5).
func changesState13(m ofp.Message) bool {
	switch m := m.(type) {
	case *of13.FlowMod, *of13.GroupMod, *of13.MeterMod, *of13.PortMod, *of13.TableMod, *of13.PacketOut:
		return true
	case *of13.Experimenter:
		return m.Experimenter == of13.ONFExperimenter
	}
	return false
}

// flowModFrom13 converts an OpenFlow 1.3 flow-mod into fm, which it
// overwrites (a bundle converts each of its flow-mods into the same one).
func flowModFrom13(fm *ofproto.FlowMod, m *of13.FlowMod) error {
	if err := flowModHeadFrom13(fm, m); err != nil || !hasInstructions(fm) {
		return err
	}
	var err error
	fm.Instructions, err = InstructionsFrom13(m.Instructions)
	return err
}

// flowModHeadFrom13 is flowModFrom13 but for the instructions: fm's are
// none.
func flowModHeadFrom13(fm *ofproto.FlowMod, m *of13.FlowMod) error {
	if m.Match.Type != of13.OXMTypeMatch {
		return ofp.ErrBadMatchType
	}
	*fm = ofproto.FlowMod{
		Command: ofproto.FlowModCommand(m.Command), Table: m.TableID, Priority: m.Priority,
		Cookie: m.Cookie, CookieMask: m.CookieMask,
		IdleTimeout: m.IdleTimeout, HardTimeout: m.HardTimeout, Flags: m.Flags,
		OutPort: m.OutPort, OutGroup: m.OutGroup, BufferID: m.BufferID,
		Instructions: ofproto.Instructions{GotoTable: -1},
	}
	if err := matchFromTLVs(&fm.Match, m.Match.Fields); err != nil {
		return err
	}
	if fm.Command == ofproto.FlowAdd {
		fm.CookieMask = 0
	}
	if fm.Command == ofproto.FlowModify || fm.Command == ofproto.FlowModifyStrict {
		// OF1.3 modify filters by cookie/mask and keeps the cookie.
		fm.OutPort, fm.OutGroup = ofproto.PortAny, ofproto.GroupAny
	}
	return nil
}

// hasInstructions reports whether fm's command takes instructions: a
// delete's are ignored.
func hasInstructions(fm *ofproto.FlowMod) bool {
	return fm.Command != ofproto.FlowDelete && fm.Command != ofproto.FlowDeleteStrict
}
