package ofagent

import (
	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/of10"
	"github.com/govs/govs/internal/ofp/of13"
)

// Controller roles (OF1.3 §6.3.5), in OpenFlow 1.3 numbering.
const (
	roleNoChange uint32 = 0
	roleEqual    uint32 = 1
	roleMaster   uint32 = 2
	roleSlave    uint32 = 3
)

// Nicira roles (NXT_ROLE_REQUEST).
const (
	nxRoleOther  uint32 = 0
	nxRoleMaster uint32 = 1
	nxRoleSlave  uint32 = 2
)

var (
	errIsSlave   = &ofp.Error{Type: ofp.ETBadRequest, Code: ofp.BRCIsSlave}
	errRoleStale = &ofp.Error{Type: ofp.ETRoleRequestFailed, Code: 0} // OFPRRFC_STALE
	errRoleBad   = &ofp.Error{Type: ofp.ETRoleRequestFailed, Code: 2} // OFPRRFC_BAD_ROLE
)

// asyncConfig is ofp_async_config: per reason bitmaps for [master/equal,
// slave] of packet-in, port-status and flow-removed.
type asyncConfig struct {
	packetIn, portStatus, flowRemoved [2]uint32
}

// defaultAsync is OpenFlow 1.3's default (§6.1.1): masters and equals get
// everything, slaves only port-status.
var defaultAsync = asyncConfig{
	packetIn:    [2]uint32{0x7, 0},
	portStatus:  [2]uint32{0x7, 0x7},
	flowRemoved: [2]uint32{0xf, 0},
}

func (c *ofconn) isSlave() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.role == roleSlave
}

func (c *ofconn) roleName() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.role {
	case roleMaster:
		return "master"
	case roleSlave:
		return "slave"
	}
	return "other"
}

// setRole applies a role request; generation ids order master/slave
// requests (a request older than the newest seen is stale). A new master
// turns the previous masters into slaves.
func (c *ofconn) setRole(role uint32, gen uint64, checkGen bool) (uint32, uint64, error) {
	a := c.a
	a.mu.Lock()
	if role == roleMaster || role == roleSlave {
		if checkGen {
			if a.genIDSet && int64(gen-a.genID) < 0 {
				a.mu.Unlock()
				return 0, 0, errRoleStale
			}
			a.genID, a.genIDSet = gen, true
		}
	}
	if role == roleMaster {
		for o := range a.conns {
			if o != c {
				o.mu.Lock()
				if o.role == roleMaster {
					o.role = roleSlave
				}
				o.mu.Unlock()
			}
		}
	}
	c.mu.Lock()
	if role != roleNoChange {
		c.role = role
	}
	cur := c.role
	c.mu.Unlock()
	genID := a.genID
	if !a.genIDSet {
		genID = ^uint64(0)
	}
	a.mu.Unlock()
	return cur, genID, nil
}

func (c *ofconn) roleRequest13(m *of13.RoleRequest) error {
	if m.Role > roleSlave {
		return errRoleBad
	}
	role, gen, err := c.setRole(m.Role, m.GenerationID, true)
	if err != nil {
		return err
	}
	c.sendMsg(&of13.RoleReply{Xid: m.Xid, Role: role, GenerationID: gen})
	return nil
}

func (c *ofconn) roleRequestNX(xid uint32, r *of10.NXRole) error {
	var role uint32
	switch r.Role {
	case nxRoleOther:
		role = roleEqual
	case nxRoleMaster:
		role = roleMaster
	case nxRoleSlave:
		role = roleSlave
	default:
		return errRoleBad
	}
	cur, _, err := c.setRole(role, 0, false)
	if err != nil {
		return err
	}
	reply := nxRoleOther
	switch cur {
	case roleMaster:
		reply = nxRoleMaster
	case roleSlave:
		reply = nxRoleSlave
	}
	c.sendNX(xid, of10.NXTRoleReply, &of10.NXRole{Role: reply})
	return nil
}

func (c *ofconn) setAsync(cfg *of13.AsyncConfig) {
	c.mu.Lock()
	c.async = asyncConfig{
		packetIn:    [2]uint32{cfg.PacketInMaster, cfg.PacketInSlave},
		portStatus:  [2]uint32{cfg.PortStatusMaster, cfg.PortStatusSlave},
		flowRemoved: [2]uint32{cfg.FlowRemovedMaster, cfg.FlowRemovedSlave},
	}
	c.mu.Unlock()
}

func (c *ofconn) getAsync() of13.AsyncConfig {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.async
	return of13.AsyncConfig{
		PacketInMaster: a.packetIn[0], PacketInSlave: a.packetIn[1],
		PortStatusMaster: a.portStatus[0], PortStatusSlave: a.portStatus[1],
		FlowRemovedMaster: a.flowRemoved[0], FlowRemovedSlave: a.flowRemoved[1],
	}
}

// wants reports whether the connection asked for an asynchronous message
// of kind (its bitmaps) and reason.
func (c *ofconn) wants(kind func(*asyncConfig) *[2]uint32, reason uint8) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := 0
	if c.role == roleSlave {
		i = 1
	}
	return reason < 32 && kind(&c.async)[i]&(1<<reason) != 0
}

func asyncPacketIn(a *asyncConfig) *[2]uint32    { return &a.packetIn }
func asyncPortStatus(a *asyncConfig) *[2]uint32  { return &a.portStatus }
func asyncFlowRemoved(a *asyncConfig) *[2]uint32 { return &a.flowRemoved }

// sendNX sends a Nicira vendor message.
func (c *ofconn) sendNX(xid, subtype uint32, body of10.Body) {
	c.sendMsg(of10.NewNicira(xid, subtype, body))
}
