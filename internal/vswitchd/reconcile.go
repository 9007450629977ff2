package vswitchd

import (
	"log/slog"
	"maps"
	"slices"
)

// ifaceResult is what became of one interface of the desired state.
type ifaceResult struct {
	bridge string
	ofport uint32
	err    string // non-empty: not in the switch, shown in Interface.error
}

// Reconciler keeps a Switch at the desired Config. It remembers what the
// switch has (applied), which is the desired state minus whatever failed, so
// that a failed bridge or interface is tried again on the next pass.
//
// Only the reconfiguration goroutine uses a Reconciler.
type Reconciler struct {
	sw  Switch
	log *slog.Logger

	applied   Config
	otherSet  bool
	bridgeErr map[string]string
	results   map[string]ifaceResult // by interface name
}

// NewReconciler returns a Reconciler for a switch that has nothing yet.
func NewReconciler(sw Switch, log *slog.Logger) *Reconciler {
	if log == nil {
		log = slog.Default()
	}
	return &Reconciler{
		sw:        sw,
		log:       log,
		applied:   Config{Bridges: map[string]BridgeSpec{}},
		bridgeErr: map[string]string{},
		results:   map[string]ifaceResult{},
	}
}

// Reconcile moves the switch from the applied state to next, calling the
// Switch only for what differs, in this order:
//
//  1. SetOtherConfig, if Open_vSwitch.other_config changed (always on the
//     first pass).
//  2. DelBridge for bridges gone or whose datapath type changed.
//  3. DelInterface for interfaces gone from a remaining bridge, moved to
//     another port, or whose type changed.
//  4. Per bridge, by name: AddBridge or ReconfigureBridge; then per port,
//     by name: ReconfigurePort for an existing port whose fields changed;
//     then per interface (the bridge's own interface first, then by name):
//     AddInterface or ReconfigureInterface.
func (r *Reconciler) Reconcile(next Config) {
	if !r.otherSet || !maps.Equal(r.applied.OtherConfig, next.OtherConfig) {
		if err := r.sw.SetOtherConfig(next.OtherConfig); err != nil {
			r.log.Warn("other_config", "err", err)
		}
		r.otherSet = true
		r.applied.OtherConfig = next.OtherConfig
	}
	r.applied.NextCfg = next.NextCfg
	r.applied.Rejected = next.Rejected

	r.deleteStale(next)

	results := map[string]ifaceResult{}
	for name, reason := range next.Rejected {
		results[name] = ifaceResult{err: reason}
	}
	for _, bname := range slices.Sorted(maps.Keys(next.Bridges)) {
		r.applyBridge(next.Bridges[bname], results)
	}
	r.results = results
}

// deleteStale runs steps 2 and 3.
func (r *Reconciler) deleteStale(next Config) {
	for _, bname := range slices.Sorted(maps.Keys(r.applied.Bridges)) {
		old := r.applied.Bridges[bname]
		nb, keep := next.Bridges[bname]
		if !keep || nb.DatapathType != old.DatapathType {
			r.log.Info("deleting bridge", "bridge", bname)
			r.sw.DelBridge(bname)
			delete(r.applied.Bridges, bname)
			continue
		}
		for _, pname := range slices.Sorted(maps.Keys(old.Ports)) {
			op := old.Ports[pname]
			np := nb.Ports[pname]
			for _, iname := range slices.Sorted(maps.Keys(op.Interfaces)) {
				ni, ok := np.Interfaces[iname]
				if ok && ni.Type == op.Interfaces[iname].Type {
					continue
				}
				r.log.Info("deleting interface", "bridge", bname, "port", pname, "interface", iname)
				r.sw.DelInterface(bname, iname)
				delete(op.Interfaces, iname)
			}
			if len(op.Interfaces) == 0 {
				delete(old.Ports, pname)
			}
		}
	}
}

// applyBridge runs step 4 for one bridge.
func (r *Reconciler) applyBridge(nb BridgeSpec, results map[string]ifaceResult) {
	ab, exists := r.applied.Bridges[nb.Name]
	switch {
	case !exists:
		r.log.Info("adding bridge", "bridge", nb.Name, "datapath_type", nb.DatapathType)
		if err := r.sw.AddBridge(withoutPorts(nb)); err != nil {
			r.log.Warn("add bridge", "bridge", nb.Name, "err", err)
			r.bridgeErr[nb.Name] = err.Error()
			for _, p := range nb.Ports {
				for iname := range p.Interfaces {
					results[iname] = ifaceResult{bridge: nb.Name, err: "bridge " + nb.Name + ": " + err.Error()}
				}
			}
			return
		}
		delete(r.bridgeErr, nb.Name)
		ab = withoutPorts(nb)
		ab.Ports = map[string]PortSpec{}
	case !ab.sameBridgeFields(nb):
		r.log.Info("reconfiguring bridge", "bridge", nb.Name)
		if err := r.sw.ReconfigureBridge(withoutPorts(nb)); err != nil {
			r.log.Warn("reconfigure bridge", "bridge", nb.Name, "err", err)
		}
		ports := ab.Ports
		ab = withoutPorts(nb)
		ab.Ports = ports
	}
	r.applied.Bridges[nb.Name] = ab

	for _, pname := range slices.Sorted(maps.Keys(nb.Ports)) {
		np := nb.Ports[pname]
		ap, portExists := ab.Ports[pname]
		if portExists && !ap.samePortFields(np) {
			r.log.Info("reconfiguring port", "bridge", nb.Name, "port", pname)
			if err := r.sw.ReconfigurePort(nb.Name, withoutInterfaces(np)); err != nil {
				r.log.Warn("reconfigure port", "bridge", nb.Name, "port", pname, "err", err)
			}
		}
		if !portExists {
			ap.Interfaces = map[string]InterfaceSpec{}
		}
		ifaces := ap.Interfaces
		ap = withoutInterfaces(np)
		ap.Interfaces = ifaces

		for _, iname := range interfaceOrder(nb.Name, np) {
			ni := np.Interfaces[iname]
			ai, ifaceExists := ap.Interfaces[iname]
			prev := r.results[iname]
			switch {
			case !ifaceExists:
				ofport, err := r.sw.AddInterface(nb.Name, withoutInterfaces(np), ni)
				if err != nil {
					r.log.Warn("add interface", "bridge", nb.Name, "interface", iname, "err", err)
					results[iname] = ifaceResult{bridge: nb.Name, err: err.Error()}
					continue
				}
				r.log.Info("added interface", "bridge", nb.Name, "port", pname, "interface", iname, "ofport", ofport)
				ap.Interfaces[iname] = ni
				results[iname] = ifaceResult{bridge: nb.Name, ofport: ofport}
			case !ai.sameConfig(ni):
				ofport, err := r.sw.ReconfigureInterface(nb.Name, withoutInterfaces(np), ni)
				if err != nil {
					r.log.Warn("reconfigure interface", "bridge", nb.Name, "interface", iname, "err", err)
					delete(ap.Interfaces, iname)
					results[iname] = ifaceResult{bridge: nb.Name, err: err.Error()}
					continue
				}
				r.log.Info("reconfigured interface", "bridge", nb.Name, "interface", iname, "ofport", ofport)
				ap.Interfaces[iname] = ni
				results[iname] = ifaceResult{bridge: nb.Name, ofport: ofport}
			default:
				results[iname] = prev
			}
		}
		if len(ap.Interfaces) > 0 {
			ab.Ports[pname] = ap
		} else {
			delete(ab.Ports, pname)
		}
	}
}

// interfaceOrder puts the bridge's own interface first, so it gets
// OFPP_LOCAL before anything else could claim the name, then the rest by
// name.
func interfaceOrder(bridge string, p PortSpec) []string {
	names := slices.Sorted(maps.Keys(p.Interfaces))
	if i := slices.Index(names, bridge); i > 0 {
		copy(names[1:i+1], names[:i])
		names[0] = bridge
	}
	return names
}

func withoutPorts(b BridgeSpec) BridgeSpec {
	b.Ports = nil
	return b
}

func withoutInterfaces(p PortSpec) PortSpec {
	p.Interfaces = nil
	return p
}

// Applied returns the state the switch is in, as far as the Reconciler
// knows. The caller must not modify it.
func (r *Reconciler) Applied() Config { return r.applied }
