package vswitchd

import "net"

// Switch is what the reconfiguration loop drives: the forwarding core with
// its bridges and ports. All methods are called from one goroutine, in the
// order Reconcile documents; none is called concurrently with another.
//
// Calls are incremental. A bridge is added once with AddBridge, then changed
// only with ReconfigureBridge (bridge-level fields) and the port/interface
// calls; DelBridge removes the bridge together with every port still in it
// (no DelInterface calls precede it).
type Switch interface {
	// DatapathTypes and InterfaceTypes are published in
	// Open_vSwitch.datapath_types and iface_types.
	DatapathTypes() []string
	InterfaceTypes() []string

	// SetOtherConfig applies Open_vSwitch.other_config (pmd-cpu-mask,
	// pmd-rxq-affinity, pmd-sleep-max, max-idle, emc-insert-inv-prob, ...).
	// It is called before any bridge change in a pass, and the first pass
	// always calls it.
	SetOtherConfig(map[string]string) error

	// AddBridge creates a bridge with no ports; its ports follow with
	// AddInterface. An error is logged and reported in the error column of
	// the bridge's interfaces; the bridge is tried again on the next pass.
	AddBridge(BridgeSpec) error
	// ReconfigureBridge applies changed bridge-level fields (fail mode,
	// controllers, protocols, other_config). Ports are not in play.
	ReconfigureBridge(BridgeSpec) error
	// DelBridge removes a bridge and all its ports.
	DelBridge(name string)

	// AddInterface adds iface, member of port, to bridge and returns its
	// OpenFlow port number. It must honour iface.OFPortRequest when set
	// (failing if that number is taken), else prefer iface.OFPortHint (the
	// number the interface had before govs restarted), else pick the
	// lowest free number. The bridge's own internal interface (named like
	// the bridge) is OFPP_LOCAL, 65534. On error nothing is left behind and
	// the error text goes to Interface.error.
	AddInterface(bridge string, port PortSpec, iface InterfaceSpec) (ofport uint32, err error)
	// ReconfigureInterface applies a changed interface spec (options, MTU,
	// MAC, ofport_request) to an existing interface of the same type, and
	// returns its OpenFlow port number, which changes only when
	// OFPortRequest did. The implementation may rebuild the port. On
	// error the interface is gone, as if DelInterface had been called.
	ReconfigureInterface(bridge string, port PortSpec, iface InterfaceSpec) (ofport uint32, err error)
	// DelInterface removes an interface from a bridge.
	DelInterface(bridge, iface string)
	// ReconfigurePort applies changed port-level fields (tag, trunks,
	// vlan_mode, other_config) to all the port's interfaces.
	ReconfigurePort(bridge string, port PortSpec) error

	// InterfaceState and BridgeState are read for write-back after every
	// pass and every stats interval; they must be cheap and must not
	// block on the datapath.
	InterfaceState(bridge, iface string) InterfaceState
	BridgeState(bridge string) BridgeState
}

// InterfaceState is an interface as the database shows it.
type InterfaceState struct {
	// Status is Interface.status (driver_name, ... and per-type keys).
	Status    map[string]string
	LinkUp    bool
	AdminUp   bool
	MACInUse  net.HardwareAddr
	IfIndex   int // 0: none (ports that are not kernel devices)
	MTU       int // 0: unknown
	Stats     map[string]int
	LinkSpeed int // bits per second; 0 unknown
}

// BridgeState is a bridge as the database shows it.
type BridgeState struct {
	// DatapathID is the bridge's OpenFlow datapath ID: other_config
	// datapath-id when valid, else derived from its MAC as OVS does.
	DatapathID uint64
	Status     map[string]string
	// Controllers are the states of the bridge's controller targets;
	// write-back fills the matching Controller rows' is_connected, role
	// and status from them.
	Controllers []ControllerState
}

// ControllerState is a Controller row's status columns as the switch
// reports them.
type ControllerState struct {
	Target      string
	IsConnected bool
	// Role is "master", "slave" or "other" while connected; "" leaves
	// the column empty, as OVS does for a controller that is not.
	Role string
	// Status is Controller.status: state, last_error,
	// sec_since_connect, sec_since_disconnect.
	Status map[string]string
}
