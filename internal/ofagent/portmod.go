package ofagent

import (
	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofproto"
)

var (
	errPortModBadPort = &ofp.Error{Type: ofp.ETPortModFailed, Code: 0} // OFPPMFC_BAD_PORT
	errPortModBadHW   = &ofp.Error{Type: ofp.ETPortModFailed, Code: 1} // OFPPMFC_BAD_HW_ADDR
)

// portConfigBits are the ofp_port_config bits a PORT_MOD may change.
const portConfigBits = ofproto.PortDown | ofproto.PortNoSTP | ofproto.PortNoRecv | ofproto.PortNoRecvSTP |
	ofproto.PortNoFlood | ofproto.PortNoFwd | ofproto.PortNoPacketIn

// portMod applies OFPT_PORT_MOD and tells every controller (PORT_STATUS
// modify), so the integrator need not.
func (a *Agent) portMod(port uint32, hw [6]byte, config, mask uint32) error {
	var p *ofproto.Port
	a.b.RLock()
	if q := a.b.Port(port); q != nil {
		p = q
		if q.HWAddr != hw {
			a.b.RUnlock()
			return errPortModBadHW
		}
	}
	a.b.RUnlock()
	if p == nil {
		return errPortModBadPort
	}
	m := ofproto.PortConfig(mask) & portConfigBits
	if err := a.b.SetPortConfig(port, ofproto.PortConfig(config)&m, m); err != nil {
		return err
	}
	a.b.RLock()
	snap := *a.b.Port(port)
	a.b.RUnlock()
	a.PortChanged(PortModified, &snap)
	return nil
}
