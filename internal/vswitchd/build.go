package vswitchd

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"

	"github.com/govs/govs/internal/ovsdb"
)

// UserspaceDatapath is the one datapath type govs implements.
const UserspaceDatapath = "netdev"

// BuildConfig turns a database snapshot into the desired state. It never
// fails: a row that cannot be used is left out, and if it is an interface
// the reason is kept in Config.Rejected for its error column.
func BuildConfig(s *ovsdb.Snapshot) Config {
	cfg := Config{
		Bridges:  map[string]BridgeSpec{},
		Rejected: map[string]string{},
	}
	if s.Root == nil {
		return cfg
	}
	cfg.OtherConfig = s.Root.OtherConfig
	cfg.NextCfg = s.Root.NextCfg

	ssl := sslSpec(s)

	// Interface owner by name, to refuse a second claim deterministically:
	// bridges and ports are visited in name order.
	owner := map[string]string{}
	for _, bu := range sortedBridges(s) {
		br := s.Bridges[bu]
		if _, dup := cfg.Bridges[br.Name]; dup {
			continue // the schema's name index makes this impossible
		}
		spec := BridgeSpec{
			Name:                  br.Name,
			RequestedDatapathType: br.DatapathType,
			DatapathType:          br.DatapathType,
			Protocols:             slices.Sorted(slices.Values(br.Protocols)),
			OtherConfig:           br.OtherConfig,
			Ports:                 map[string]PortSpec{},
		}
		if spec.DatapathType == "" || spec.DatapathType == "system" {
			spec.DatapathType = UserspaceDatapath
		}
		if br.FailMode != nil {
			spec.FailMode = *br.FailMode
		}
		for _, cu := range br.Controller {
			if c := s.Controllers[cu]; c != nil {
				cs := controllerSpec(c.Target, c.ConnectionMode, c.MaxBackoff, c.InactivityProbe, c.OtherConfig)
				if strings.HasPrefix(cs.Target, "ssl:") || strings.HasPrefix(cs.Target, "pssl:") {
					cs.SSL = ssl
				}
				spec.Controllers = append(spec.Controllers, cs)
			}
		}
		sort.Slice(spec.Controllers, func(i, j int) bool { return spec.Controllers[i].Target < spec.Controllers[j].Target })

		ports := slices.Clone(br.Ports)
		sort.Slice(ports, func(i, j int) bool { return portName(s, ports[i]) < portName(s, ports[j]) })
		for _, pu := range ports {
			p := s.Ports[pu]
			if p == nil {
				continue
			}
			if _, dup := spec.Ports[p.Name]; dup {
				continue
			}
			ps := PortSpec{
				Name:        p.Name,
				OtherConfig: p.OtherConfig,
				Interfaces:  map[string]InterfaceSpec{},
			}
			if p.Tag != nil && *p.Tag >= 0 && *p.Tag <= 4095 {
				ps.Tag, ps.Tagged = uint16(*p.Tag), true
			}
			for _, t := range p.Trunks {
				if t >= 0 && t <= 4095 {
					ps.Trunks = append(ps.Trunks, uint16(t))
				}
			}
			slices.Sort(ps.Trunks)
			if p.VLANMode != nil {
				ps.VLANMode = *p.VLANMode
			}
			for _, iu := range p.Interfaces {
				in := s.Interfaces[iu]
				if in == nil {
					continue
				}
				where := br.Name + "/" + p.Name
				if prev, taken := owner[in.Name]; taken {
					if prev != where {
						cfg.Rejected[in.Name] = fmt.Sprintf("interface %s is already in port %s", in.Name, prev)
					}
					continue
				}
				owner[in.Name] = where
				is := InterfaceSpec{
					Name:        in.Name,
					Type:        in.Type,
					Options:     in.Options,
					OtherConfig: in.OtherConfig,
				}
				if in.OfportRequest != nil && *in.OfportRequest > 0 {
					is.OFPortRequest = uint32(*in.OfportRequest)
				}
				if in.Ofport != nil && *in.Ofport > 0 {
					is.OFPortHint = uint32(*in.Ofport)
				}
				if in.MTURequest != nil {
					is.MTURequest = *in.MTURequest
				}
				if in.MAC != nil {
					mac, err := net.ParseMAC(*in.MAC)
					if err != nil || len(mac) != 6 {
						cfg.Rejected[in.Name] = fmt.Sprintf("interface %s: invalid mac %q", in.Name, *in.MAC)
						delete(owner, in.Name)
						continue
					}
					is.MAC = mac
				}
				ps.Interfaces[in.Name] = is
			}
			// A port with no usable interface does not exist for the
			// switch, as in OVS.
			if len(ps.Interfaces) > 0 {
				spec.Ports[p.Name] = ps
			}
		}
		cfg.Bridges[br.Name] = spec
	}
	return cfg
}

func controllerSpec(target string, mode *string, backoff, probe *int, oc map[string]string) ControllerSpec {
	c := ControllerSpec{Target: target, OtherConfig: oc, InactivityProbe: ProbeUnset}
	if mode != nil {
		c.ConnectionMode = *mode
	}
	if backoff != nil {
		c.MaxBackoff = *backoff
	}
	if probe != nil {
		c.InactivityProbe = *probe
	}
	return c
}

// sslSpec is the SSL row Open_vSwitch.ssl points at, or nil.
func sslSpec(s *ovsdb.Snapshot) *SSLSpec {
	if s.Root.SSL == nil {
		return nil
	}
	r := s.SSL[*s.Root.SSL]
	if r == nil {
		return nil
	}
	return &SSLSpec{PrivateKey: r.PrivateKey, Certificate: r.Certificate, CACert: r.CaCert, BootstrapCACert: r.BootstrapCaCert}
}

func sortedBridges(s *ovsdb.Snapshot) []string {
	uuids := slices.Clone(s.Root.Bridges)
	sort.Slice(uuids, func(i, j int) bool {
		bi, bj := s.Bridges[uuids[i]], s.Bridges[uuids[j]]
		if bi == nil || bj == nil {
			return bi != nil
		}
		return bi.Name < bj.Name
	})
	out := uuids[:0]
	for _, u := range uuids {
		if s.Bridges[u] != nil {
			out = append(out, u)
		}
	}
	return out
}

func portName(s *ovsdb.Snapshot, uuid string) string {
	if p := s.Ports[uuid]; p != nil {
		return p.Name
	}
	return ""
}
