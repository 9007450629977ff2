package ofproto

// PortConfig is a port's administrative configuration (ofp_port_config).
type PortConfig uint32

const (
	PortDown       PortConfig = 1 << 0 // administratively down
	PortNoSTP      PortConfig = 1 << 1 // OF1.0 only
	PortNoRecv     PortConfig = 1 << 2 // drop everything received
	PortNoRecvSTP  PortConfig = 1 << 3 // OF1.0 only
	PortNoFlood    PortConfig = 1 << 4 // leave out of FLOOD (OF1.0; OVS keeps it for all versions)
	PortNoFwd      PortConfig = 1 << 5 // drop everything sent to it
	PortNoPacketIn PortConfig = 1 << 6 // no packet-ins for packets received on it
)

// PortState is a port's operational state (ofp_port_state).
type PortState uint32

const (
	StateLinkDown PortState = 1 << 0
	StateBlocked  PortState = 1 << 1
	StateLive     PortState = 1 << 2 // usable by fast-failover groups
)

// VLANMode is how NORMAL treats VLANs on a port (OVS's Port.vlan_mode).
type VLANMode uint8

const (
	// VLANModeDefault is OVS's default: access if Tag is set, else trunk.
	VLANModeDefault VLANMode = iota
	VLANModeTrunk
	VLANModeAccess
	VLANModeNativeTagged
	VLANModeNativeUntagged
)

// String returns the OVSDB spelling.
func (m VLANMode) String() string {
	switch m {
	case VLANModeTrunk:
		return "trunk"
	case VLANModeAccess:
		return "access"
	case VLANModeNativeTagged:
		return "native-tagged"
	case VLANModeNativeUntagged:
		return "native-untagged"
	}
	return ""
}

// ParseVLANMode parses an OVSDB vlan_mode ("" is the default).
func ParseVLANMode(s string) (VLANMode, bool) {
	for m := VLANModeDefault; m <= VLANModeNativeUntagged; m++ {
		if m.String() == s {
			return m, true
		}
	}
	return 0, false
}

// NoODPPort marks a port with no datapath port (patch ports).
const NoODPPort uint32 = 0xffffffff

// Port is an OpenFlow port of a bridge. The bridge owns it after AddPort:
// change it only through the bridge's methods, which hold the write lock
// (translations read it under the read lock).
type Port struct {
	OFPort  uint32 // OpenFlow port number; 0 in AddPort: pick the lowest free
	Name    string
	Type    string // OVSDB Interface.type ("", "internal", "patch", "dpdkvhostuser", ...)
	ODPPort uint32 // datapath port number; NoODPPort for patch ports
	HWAddr  [6]byte
	Config  PortConfig
	State   PortState

	// Features (ofp_port_features bits) and speeds in kbit/s.
	Curr, Advertised, Supported, Peer uint32
	CurrSpeed, MaxSpeed               uint32

	// NORMAL's VLAN configuration.
	Tag      uint16   // access VLAN / native VLAN; 0: none
	Trunks   []uint16 // allowed VLANs when trunking; empty: all
	VLANMode VLANMode

	// PatchPeer names the peer of a patch port (its ports are on another
	// bridge or this one).
	PatchPeer string
}

// IsLive reports whether the port can carry traffic: up administratively
// and with link. Fast-failover groups use it.
func (p *Port) IsLive() bool {
	return p.Config&PortDown == 0 && p.State&(StateLinkDown|StateBlocked) == 0
}

// EffectiveVLANMode resolves VLANModeDefault as OVS does.
func (p *Port) EffectiveVLANMode() VLANMode {
	if p.VLANMode != VLANModeDefault {
		return p.VLANMode
	}
	if p.Tag != 0 {
		return VLANModeAccess
	}
	return VLANModeTrunk
}

// TrunksVLAN reports whether the port carries vid tagged (trunk and native
// modes).
func (p *Port) TrunksVLAN(vid uint16) bool {
	if len(p.Trunks) == 0 {
		return true
	}
	for _, t := range p.Trunks {
		if t == vid {
			return true
		}
	}
	return false
}

// refreshLive keeps StateLive in step with the other bits, so the LIVE bit
// reported to controllers is what fast failover uses.
func (p *Port) refreshLive() {
	if p.IsLive() {
		p.State |= StateLive
	} else {
		p.State &^= StateLive
	}
}
