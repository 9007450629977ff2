package vswitchd

import (
	"maps"
	"net"
	"slices"

	"github.com/govs/govs/internal/netdev"
)

// Config is the whole desired state of the switch, built from the database
// by BuildConfig. It is plain data: comparing two Configs says what changed.
type Config struct {
	// Bridges by name.
	Bridges map[string]BridgeSpec
	// OtherConfig is Open_vSwitch.other_config: pmd-cpu-mask,
	// pmd-rxq-affinity, pmd-sleep-max, max-idle, emc-insert-inv-prob,
	// metrics-address, ...
	OtherConfig map[string]string
	// NextCfg is Open_vSwitch.next_cfg, copied to cur_cfg once applied.
	NextCfg int
	// Rejected are interfaces left out of Bridges because their rows are
	// inconsistent (e.g. in two bridges), with the reason, by interface
	// name. They get ofport -1 and the reason in Interface.error.
	Rejected map[string]string
}

// BridgeSpec is one Bridge row and what it references.
type BridgeSpec struct {
	Name string
	// DatapathType is "netdev" for the "", "system" and "netdev" the
	// database may hold (see the package comment); other values are
	// passed through.
	DatapathType string
	// RequestedDatapathType is Bridge.datapath_type as written.
	RequestedDatapathType string
	FailMode              string // "", "secure" or "standalone"
	Controllers           []ControllerSpec
	Protocols             []string // Bridge.protocols, e.g. "OpenFlow13"
	// OtherConfig holds datapath-id, hwaddr, disable-in-band, ...
	OtherConfig map[string]string
	Ports       map[string]PortSpec
}

// ControllerSpec is one Controller row.
type ControllerSpec struct {
	Target          string // "tcp:1.2.3.4:6653", "ptcp:6653", "punix:..."
	ConnectionMode  string // "", "in-band" or "out-of-band"
	MaxBackoff      int    // milliseconds, 0 = default
	InactivityProbe int    // milliseconds, 0 = default
	OtherConfig     map[string]string
}

// PortSpec is one Port row.
type PortSpec struct {
	Name string
	// Tag is the access VLAN when Tagged.
	Tag    uint16
	Tagged bool
	// Trunks are the VLANs a trunk port carries; empty means all.
	Trunks      []uint16
	VLANMode    string // "", "access", "trunk", "native-tagged", "native-untagged", "dot1q-tunnel"
	OtherConfig map[string]string
	Interfaces  map[string]InterfaceSpec
}

// InterfaceSpec is one Interface row's configuration columns.
type InterfaceSpec struct {
	Name    string
	Type    string // OVS type name; "" means "system"
	Options map[string]string
	// OFPortRequest is Interface.ofport_request, 0 when unset.
	OFPortRequest uint32
	// OFPortHint is the ofport the database shows (written by a previous
	// run), so that a restart gives ports their old numbers. It is not
	// configuration: a change of hint alone changes nothing.
	OFPortHint  uint32
	MTURequest  int              // 0: the port type's default
	MAC         net.HardwareAddr // Interface.mac, nil: the port's own
	OtherConfig map[string]string
}

// NetdevSpec returns the spec the netdev registry builds this interface's
// port from.
func (s InterfaceSpec) NetdevSpec(runDir string) netdev.Spec {
	return netdev.Spec{
		Name:    s.Name,
		Type:    s.Type,
		Options: s.Options,
		MTU:     s.MTURequest,
		MAC:     s.MAC,
		RunDir:  runDir,
	}
}

// sameConfig compares what the Switch would have to act on; OFPortHint is
// left out on purpose.
func (s InterfaceSpec) sameConfig(o InterfaceSpec) bool {
	return s.Name == o.Name && s.Type == o.Type && maps.Equal(s.Options, o.Options) &&
		s.OFPortRequest == o.OFPortRequest && s.MTURequest == o.MTURequest &&
		slices.Equal(s.MAC, o.MAC) && maps.Equal(s.OtherConfig, o.OtherConfig)
}

// samePortFields compares the port-level fields, not the interfaces.
func (p PortSpec) samePortFields(o PortSpec) bool {
	return p.Name == o.Name && p.Tag == o.Tag && p.Tagged == o.Tagged &&
		slices.Equal(p.Trunks, o.Trunks) && p.VLANMode == o.VLANMode &&
		maps.Equal(p.OtherConfig, o.OtherConfig)
}

// sameBridgeFields compares the bridge-level fields, not the ports.
func (b BridgeSpec) sameBridgeFields(o BridgeSpec) bool {
	return b.Name == o.Name && b.DatapathType == o.DatapathType &&
		b.RequestedDatapathType == o.RequestedDatapathType && b.FailMode == o.FailMode &&
		slices.EqualFunc(b.Controllers, o.Controllers, func(x, y ControllerSpec) bool {
			return x.Target == y.Target && x.ConnectionMode == y.ConnectionMode &&
				x.MaxBackoff == y.MaxBackoff && x.InactivityProbe == y.InactivityProbe &&
				maps.Equal(x.OtherConfig, y.OtherConfig)
		}) &&
		slices.Equal(b.Protocols, o.Protocols) && maps.Equal(b.OtherConfig, o.OtherConfig)
}
