package ofagent

import (
	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/of10"
	"github.com/govs/govs/internal/ofproto"
)

// OpenFlow 1.0 actions we support (ofp_action_type bits 0..11).
const actions10 = 0xfff

// Packet-in formats (NXT_SET_PACKET_IN_FORMAT).
const (
	pktInFormatStandard = 0
	pktInFormatNXT      = 1
)

// handle10 handles one OpenFlow 1.0 message, Nicira extensions included.
func (c *ofconn) handle10(msg []byte) error {
	m, err := of10.Decode(msg)
	if err != nil {
		return err
	}
	if c.isSlave() && changesState10(m) {
		return errIsSlave
	}
	switch m := m.(type) {
	case *of10.Hello, *of10.EchoReply, *of10.ErrorMsg:
	case *of10.EchoRequest:
		c.send(echoReply(msg))
	case *of10.FeaturesRequest:
		r := &of10.FeaturesReply{Xid: m.Xid, DatapathID: c.a.b.DatapathID(), NTables: ofproto.MaxTables,
			Capabilities: capFlowStats | capTableStats | capPortStats | capQueueStats, Actions: actions10}
		for _, p := range c.a.b.Ports() {
			r.Ports = append(r.Ports, portTo10(p))
		}
		c.sendMsg(r)
	case *of10.GetConfigRequest:
		c.mu.Lock()
		r := &of10.GetConfigReply{Xid: m.Xid, Flags: c.configFlags, MissSendLen: c.missSendLen}
		c.mu.Unlock()
		c.sendMsg(r)
	case *of10.SetConfig:
		c.mu.Lock()
		c.configFlags, c.missSendLen = m.Flags, m.MissSendLen
		c.mu.Unlock()
	case *of10.BarrierRequest:
		c.a.sync()
		c.sendMsg(&of10.BarrierReply{Xid: m.Xid})
	case *of10.FlowMod:
		fm, err := c.flowModFromOF10(m)
		if err != nil {
			return err
		}
		return c.applyFlowMod10(fm)
	case *of10.PortMod:
		return c.a.portMod(ofproto.PortFrom16(m.PortNo), m.HWAddr, m.Config, m.Mask)
	case *of10.PacketOut:
		var none ofproto.Match
		acts, err := ActionsFrom10(m.Actions, &none)
		if err != nil {
			return err
		}
		inPort := ofproto.PortFrom16(m.InPort)
		if m.InPort == 0xffff {
			inPort = ofproto.PortAny
		}
		return c.a.packetOut(m.BufferID, inPort, acts, m.Data)
	case *of10.StatsRequest:
		return c.stats10(m)
	case *of10.QueueGetConfigRequest:
		c.sendMsg(&of10.QueueGetConfigReply{Xid: m.Xid, Port: m.Port})
	case *of10.Vendor:
		return c.vendor10(m)
	default:
		return ofp.ErrBadType
	}
	return nil
}

func changesState10(m ofp.Message) bool {
	switch m := m.(type) {
	case *of10.FlowMod, *of10.PortMod, *of10.PacketOut:
		return true
	case *of10.Vendor:
		if sub, _, err := of10.DecodeNicira(m); err == nil && sub == of10.NXTFlowMod {
			return true
		}
	}
	return false
}

// vendor10 handles the Nicira messages plain ovs-ofctl sends.
func (c *ofconn) vendor10(v *of10.Vendor) error {
	sub, body, err := of10.DecodeNicira(v)
	if err != nil {
		return err
	}
	switch b := body.(type) {
	case *of10.NXFlowMod:
		fm, err := c.flowModFromNX(b)
		if err != nil {
			return err
		}
		return c.applyFlowMod10(fm)
	case *of10.NXSetFlowFormat:
		if sub == of10.NXTSetPacketInFormat {
			if b.Format != pktInFormatStandard && b.Format != pktInFormatNXT {
				return &ofp.Error{Type: ofp.ETBadRequest, Code: ofp.BRCEperm}
			}
			c.mu.Lock()
			c.nxPacketIn = b.Format == pktInFormatNXT
			c.mu.Unlock()
			return nil
		}
		if b.Format != of10.FlowFormatOpenFlow10 && b.Format != of10.FlowFormatNXM {
			return &ofp.Error{Type: ofp.ETBadRequest, Code: ofp.BRCEperm}
		}
		c.mu.Lock()
		c.nxmFlowFormat = b.Format == of10.FlowFormatNXM
		c.mu.Unlock()
	case *of10.NXFlowModTableID:
		c.mu.Lock()
		c.flowModTableID = b.Set != 0
		c.mu.Unlock()
	case *of10.NXSetControllerID:
		c.mu.Lock()
		c.controllerID = b.ControllerID
		c.mu.Unlock()
	case *of10.NXRole:
		if sub != of10.NXTRoleRequest {
			return ofp.ErrBadExpType
		}
		return c.roleRequestNX(v.Xid, b)
	case *of10.NXAsyncConfig:
		c.mu.Lock()
		c.async = asyncConfig{
			packetIn:    [2]uint32{b.PacketInMaster, b.PacketInSlave},
			portStatus:  [2]uint32{b.PortStatusMaster, b.PortStatusSlave},
			flowRemoved: [2]uint32{b.FlowRemovedMaster, b.FlowRemovedSlave},
		}
		c.mu.Unlock()
	default:
		return ofp.ErrBadExpType // NXT_PACKET_IN and other switch-to-controller messages
	}
	return nil
}
