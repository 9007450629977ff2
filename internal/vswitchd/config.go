package vswitchd

import (
	"maps"
	"net"
	"slices"
	"time"

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
	Target         string // "tcp:1.2.3.4:6653", "ssl:...", "ptcp:6653", "pssl:...", "punix:..."
	ConnectionMode string // "", "in-band" or "out-of-band"
	MaxBackoff     int    // milliseconds, 0 = unset (8 s)
	// InactivityProbe is in milliseconds: ProbeUnset when the column is
	// empty (5 s), 0 when probes are disabled.
	InactivityProbe int
	OtherConfig     map[string]string
	// SSL is the Open_vSwitch row's SSL configuration, given to ssl: and
	// pssl: targets only; nil when the database has none.
	SSL *SSLSpec
}

// ProbeUnset is ControllerSpec.InactivityProbe for an empty column.
const ProbeUnset = -1

// SSLSpec is the SSL row (ovs-vsctl set-ssl).
type SSLSpec struct {
	PrivateKey, Certificate, CACert string // file names
	BootstrapCACert                 bool
}

// ProbeInterval is the inactivity probe interval OVS derives from the
// row (bridge.c, rconn.c): whole seconds, at least 5; 5 s when unset; 0
// when disabled (which values under a second also mean).
func (c ControllerSpec) ProbeInterval() time.Duration {
	if c.InactivityProbe == ProbeUnset {
		return 5 * time.Second
	}
	s := c.InactivityProbe / 1000
	if s <= 0 {
		return 0
	}
	return time.Duration(max(s, 5)) * time.Second
}

// MaxBackoffInterval is the reconnect backoff cap OVS derives from the
// row: whole seconds, at least 1; 8 s when unset.
func (c ControllerSpec) MaxBackoffInterval() time.Duration {
	if c.MaxBackoff == 0 {
		return 8 * time.Second
	}
	return time.Duration(max(c.MaxBackoff/1000, 1)) * time.Second
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
				maps.Equal(x.OtherConfig, y.OtherConfig) && sameSSL(x.SSL, y.SSL)
		}) &&
		slices.Equal(b.Protocols, o.Protocols) && maps.Equal(b.OtherConfig, o.OtherConfig)
}

func sameSSL(x, y *SSLSpec) bool {
	return x == y || (x != nil && y != nil && *x == *y)
}
