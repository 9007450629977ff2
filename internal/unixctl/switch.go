package unixctl

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/govs/govs/internal/dpif"
	"github.com/govs/govs/internal/ofproto"
)

// Switch is what the switch commands inspect; *bridge.Switch implements it.
type Switch interface {
	Ofproto() *ofproto.Ofproto
	Datapath() *dpif.Datapath
	Bridges() []string
	Bridge(name string) *ofproto.Bridge
}

// The datapath's name, as OVS names its userspace datapath, so that
// `dpctl/show` and the dp arguments of dpif-netdev/* read as with OVS.
const (
	dpName     = "ovs-netdev"
	dpFullName = "netdev@ovs-netdev"
)

// switchCmds holds the state the switch commands share.
type switchCmds struct {
	sw Switch

	mu      sync.Mutex
	cleared time.Time // start of the pmd-perf-show measurement // +checklocks:mu
	now     func() time.Time
}

// RegisterSwitch adds the datapath, OpenFlow and MAC learning commands, and
// the switch's coverage counters and memory/show figures.
func RegisterSwitch(s *Server, sw Switch) {
	c := &switchCmds{sw: sw, now: time.Now}
	c.cleared = c.now()
	for _, cmd := range []Command{
		{Name: "dpif-netdev/pmd-stats-show", Usage: "[-pmd core] [dp]", MaxArgs: 3, Run: c.pmdStatsShow},
		{Name: "dpif-netdev/pmd-stats-clear", Usage: "[-pmd core] [dp]", MaxArgs: 3, Run: c.pmdStatsClear},
		{Name: "dpif-netdev/pmd-perf-show", Usage: "[-pmd core] [dp]", MaxArgs: 3, Run: c.pmdPerfShow},
		{Name: "dpif-netdev/pmd-rxq-show", Usage: "[-pmd core] [-secs secs] [dp]", MaxArgs: 5, Run: c.pmdRxqShow},
		{Name: "dpif-netdev/pmd-rxq-rebalance", Usage: "[dp]", MaxArgs: 1, Run: c.pmdRxqRebalance},
		{Name: "dpif-netdev/pmd-sleep-show", Usage: "[dp]", MaxArgs: 1, Run: c.pmdSleepShow},
		{Name: "dpctl/show", Usage: "[-s] [dp...]", MaxArgs: Unlimited, Run: c.dpctlShow},
		{Name: "dpctl/dump-flows", Usage: "[-m] [--names] [dp] [filter=..] [type=..] [pmd=..]", MaxArgs: 6, Run: c.dpctlDumpFlows},
		{Name: "dpctl/del-flows", Usage: "[dp]", MaxArgs: 1, Run: c.dpctlDelFlows},
		{Name: "ofproto/trace", Usage: "bridge br_flow [-generate|packet]", MinArgs: 1, MaxArgs: 3, Run: c.ofprotoTrace},
		{Name: "fdb/show", Usage: "bridge", MinArgs: 1, MaxArgs: 1, Run: c.fdbShow},
		{Name: "fdb/flush", Usage: "[bridge]", MaxArgs: 1, Run: c.fdbFlush},
		{Name: "bridge/dump-flows", Usage: "[--offload-stats] bridge", MinArgs: 1, MaxArgs: 2, Run: c.bridgeDumpFlows},
		{Name: "govs/top-stats", Usage: "[max-flows]", MaxArgs: 1, Run: c.topStats},
	} {
		s.Register(cmd)
	}
	s.AddCounters(c.counters)
	s.AddMemory(c.memory)
	registerCapture(s, sw)
}

// checkDP accepts the names OVS tools use for the one datapath.
func checkDP(name string) bool { return name == dpName || name == dpFullName }

// odpPorts maps datapath port numbers to interface names.
func (c *switchCmds) odpPorts() map[uint32]string {
	m := map[uint32]string{}
	for _, p := range c.sw.Datapath().PortEntries() {
		m[p.No] = p.Dev.Name()
	}
	return m
}

func (c *switchCmds) portNamer() func(uint32) string {
	names := c.odpPorts()
	return func(n uint32) string {
		if s, ok := names[n]; ok {
			return s
		}
		return strconv.FormatUint(uint64(n), 10)
	}
}

// bridge returns the named bridge's OpenFlow model or an error in OVS's
// words for an unknown bridge.
func (c *switchCmds) bridge(name, unknown string) (*ofproto.Bridge, error) {
	if b := c.sw.Bridge(name); b != nil {
		return b, nil
	}
	return nil, fmt.Errorf("%s", unknown)
}

// counters are the switch's coverage/show counters: datapath totals kept
// per PMD as plain integers and summed here.
func (c *switchCmds) counters(add func(string, uint64)) {
	var t dpif.PMDStats
	for _, p := range c.sw.Datapath().PMDCounters() {
		t.Packets += p.Packets
		t.EMCHits += p.EMCHits
		t.MegaflowHits += p.MegaflowHits
		t.Upcalls += p.Upcalls
		t.Lost += p.Lost
		t.DropNoPort += p.DropNoPort
		t.DropPoolEmpty += p.DropPoolEmpty
		t.DropAction += p.DropAction
		t.DropMeter += p.DropMeter
		t.DropUnsupported += p.DropUnsupported
		t.DropTxFailed += p.DropTxFailed
		t.DropNoActions += p.DropNoActions
		t.DropUpcallLost += p.DropUpcallLost
	}
	add("netdev_received", t.Packets)
	add("dpif_emc_hit", t.EMCHits)
	add("dpif_megaflow_hit", t.MegaflowHits)
	add("dpif_upcall", t.Upcalls)
	add("dpif_upcall_lost", t.Lost)
	add("datapath_drop_invalid_port", t.DropNoPort)
	add("datapath_drop_pool_empty", t.DropPoolEmpty)
	add("datapath_drop_action_error", t.DropAction)
	add("datapath_drop_meter", t.DropMeter)
	add("datapath_drop_unsupported", t.DropUnsupported)
	add("datapath_drop_tx_failed", t.DropTxFailed)
	add("drop_action_of_pipeline", t.DropNoActions)
	add("datapath_drop_upcall_error", t.DropUpcallLost)
	// learn actions: flow-mods handed off by translation, those dropped
	// because the queue was full, and what applying them did.
	queued, dropped, added, refreshed, failed := c.sw.Ofproto().LearnStats()
	add("learn_queued", queued)
	add("learn_dropped", dropped)
	add("learn_added", added)
	add("learn_refreshed", refreshed)
	add("learn_failed", failed)
}

// memory reports sizes for memory/show.
func (c *switchCmds) memory(add func(string, uint64)) {
	dp := c.sw.Datapath()
	add("megaflows", uint64(dp.NumFlows()))
	add("ports", uint64(len(dp.PortEntries())))
	add("pmds", uint64(len(dp.PMDStats())-1))
	add("xcache", uint64(c.sw.Ofproto().XCacheLen()))
	var rules, macs uint64
	for _, name := range c.sw.Bridges() {
		if b := c.sw.Bridge(name); b != nil {
			rules += uint64(countRules(b))
		}
		if mt := c.sw.Ofproto().MACTable(name); mt != nil {
			macs += uint64(mt.Len())
		}
	}
	add("rules", rules)
	add("mac-entries", macs)
}

// countRules counts a bridge's rules without copying them.
func countRules(b *ofproto.Bridge) int {
	b.RLock()
	defer b.RUnlock()
	n := 0
	for id := range ofproto.MaxTables {
		if t := b.Table(uint8(id)); t != nil {
			n += t.Len()
		}
	}
	return n
}
