package ofproto

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/govs/govs/internal/dpif"
)

// Ofproto is the set of bridges that share one datapath (OVS's
// ofproto-dpif backer). It implements dpif.Upcaller: the datapath's misses,
// packet-ins and revalidations all come here, and it finds the bridge a
// packet belongs to from the datapath port it came in on.
//
// The mapping from datapath ports to (bridge, OpenFlow port) is derived
// from the bridges' ports (Port.ODPPort) and rebuilt whenever a bridge's
// Version moves, so the integrator only adds ports to bridges.
//
// Lock order: Ofproto.mu, then bridges' read locks in name order (a
// translation that crosses patch ports holds them all), then the MAC
// tables' and the xcache's own mutexes.
type Ofproto struct {
	opts Options

	mu      sync.Mutex // serialises bridge set changes and port map rebuilds
	bridges map[string]*bridgeState
	ports   atomic.Pointer[portMap]

	xc       xcache
	cookies  cookieTable
	ctxPool  sync.Pool
	macSeq   atomic.Uint64
	learns   learnQueue // learned flow-mods waiting to be applied (learn.go)
	rebuilds atomic.Uint64
	// bridgeChanges counts changes of every bridge ever added (Bridge.bump).
	bridgeChanges atomic.Uint64
}

var _ dpif.Upcaller = (*Ofproto)(nil)

// Options configure an Ofproto.
type Options struct {
	// MACAgingTime is how long a learned MAC lives without traffic
	// (OVS's other_config:mac-aging-time); 0 means 300 s.
	MACAgingTime time.Duration
	// MACTableSize bounds each bridge's MAC table (other_config:
	// mac-table-size); 0 means 2048.
	MACTableSize int
	// MaxResubmitDepth bounds nested resubmits, goto-tables, patch ports
	// and groups (OVS's 64).
	MaxResubmitDepth int
	// MaxResubmits bounds the total number of table lookups of one
	// translation (OVS's 4096).
	MaxResubmits int

	// OnPacketIn receives packet-ins. It is called from PMD goroutines
	// and must not block.
	OnPacketIn func(bridge string, pi *PacketIn)
	// MeterID maps a bridge's OpenFlow meter to the datapath meter that
	// implements it; ok false leaves the meter out (no such meter). The
	// integrator configures the datapath meters.
	MeterID func(bridge string, meter uint32) (dpMeter uint32, ok bool)
	// OnMACChange, if set, is called (with no lock held) when MAC learning
	// changed an answer NORMAL gives: a new, moved or expired address.
	// The integrator kicks the revalidator there. It must not block.
	OnMACChange func()
	// Now returns the time; tests replace it.
	Now func() time.Time
}

// Default translation limits, as OVS's MAX_DEPTH and MAX_RESUBMITS.
const (
	DefaultMaxResubmitDepth = 64
	DefaultMaxResubmits     = 4096
)

// bridgeState is what Ofproto keeps per bridge beside the Bridge itself.
type bridgeState struct {
	b   *Bridge
	mac *MACTable
}

// portLoc is where a datapath port or a port name lives.
type portLoc struct {
	bs     *bridgeState
	ofport uint32
}

// portMap is an immutable snapshot of every bridge's ports.
type portMap struct {
	bridges  []*bridgeState // by name: the lock order
	versions []uint64       // bridges[i].b.portsVersion when built
	byODP    map[uint32]portLoc
	byName   map[string]portLoc
	ports    map[*Bridge][]*Port // by OpenFlow port number
}

// New returns an Ofproto with no bridges.
func New(opts Options) *Ofproto {
	if opts.MACAgingTime <= 0 {
		opts.MACAgingTime = DefaultMACAgingTime * time.Second
	}
	if opts.MACTableSize <= 0 {
		opts.MACTableSize = DefaultMACTableSize
	}
	if opts.MaxResubmitDepth <= 0 {
		opts.MaxResubmitDepth = DefaultMaxResubmitDepth
	}
	if opts.MaxResubmits <= 0 {
		opts.MaxResubmits = DefaultMaxResubmits
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	o := &Ofproto{opts: opts, bridges: map[string]*bridgeState{}}
	o.ctxPool.New = func() any { return new(xlateCtx) }
	o.cookies.index = map[ctrlCookie]uint32{}
	o.rebuild()
	return o
}

// AddBridge adds b (replacing a bridge of the same name).
func (o *Ofproto) AddBridge(b *Bridge) {
	o.mu.Lock()
	defer o.mu.Unlock()
	sec := int(o.opts.MACAgingTime / time.Second)
	b.changes.Store(&o.bridgeChanges)
	o.bridges[b.Name()] = &bridgeState{b: b, mac: NewMACTable(sec, o.opts.MACTableSize)}
	o.rebuildLocked()
}

// DelBridge removes the bridge called name.
func (o *Ofproto) DelBridge(name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.bridges, name)
	o.rebuildLocked()
}

// Bridge returns the bridge called name, or nil.
func (o *Ofproto) Bridge(name string) *Bridge {
	o.mu.Lock()
	defer o.mu.Unlock()
	if bs := o.bridges[name]; bs != nil {
		return bs.b
	}
	return nil
}

// MACTable returns the MAC learning table of the bridge called name (for
// fdb/show and fdb/flush), or nil.
func (o *Ofproto) MACTable(name string) *MACTable {
	o.mu.Lock()
	defer o.mu.Unlock()
	if bs := o.bridges[name]; bs != nil {
		return bs.mac
	}
	return nil
}

// MACSeq changes whenever MAC learning changed a NORMAL answer; a
// revalidator that saw the same value twice need not revalidate for MACs.
func (o *Ofproto) MACSeq() uint64 { return o.macSeq.Load() }

// Run does periodic housekeeping: it expires idle MAC entries. The
// integrator calls it about once a second.
func (o *Ofproto) Run() {
	pm := o.ports.Load()
	now := o.opts.Now().UnixNano()
	n := 0
	for _, bs := range pm.bridges {
		n += bs.mac.Expire(now)
	}
	if n > 0 {
		o.macChanged()
	}
}

func (o *Ofproto) macChanged() {
	o.macSeq.Add(1)
	if o.opts.OnMACChange != nil {
		o.opts.OnMACChange()
	}
}

// epoch summarises everything translation reads that can change: every
// bridge's changes (rules, groups, meters, ports, their state), the set of
// bridges (port map rebuilds) and MAC learning. Each part is a counter
// that only grows, so the sum grows whenever any part does and never
// comes back to a value it had (a sum of the bridges' own versions would
// fall when a bridge is deleted). It is 1 or more.
func (o *Ofproto) epoch() uint64 {
	return o.macSeq.Load() + o.rebuilds.Load() + o.bridgeChanges.Load()
}

// portsFresh returns a port map that matches every bridge's current
// ports, rebuilding it if a bridge's ports changed. It takes bridges' read locks
// briefly, so it must be called with none held.
func (o *Ofproto) portsFresh() *portMap {
	pm := o.ports.Load()
	if pm.fresh() {
		return pm
	}
	return o.rebuild()
}

func (pm *portMap) fresh() bool {
	for i, bs := range pm.bridges {
		if bs.b.portsVersion.Load() != pm.versions[i] {
			return false
		}
	}
	return true
}

func (o *Ofproto) rebuild() *portMap {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.rebuildLocked()
}

func (o *Ofproto) rebuildLocked() *portMap {
	o.rebuilds.Add(1)
	pm := &portMap{
		byODP:  map[uint32]portLoc{},
		byName: map[string]portLoc{},
		ports:  map[*Bridge][]*Port{},
	}
	for _, bs := range o.bridges {
		pm.bridges = append(pm.bridges, bs)
	}
	sort.Slice(pm.bridges, func(i, j int) bool { return pm.bridges[i].b.Name() < pm.bridges[j].b.Name() })
	for _, bs := range pm.bridges {
		// The version is read before the ports: a change in between
		// makes the snapshot look stale, never fresh.
		pm.versions = append(pm.versions, bs.b.portsVersion.Load())
		ports := bs.b.Ports()
		pm.ports[bs.b] = ports
		for _, p := range ports {
			loc := portLoc{bs, p.OFPort}
			if p.ODPPort != NoODPPort {
				pm.byODP[p.ODPPort] = loc
			}
			pm.byName[p.Name] = loc
		}
	}
	o.ports.Store(pm)
	return pm
}

// lockAll read-locks every bridge in name order and returns a port map
// that is current under those locks.
func (o *Ofproto) lockAll() *portMap {
	for {
		pm := o.portsFresh()
		for _, bs := range pm.bridges {
			bs.b.RLock()
		}
		if pm.fresh() && pm == o.ports.Load() {
			return pm
		}
		unlockAll(pm)
	}
}

func unlockAll(pm *portMap) {
	for i := len(pm.bridges) - 1; i >= 0; i-- {
		pm.bridges[i].b.RUnlock()
	}
}

func (pm *portMap) stateByName(name string) *bridgeState {
	for _, bs := range pm.bridges {
		if bs.b.Name() == name {
			return bs
		}
	}
	return nil
}
