package vswitchd

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"

	"github.com/govs/govs/internal/netdev"
)

// LogSwitch is a Switch that forwards nothing: it keeps the bridges and
// interfaces it is given, allocates OpenFlow port numbers by the Switch
// contract, validates what it can without opening devices, logs every call
// and records it for tests. `govs run` uses it until the forwarding core is
// plugged in.
type LogSwitch struct {
	log *slog.Logger

	mu      sync.Mutex
	calls   []string              // +checklocks:mu
	bridges map[string]*logBridge // +checklocks:mu
	other   map[string]string     // +checklocks:mu
}

type logBridge struct {
	spec   BridgeSpec
	ifaces map[string]logIface
	ofport map[uint32]string // taken numbers
}

type logIface struct {
	port   string
	spec   InterfaceSpec
	ofport uint32
}

var _ Switch = (*LogSwitch)(nil)

// OFPPLocal is the OpenFlow number of a bridge's own port.
const OFPPLocal = 65534

// maxOFPort is the highest number ofport_request may ask for (OFPP_MAX).
const maxOFPort = 65279

// builtinTypes are the OVS interface types govs implements; the netdev
// registry adds whatever port packages are linked in.
var builtinTypes = []string{"afpacket", "afxdp", "dpdkvhostuser", "dpdkvhostuserclient", "dummy", "geneve", "gre", "internal", "patch", "system", "tap", "vxlan"}

// NewLogSwitch returns an empty LogSwitch logging to log.
func NewLogSwitch(log *slog.Logger) *LogSwitch {
	if log == nil {
		log = slog.Default()
	}
	return &LogSwitch{log: log, bridges: map[string]*logBridge{}}
}

// Calls returns the calls received so far, one line each, e.g.
// "AddInterface br0 p1 type=tap ofport=1".
func (s *LogSwitch) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

func (s *LogSwitch) record(format string, args ...any) {
	c := fmt.Sprintf(format, args...)
	s.calls = append(s.calls, c)
	s.log.Info("switch: " + c)
}

// DatapathTypes implements Switch.
func (s *LogSwitch) DatapathTypes() []string { return []string{UserspaceDatapath, "system"} }

// InterfaceTypes implements Switch.
func (s *LogSwitch) InterfaceTypes() []string {
	t := append(slices.Clone(builtinTypes), netdev.Types()...)
	slices.Sort(t)
	return slices.Compact(t)
}

// SetOtherConfig implements Switch.
func (s *LogSwitch) SetOtherConfig(oc map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.other = maps.Clone(oc)
	s.record("SetOtherConfig %s", formatMap(oc))
	return nil
}

// AddBridge implements Switch.
func (s *LogSwitch) AddBridge(b BridgeSpec) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b.DatapathType != UserspaceDatapath {
		s.record("AddBridge %s datapath_type=%s refused", b.Name, b.DatapathType)
		return fmt.Errorf("datapath type %q is not supported (govs has the userspace datapath, netdev)", b.DatapathType)
	}
	s.bridges[b.Name] = &logBridge{spec: b, ifaces: map[string]logIface{}, ofport: map[uint32]string{}}
	s.record("AddBridge %s", b.Name)
	return nil
}

// ReconfigureBridge implements Switch.
func (s *LogSwitch) ReconfigureBridge(b BridgeSpec) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	br := s.bridges[b.Name]
	if br == nil {
		return fmt.Errorf("no bridge %s", b.Name)
	}
	br.spec = b
	s.record("ReconfigureBridge %s", b.Name)
	return nil
}

// DelBridge implements Switch.
func (s *LogSwitch) DelBridge(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.bridges, name)
	s.record("DelBridge %s", name)
}

// AddInterface implements Switch.
func (s *LogSwitch) AddInterface(bridge string, port PortSpec, iface InterfaceSpec) (uint32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ofport, err := s.addLocked(bridge, port, iface)
	if err != nil {
		s.record("AddInterface %s %s %s failed: %v", bridge, port.Name, iface.Name, err)
		return 0, err
	}
	s.record("AddInterface %s %s %s type=%s ofport=%d", bridge, port.Name, iface.Name, typeName(iface.Type), ofport)
	return ofport, nil
}

func (s *LogSwitch) addLocked(bridge string, port PortSpec, iface InterfaceSpec) (uint32, error) {
	br := s.bridges[bridge]
	if br == nil {
		return 0, fmt.Errorf("no bridge %s", bridge)
	}
	if err := checkInterface(bridge, iface, s.InterfaceTypes()); err != nil {
		return 0, err
	}
	ofport, err := br.allocate(bridge, iface)
	if err != nil {
		return 0, err
	}
	br.ifaces[iface.Name] = logIface{port: port.Name, spec: iface, ofport: ofport}
	br.ofport[ofport] = iface.Name
	return ofport, nil
}

// allocate picks the OpenFlow number by the Switch contract.
func (br *logBridge) allocate(bridge string, iface InterfaceSpec) (uint32, error) {
	if iface.Name == bridge {
		return OFPPLocal, nil
	}
	if n := iface.OFPortRequest; n != 0 {
		if n > maxOFPort {
			return 0, fmt.Errorf("ofport_request %d out of range", n)
		}
		if owner, taken := br.ofport[n]; taken {
			return 0, fmt.Errorf("ofport_request %d is already used by %s", n, owner)
		}
		return n, nil
	}
	if n := iface.OFPortHint; n != 0 && n <= maxOFPort {
		if _, taken := br.ofport[n]; !taken {
			return n, nil
		}
	}
	for n := uint32(1); n <= maxOFPort; n++ {
		if _, taken := br.ofport[n]; !taken {
			return n, nil
		}
	}
	return 0, errors.New("no free OpenFlow port number")
}

// checkInterface rejects what the real port types would reject without
// touching the kernel: unknown types, and missing required options.
func checkInterface(bridge string, iface InterfaceSpec, types []string) error {
	typ := typeName(iface.Type)
	if !slices.Contains(types, typ) {
		return fmt.Errorf("could not open network device %s (%w %q)", iface.Name, netdev.ErrUnknownType, typ)
	}
	switch typ {
	case "internal":
		return nil
	case "system", "afxdp", "afpacket":
		if _, err := net.InterfaceByName(iface.Name); err != nil {
			return fmt.Errorf("could not open network device %s (No such device)", iface.Name)
		}
	case "patch":
		peer := iface.Options["peer"]
		if peer == "" {
			return fmt.Errorf("%s: patch type requires valid 'peer' argument", iface.Name)
		}
		if peer == iface.Name {
			return fmt.Errorf("%s: patch peer must not be self", iface.Name)
		}
	case "vxlan", "geneve", "gre":
		if iface.Options["remote_ip"] == "" {
			return fmt.Errorf("%s: %s type requires 'remote_ip' argument", iface.Name, typ)
		}
	}
	return nil
}

// ReconfigureInterface implements Switch.
func (s *LogSwitch) ReconfigureInterface(bridge string, port PortSpec, iface InterfaceSpec) (uint32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	br := s.bridges[bridge]
	if br == nil {
		return 0, fmt.Errorf("no bridge %s", bridge)
	}
	old, ok := br.ifaces[iface.Name]
	if ok {
		delete(br.ifaces, iface.Name)
		delete(br.ofport, old.ofport)
		if iface.OFPortRequest == 0 {
			iface.OFPortHint = old.ofport
		}
	}
	ofport, err := s.addLocked(bridge, port, iface)
	if err != nil {
		s.record("ReconfigureInterface %s %s %s failed: %v", bridge, port.Name, iface.Name, err)
		return 0, err
	}
	s.record("ReconfigureInterface %s %s %s ofport=%d", bridge, port.Name, iface.Name, ofport)
	return ofport, nil
}

// DelInterface implements Switch.
func (s *LogSwitch) DelInterface(bridge, iface string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if br := s.bridges[bridge]; br != nil {
		if old, ok := br.ifaces[iface]; ok {
			delete(br.ofport, old.ofport)
			delete(br.ifaces, iface)
		}
	}
	s.record("DelInterface %s %s", bridge, iface)
}

// ReconfigurePort implements Switch.
func (s *LogSwitch) ReconfigurePort(bridge string, port PortSpec) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tag := "none"
	if port.Tagged {
		tag = fmt.Sprint(port.Tag)
	}
	s.record("ReconfigurePort %s %s tag=%s trunks=%v vlan_mode=%s", bridge, port.Name, tag, port.Trunks, port.VLANMode)
	return nil
}

// InterfaceState implements Switch.
func (s *LogSwitch) InterfaceState(bridge, iface string) InterfaceState {
	s.mu.Lock()
	defer s.mu.Unlock()
	br := s.bridges[bridge]
	if br == nil {
		return InterfaceState{}
	}
	in, ok := br.ifaces[iface]
	if !ok {
		return InterfaceState{}
	}
	mac := in.spec.MAC
	if mac == nil {
		mac = StableMAC(bridge + "/" + iface)
	}
	mtu := in.spec.MTURequest
	if mtu == 0 {
		mtu = 1500
	}
	return InterfaceState{
		Status:   map[string]string{"driver_name": "govs-log"},
		LinkUp:   true,
		AdminUp:  true,
		MACInUse: mac,
		MTU:      mtu,
		Stats: map[string]int{
			"rx_packets": 0, "rx_bytes": 0, "rx_dropped": 0, "rx_errors": 0,
			"tx_packets": 0, "tx_bytes": 0, "tx_dropped": 0, "tx_errors": 0,
		},
	}
}

// BridgeState implements Switch.
func (s *LogSwitch) BridgeState(bridge string) BridgeState {
	s.mu.Lock()
	defer s.mu.Unlock()
	br := s.bridges[bridge]
	if br == nil {
		return BridgeState{}
	}
	return BridgeState{DatapathID: DatapathID(br.spec, StableMAC(bridge))}
}

// OFPorts returns the interface → ofport map of a bridge.
func (s *LogSwitch) OFPorts(bridge string) map[string]uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]uint32{}
	if br := s.bridges[bridge]; br != nil {
		for n, in := range br.ifaces {
			out[n] = in.ofport
		}
	}
	return out
}

func typeName(t string) string {
	if t == "" {
		return "system"
	}
	return t
}

func formatMap(m map[string]string) string {
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + m[k])
	}
	return "{" + b.String() + "}"
}
