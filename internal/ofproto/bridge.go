package ofproto

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Bridge is one OpenFlow switch: its ports, tables, groups and meters.
//
// Concurrency: control-plane calls (FlowMod, GroupMod, MeterMod, port
// changes, Expire) take the write lock for as long as the change takes,
// then bump Version and call OnChange and OnRemoved with no lock held.
// Translations (many upcall goroutines) hold the read lock (RLock/RUnlock)
// around a whole translation, so they see one consistent state. The point
// accessors Table, Port, PortByName, Group and Meter take no lock: callers
// hold RLock (a translation already does; a second RLock could deadlock
// behind a waiting writer). Ports, Flows and Aggregate take the read lock
// themselves and must not be called under it. Rule, group and meter
// counters are atomic and may be updated with no lock.
type Bridge struct {
	name string
	dpid atomic.Uint64

	mu     sync.RWMutex
	tables [MaxTables]*Table
	ports  map[uint32]*Port
	byName map[string]*Port
	groups map[uint32]*Group
	meters map[uint32]*Meter
	seq    uint64   // rule insertion counter
	undo   *undoLog // the running FlowMods transaction's, or nil
	// learnLeft: delete_learned cookies of instructions replaced since
	// the last commit (learn_delete.go).
	learnLeft []learnedCookie
	// deleteLearnedSeen: some instructions given a rule had a
	// delete_learned learn action. Until then no removal can untie a
	// learned rule, and flushLearnedLocked need not look at the rules
	// removed (a pass over 100 000 of them for a del-flows).
	deleteLearnedSeen bool

	version atomic.Uint64
	// portsVersion moves only when the set of ports or a port's name or
	// datapath number may have changed: Ofproto's port map is rebuilt on
	// that, not on every flow-mod.
	portsVersion atomic.Uint64
	// changes is the Ofproto's count of all its bridges' changes, once
	// the bridge is added to one (Ofproto.epoch).
	changes atomic.Pointer[atomic.Uint64]

	// OnChange, if set, is called after every change that may alter
	// translation (the integrator revalidates there, synchronously, so a
	// barrier reply means every packet obeys the new state).
	OnChange func()
	// OnRemoved, if set, receives the rules a FlowMod, GroupMod or
	// MeterMod removed (FLOW_REMOVED for those with FlagSendFlowRem).
	// Expire returns its rules instead.
	OnRemoved func([]Removed)

	// MaxGroups and MaxMeters bound the group and meter tables.
	MaxGroups, MaxMeters int

	// Now gives the time for Created/Modified stamps (tests replace it).
	Now func() time.Time
}

// NewBridge returns an empty bridge with all tables.
func NewBridge(name string) *Bridge {
	b := &Bridge{
		name:      name,
		ports:     map[uint32]*Port{},
		byName:    map[string]*Port{},
		groups:    map[uint32]*Group{},
		meters:    map[uint32]*Meter{},
		MaxGroups: 65536,
		MaxMeters: 65536,
		Now:       time.Now,
	}
	for i := range b.tables {
		b.tables[i] = newTable(uint8(i))
	}
	return b
}

// Name returns the bridge's name.
func (b *Bridge) Name() string { return b.name }

// DatapathID returns the OpenFlow datapath id.
func (b *Bridge) DatapathID() uint64 { return b.dpid.Load() }

// SetDatapathID sets the OpenFlow datapath id.
func (b *Bridge) SetDatapathID(id uint64) { b.dpid.Store(id) }

// RLock takes the read lock a translation holds.
func (b *Bridge) RLock() { b.mu.RLock() }

// RUnlock releases RLock.
func (b *Bridge) RUnlock() { b.mu.RUnlock() }

// Version counts changes that may alter translation; a cached translation
// made at an older version may be stale.
func (b *Bridge) Version() uint64 { return b.version.Load() }

// bump ends a change made under the write lock.
func (b *Bridge) bump() {
	b.version.Add(1)
	if c := b.changes.Load(); c != nil {
		c.Add(1)
	}
}

// Table returns table id, or nil if id is not a table (>= MaxTables).
// Caller holds RLock (see Bridge).
func (b *Bridge) Table(id uint8) *Table {
	if int(id) >= MaxTables {
		return nil
	}
	return b.tables[id]
}

// changed ends a write: it bumps the version, releases the lock and runs
// the hooks.
func (b *Bridge) changed(removed []Removed) {
	removed = append(removed, b.flushLearnedLocked(removed)...)
	b.bump()
	b.mu.Unlock()
	if len(removed) > 0 && b.OnRemoved != nil {
		b.OnRemoved(removed)
	}
	if b.OnChange != nil {
		b.OnChange()
	}
}

// AddPort adds p, assigning the lowest free OpenFlow port number if
// p.OFPort is 0. The bridge keeps p.
func (b *Bridge) AddPort(p *Port) error {
	b.mu.Lock()
	if err := b.addPortLocked(p); err != nil {
		b.mu.Unlock()
		return err
	}
	b.changed(nil)
	return nil
}

func (b *Bridge) addPortLocked(p *Port) error {
	if p.Name == "" {
		return fmt.Errorf("add port: empty name")
	}
	if _, ok := b.byName[p.Name]; ok {
		return fmt.Errorf("add port %s: name in use on bridge %s", p.Name, b.name)
	}
	if p.OFPort == 0 {
		n := uint32(1)
		for b.ports[n] != nil {
			n++
		}
		p.OFPort = n
	}
	if p.OFPort >= PortMax && p.OFPort != PortLocal {
		return fmt.Errorf("add port %s: invalid OpenFlow port %d", p.Name, p.OFPort)
	}
	if q, ok := b.ports[p.OFPort]; ok {
		return fmt.Errorf("add port %s: OpenFlow port %d in use by %s", p.Name, p.OFPort, q.Name)
	}
	p.refreshLive()
	b.ports[p.OFPort] = p
	b.byName[p.Name] = p
	b.portsVersion.Add(1)
	return nil
}

// DelPort removes port ofport, if present. Rules that output to it stay,
// as in OVS: the port may come back.
func (b *Bridge) DelPort(ofport uint32) {
	b.mu.Lock()
	p, ok := b.ports[ofport]
	if !ok {
		b.mu.Unlock()
		return
	}
	delete(b.ports, ofport)
	delete(b.byName, p.Name)
	b.portsVersion.Add(1)
	b.changed(nil)
}

// Port returns port ofport or nil. Caller holds RLock.
func (b *Bridge) Port(ofport uint32) *Port { return b.ports[ofport] }

// PortByName returns the port called name or nil. Caller holds RLock.
func (b *Bridge) PortByName(name string) *Port { return b.byName[name] }

// Ports returns the ports by OpenFlow port number. It takes the read lock.
func (b *Bridge) Ports() []*Port {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.portsLocked()
}

// PortsLocked is Ports for callers that hold RLock (flooding in xlate).
func (b *Bridge) PortsLocked() []*Port { return b.portsLocked() }

func (b *Bridge) portsLocked() []*Port {
	out := make([]*Port, 0, len(b.ports))
	for _, p := range b.ports {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OFPort < out[j].OFPort })
	return out
}

// SetPortState sets a port's operational state (link up/down, STP
// blocking). LIVE is derived. It reports whether the port exists.
func (b *Bridge) SetPortState(ofport uint32, state PortState) bool {
	b.mu.Lock()
	p := b.ports[ofport]
	if p == nil {
		b.mu.Unlock()
		return false
	}
	p.State = state &^ StateLive
	p.refreshLive()
	b.changed(nil)
	return true
}

// SetPortConfig changes the config bits selected by mask (OFPT_PORT_MOD).
func (b *Bridge) SetPortConfig(ofport uint32, config, mask PortConfig) error {
	b.mu.Lock()
	p := b.ports[ofport]
	if p == nil {
		b.mu.Unlock()
		return ofErr(ErrPortModFailed, PortModBadPort, "no port %d", ofport)
	}
	p.Config = p.Config&^mask | config&mask
	p.refreshLive()
	b.changed(nil)
	return nil
}

// UpdatePort changes a port under the write lock (OVSDB reconfiguration:
// VLAN settings, MAC, speeds). fn must not call back into the bridge.
func (b *Bridge) UpdatePort(ofport uint32, fn func(p *Port)) bool {
	b.mu.Lock()
	p := b.ports[ofport]
	if p == nil {
		b.mu.Unlock()
		return false
	}
	name := p.Name
	fn(p)
	if p.Name != name {
		delete(b.byName, name)
		b.byName[p.Name] = p
	}
	p.OFPort = ofport
	p.refreshLive()
	b.portsVersion.Add(1) // fn may have renamed it or changed its datapath port
	b.changed(nil)
	return true
}

// ConfigureTable sets a table's name and size limit (OVSDB Flow_Table);
// maxEntries <= 0 restores the default.
func (b *Bridge) ConfigureTable(id uint8, name string, maxEntries int) error {
	if int(id) >= MaxTables {
		return ofErr(ErrTableModFailed, TableModBadTable, "no table %d", id)
	}
	b.mu.Lock()
	t := b.tables[id]
	if name == "" {
		name = "table" + itoa(int(id))
	}
	t.Name = name
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	t.MaxEntries = maxEntries
	b.changed(nil)
	return nil
}

// SetTableConfig sets a table's config (OFPT_TABLE_MOD); TableAll sets
// every table.
func (b *Bridge) SetTableConfig(id uint8, config uint32) error {
	if id != TableAll && int(id) >= MaxTables {
		return ofErr(ErrTableModFailed, TableModBadTable, "no table %d", id)
	}
	b.mu.Lock()
	for _, t := range b.tables {
		if id == TableAll || t.ID == id {
			t.Config = config
		}
	}
	b.changed(nil)
	return nil
}

// Expire removes the rules whose idle or hard timeout passed at now and
// returns them (for FLOW_REMOVED). Rule.Used must be current: the
// revalidator pushes megaflow statistics first.
func (b *Bridge) Expire(now time.Time) []Removed {
	nowNS := now.UnixNano()
	b.mu.RLock()
	var out []Removed
	for _, t := range b.tables {
		if t.cls.n == 0 {
			continue
		}
		t.cls.eachTimed(func(r *Rule) {
			if r.HardTimeout != 0 && nowNS-r.Created.UnixNano() >= int64(r.HardTimeout)*int64(time.Second) {
				out = append(out, Removed{r, RemovedHardTimeout})
				return
			}
			if r.IdleTimeout != 0 {
				last := max(r.Used.Load(), r.Modified.UnixNano())
				if nowNS-last >= int64(r.IdleTimeout)*int64(time.Second) {
					out = append(out, Removed{r, RemovedIdleTimeout})
				}
			}
		})
	}
	b.mu.RUnlock()
	if len(out) == 0 {
		return nil
	}
	b.mu.Lock()
	kept := out[:0]
	for _, rm := range out {
		if !rm.Rule.IsRemoved() { // a FlowMod may have won the race
			b.removeRuleLocked(rm.Rule)
			kept = append(kept, rm)
		}
	}
	kept = append(kept, b.flushLearnedLocked(kept)...)
	b.bump()
	b.mu.Unlock()
	if b.OnChange != nil {
		b.OnChange()
	}
	return kept
}

// removeRuleLocked takes r out of its table.
func (b *Bridge) removeRuleLocked(r *Rule) {
	b.tables[r.Table].cls.remove(r)
	r.removed.Store(true)
}

// NextTimeout returns the soonest instant a rule could expire, or the zero
// time if no rule has a timeout (so the caller can sleep until then).
func (b *Bridge) NextTimeout() time.Time {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var next time.Time
	for _, t := range b.tables {
		t.cls.eachTimed(func(r *Rule) {
			var at time.Time
			if r.HardTimeout != 0 {
				at = r.Created.Add(time.Duration(r.HardTimeout) * time.Second)
			}
			if r.IdleTimeout != 0 {
				last := max(r.Used.Load(), r.Modified.UnixNano())
				idle := time.Unix(0, last).Add(time.Duration(r.IdleTimeout) * time.Second)
				if at.IsZero() || idle.Before(at) {
					at = idle
				}
			}
			if !at.IsZero() && (next.IsZero() || at.Before(next)) {
				next = at
			}
		})
	}
	return next
}
