// Package bridge is the live switch: it implements vswitchd.Switch over the
// datapath (dpif), the OpenFlow model (ofproto) and the port types
// (netdev), the way OVS's vswitchd/bridge.c sits on ofproto and dpif.
//
// One Switch owns one datapath shared by every bridge, as OVS's netdev
// datapath is. Each interface gets a datapath port number (odp port) and an
// OpenFlow port number on its bridge; patch ports get only the latter,
// because translation crosses them without a datapath hop.
//
// Changes to a bridge's tables or ports call Bridge.OnChange, which
// revalidates the datapath synchronously: when a control-plane call
// returns, every packet obeys the new state.
//
// Locks: mu serialises configuration calls (vswitchd calls one at a time,
// the OpenFlow agent and unixctl may call concurrently) and guards the
// bridge and interface maps. It is never taken on the packet path.
package bridge

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/bits"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/govs/govs/internal/dpif"
	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/odp"
	"github.com/govs/govs/internal/ofproto"
	"github.com/govs/govs/internal/vswitchd"
)

// Options configure a Switch.
type Options struct {
	// RunDir is OVS_RUNDIR (vhost-user sockets, management sockets).
	RunDir string
	Log    *slog.Logger
	// Datapath is the initial datapath configuration; other_config
	// changes it later.
	Datapath dpif.Config
	// Version is reported in OpenFlow's description (OFPMP_DESC).
	Version string
}

// Switch is the live switch.
type Switch struct {
	opts Options
	log  *slog.Logger
	ofp  *ofproto.Ofproto
	dp   *dpif.Datapath

	mu      sync.Mutex
	bridges map[string]*bridge // +checklocks:mu
	// byName mirrors bridges for lookups from translation (PMD
	// goroutines), which must never wait for mu: a configuration call
	// holding mu may be waiting for the PMDs in Revalidate.
	byName  sync.Map          // string -> *bridge
	odpUsed map[uint32]bool   // +checklocks:mu
	other   map[string]string // +checklocks:mu

	nextMeter atomic.Uint32 // datapath meter ids, shared by all bridges

	// changes lets an OpenFlow barrier skip revalidating when every
	// change is already in force (barrier.go).
	changes changeSync

	revalKick chan struct{}
	stop      chan struct{}
	done      sync.WaitGroup
}

var _ vswitchd.Switch = (*Switch)(nil)

// New creates a switch with no bridges and starts its datapath.
func New(opts Options) (*Switch, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	s := &Switch{
		opts:      opts,
		log:       opts.Log,
		bridges:   map[string]*bridge{},
		odpUsed:   map[uint32]bool{},
		revalKick: make(chan struct{}, 1),
		stop:      make(chan struct{}),
	}
	s.ofp = ofproto.New(ofproto.Options{
		OnPacketIn: s.packetIn,
		OnMACChange: func() {
			select {
			case s.revalKick <- struct{}{}:
			default:
			}
		},
		MeterID: s.meterID,
	})
	if len(opts.Datapath.PMDCPUs) == 0 {
		opts.Datapath.PMDCPUs = []int{lastOnlineCPU()}
	}
	if opts.Datapath.Log == nil {
		opts.Datapath.Log = opts.Log
	}
	dp, err := dpif.New(opts.Datapath, s.ofp)
	if err != nil {
		return nil, err
	}
	s.dp = dp
	s.changes.revalidate = dp.Revalidate
	if err := dp.Start(); err != nil {
		dp.Close()
		return nil, err
	}
	s.done.Add(1)
	go s.housekeeping()
	return s, nil
}

// Ofproto returns the OpenFlow model (for the OpenFlow agent and unixctl).
func (s *Switch) Ofproto() *ofproto.Ofproto { return s.ofp }

// Datapath returns the datapath (for unixctl and metrics).
func (s *Switch) Datapath() *dpif.Datapath { return s.dp }

// Close removes every bridge (closing ports, which removes XDP programs and
// TAPs govs created) and stops the datapath.
func (s *Switch) Close() {
	close(s.stop)
	s.done.Wait()
	s.mu.Lock()
	names := slices.Sorted(maps.Keys(s.bridges))
	s.mu.Unlock()
	for _, n := range names {
		s.DelBridge(n)
	}
	s.dp.Close()
}

// housekeeping runs MAC aging, rule expiry, link-state polling and the
// revalidations MAC learning asks for.
func (s *Switch) housekeeping() {
	defer s.done.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-s.revalKick:
			s.dp.Revalidate()
		case now := <-tick.C:
			s.ofp.Run()
			s.pollLinks()
			s.expireRules(now)
		}
	}
}

// DatapathTypes implements vswitchd.Switch.
func (s *Switch) DatapathTypes() []string { return []string{"netdev", "system"} }

// InterfaceTypes implements vswitchd.Switch.
func (s *Switch) InterfaceTypes() []string {
	return slices.Sorted(slices.Values(append(netdev.Types(), "patch")))
}

// SetOtherConfig implements vswitchd.Switch: Open_vSwitch other_config.
func (s *Switch) SetOtherConfig(oc map[string]string) error {
	s.mu.Lock()
	old := s.other
	s.other = maps.Clone(oc)
	s.mu.Unlock()
	var errs []error
	if oc["pmd-cpu-mask"] != old["pmd-cpu-mask"] {
		cpus, err := parseCPUMask(oc["pmd-cpu-mask"])
		if err != nil {
			errs = append(errs, err)
		} else {
			if len(cpus) == 0 {
				cpus = []int{lastOnlineCPU()}
			}
			if err := s.dp.SetPMDCPUs(cpus); err != nil {
				errs = append(errs, fmt.Errorf("pmd-cpu-mask: %w", err))
			}
		}
	}
	t, err := tunablesFrom(oc, s.opts.Datapath)
	if err != nil {
		errs = append(errs, err)
	}
	s.dp.SetTunables(t)
	// hw-offload, as OVS reads it: "true" or not. The kernel forwards
	// megaflows that cross-connect two ports (dpif/offload.go).
	s.dp.SetOffload(oc["hw-offload"] == "true")
	if oc["pmd-rxq-affinity"] != old["pmd-rxq-affinity"] {
		s.mu.Lock()
		for _, b := range s.bridges {
			for _, i := range b.ifaces {
				s.applyRxqAffinityLocked(i)
			}
		}
		s.mu.Unlock()
	}
	return errors.Join(errs...)
}

// parseCPUMask parses pmd-cpu-mask (hex, with or without 0x) into CPU ids.
func parseCPUMask(m string) ([]int, error) {
	m = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(m)), "0x")
	if m == "" {
		return nil, nil
	}
	var cpus []int
	for i := len(m) - 1; i >= 0; i-- {
		d, err := strconv.ParseUint(m[i:i+1], 16, 8)
		if err != nil {
			return nil, fmt.Errorf("pmd-cpu-mask: invalid hex digit %q", m[i])
		}
		base := (len(m) - 1 - i) * 4
		for d != 0 {
			b := bits.TrailingZeros64(d)
			cpus = append(cpus, base+b)
			d &^= 1 << b
		}
	}
	var valid []int
	for _, c := range cpus {
		if cpuOnline(c) {
			valid = append(valid, c)
		}
	}
	if len(valid) == 0 && len(cpus) > 0 {
		return nil, fmt.Errorf("pmd-cpu-mask: no CPU of %s exists on this machine", m)
	}
	return valid, nil
}

// lastOnlineCPU is where the default PMD runs (OVS's default too: one PMD
// on the last core). It is read from sysfs, not from runtime.NumCPU, which
// counts only the CPUs of the process's affinity mask: under `taskset -c 1`
// that would put the PMD on CPU 0.
func lastOnlineCPU() int {
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if last := lastCPUIn(string(b)); err == nil && last >= 0 {
		return last
	}
	return runtime.NumCPU() - 1
}

// lastCPUIn returns the highest CPU of a kernel CPU list ("0-3,8,10-11"),
// or -1.
func lastCPUIn(list string) int {
	last := -1
	for _, r := range strings.Split(strings.TrimSpace(list), ",") {
		_, hi, _ := strings.Cut(r, "-")
		if hi == "" {
			hi = r
		}
		if n, err := strconv.Atoi(hi); err == nil && n > last {
			last = n
		}
	}
	return last
}

// cpuOnline reports whether CPU c exists and is online on the machine.
// runtime.NumCPU is no test: it counts the CPUs of the process's affinity
// mask, so govs started under `taskset -c 0` (its other threads kept off
// the PMD's CPU, as OVS keeps its own with dpdk-lcore-mask) would refuse
// pmd-cpu-mask=0x2. A PMD may pin itself outside that mask.
func cpuOnline(c int) bool {
	dir := fmt.Sprintf("/sys/devices/system/cpu/cpu%d", c)
	if b, err := os.ReadFile(dir + "/online"); err == nil {
		return strings.TrimSpace(string(b)) == "1"
	}
	if _, err := os.Stat(dir); err == nil {
		return true // cpu0 often has no "online" file
	}
	return c < runtime.NumCPU() // no sysfs
}

// meterID maps a bridge's OpenFlow meter to a datapath meter: each bridge
// gets its own range of datapath meter ids.
func (s *Switch) meterID(br string, meter uint32) (uint32, bool) {
	v, ok := s.byName.Load(br)
	if !ok {
		return 0, false
	}
	id, ok := v.(*bridge).meters.Load(meter)
	if !ok {
		return 0, false
	}
	return id.(uint32), true
}

// Execute runs datapath actions on a packet outside the PMDs (packet-out).
func (s *Switch) Execute(pkt []byte, inPort uint32, acts odp.Actions) error {
	return s.dp.Execute(pkt, inPort, acts)
}
