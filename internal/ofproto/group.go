package ofproto

import (
	"sync/atomic"
	"time"
)

// GroupModCommand is ofp_group_mod_command.
type GroupModCommand uint8

const (
	GroupAdd    GroupModCommand = 0
	GroupModify GroupModCommand = 1
	GroupDelete GroupModCommand = 2
)

// GroupMod is a group table modification.
type GroupMod struct {
	Command GroupModCommand
	GroupSpec
}

// BucketStats counts one bucket's traffic.
type BucketStats struct {
	Packets atomic.Uint64
	Bytes   atomic.Uint64
}

// Group is a group in the bridge's group table. Spec changes only under
// the write lock (a modify replaces Spec and Buckets' statistics).
type Group struct {
	Spec    GroupSpec
	Created time.Time

	Packets atomic.Uint64
	Bytes   atomic.Uint64
	Buckets []BucketStats // one per Spec.Buckets entry
}

// Group returns group id or nil. Caller holds RLock.
func (b *Bridge) Group(id uint32) *Group { return b.groups[id] }

// Groups returns the group ids in ascending order. It takes the read lock.
func (b *Bridge) Groups() []*Group {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]*Group, 0, len(b.groups))
	for _, g := range b.groups {
		out = append(out, g)
	}
	sortGroups(out)
	return out
}

// GroupMod applies gm (OF1.3 §6.5).
func (b *Bridge) GroupMod(gm *GroupMod) error {
	b.mu.Lock()
	var removed []Removed
	var err error
	switch gm.Command {
	case GroupAdd, GroupModify:
		err = b.addOrModifyGroupLocked(gm)
	case GroupDelete:
		removed, err = b.deleteGroupLocked(gm.ID)
	default:
		err = ofErr(ErrGroupModFailed, GroupModBadCommand, "group-mod command %d", gm.Command)
	}
	if err != nil {
		b.mu.Unlock()
		return err
	}
	b.changed(removed)
	return nil
}

func (b *Bridge) addOrModifyGroupLocked(gm *GroupMod) error {
	if gm.ID > GroupMax {
		return ofErr(ErrGroupModFailed, GroupModInvalidGroup, "group id %#x", gm.ID)
	}
	old := b.groups[gm.ID]
	if gm.Command == GroupAdd && old != nil {
		return ofErr(ErrGroupModFailed, GroupModGroupExists, "group %d exists", gm.ID)
	}
	if gm.Command == GroupModify && old == nil {
		return ofErr(ErrGroupModFailed, GroupModUnknownGroup, "group %d", gm.ID)
	}
	if gm.Command == GroupAdd && len(b.groups) >= b.MaxGroups {
		return ofErr(ErrGroupModFailed, GroupModOutOfGroups, "%d groups", len(b.groups))
	}
	if err := b.validateGroupLocked(&gm.GroupSpec); err != nil {
		return err
	}
	spec := cloneGroupSpec(&gm.GroupSpec)
	g := &Group{Spec: spec, Created: b.Now(), Buckets: make([]BucketStats, len(spec.Buckets))}
	if old != nil {
		// A modify keeps the group's own counters; bucket counters start
		// over since the buckets are new.
		g.Created = old.Created
		g.Packets.Store(old.Packets.Load())
		g.Bytes.Store(old.Bytes.Load())
	}
	b.groups[gm.ID] = g
	return nil
}

func (b *Bridge) validateGroupLocked(s *GroupSpec) error {
	switch s.Type {
	case GroupTypeAll, GroupTypeSelect, GroupTypeIndirect, GroupTypeFastFailover:
	default:
		return ofErr(ErrGroupModFailed, GroupModBadType, "group type %d", s.Type)
	}
	if s.Type == GroupTypeIndirect && len(s.Buckets) != 1 {
		return ofErr(ErrGroupModFailed, GroupModBadBucket, "indirect group with %d buckets", len(s.Buckets))
	}
	for i := range s.Buckets {
		bk := &s.Buckets[i]
		if s.Type == GroupTypeFastFailover {
			if bk.WatchPort == PortAny && bk.WatchGroup == GroupAny {
				return ofErr(ErrGroupModFailed, GroupModBadWatch, "fast-failover bucket %d watches nothing", i)
			}
			if bk.WatchGroup != GroupAny && (bk.WatchGroup == s.ID || b.groups[bk.WatchGroup] == nil) {
				return ofErr(ErrGroupModFailed, GroupModBadWatch, "bucket %d watches group %d", i, bk.WatchGroup)
			}
		}
		if s.Type != GroupTypeSelect && bk.Weight != 0 {
			return ofErr(ErrGroupModFailed, GroupModBadBucket, "weight on a non-select bucket")
		}
		var ctx actionContext // bucket actions are checked without a match
		for j := range bk.Actions {
			a := &bk.Actions[j]
			if a.Type == ActGroup {
				if a.Group == s.ID || b.groupReaches(a.Group, s.ID, 0) {
					return ofErr(ErrGroupModFailed, GroupModLoop, "group %d chains back to %d", a.Group, s.ID)
				}
				if b.groups[a.Group] == nil {
					return ofErr(ErrGroupModFailed, GroupModUnknownGroup, "bucket chains to unknown group %d", a.Group)
				}
			}
			if a.Type == ActSetField {
				// Buckets apply to whatever reaches them; only field
				// writability can be checked here.
				if err := checkSetFieldType(a); err != nil {
					return err
				}
				continue
			}
			if err := b.validateAction(a, &ctx, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// groupReaches reports whether group from chains (through bucket group
// actions) to group to.
func (b *Bridge) groupReaches(from, to uint32, depth int) bool {
	g := b.groups[from]
	if g == nil || depth > 64 {
		return depth > 64
	}
	for _, bk := range g.Spec.Buckets {
		for _, a := range bk.Actions {
			if a.Type == ActGroup && (a.Group == to || b.groupReaches(a.Group, to, depth+1)) {
				return true
			}
		}
	}
	return false
}

func (b *Bridge) deleteGroupLocked(id uint32) ([]Removed, error) {
	var ids []uint32
	if id == GroupAll {
		for gid := range b.groups {
			ids = append(ids, gid)
		}
	} else if b.groups[id] != nil {
		ids = []uint32{id}
	}
	if id != GroupAll {
		for gid, g := range b.groups {
			if gid != id && groupChainsTo(g, id) {
				return nil, ofErr(ErrGroupModFailed, GroupModChainedGroup, "group %d chains to %d", gid, id)
			}
		}
	}
	var removed []Removed
	for _, gid := range ids {
		delete(b.groups, gid)
		var rules []*Rule
		for _, t := range b.tables {
			t.cls.each(func(r *Rule) bool {
				if r.UsesGroup(gid) {
					rules = append(rules, r)
				}
				return true
			})
		}
		removed = append(removed, b.removeRulesLocked(rules, RemovedGroupDelete)...)
	}
	return removed, nil
}

func groupChainsTo(g *Group, id uint32) bool {
	for _, bk := range g.Spec.Buckets {
		for _, a := range bk.Actions {
			if a.Type == ActGroup && a.Group == id {
				return true
			}
		}
	}
	return false
}

// BucketLive reports whether a fast-failover bucket may be used: its
// watched port is live and its watched group has a live bucket. Caller
// holds RLock.
func (b *Bridge) BucketLive(bk *Bucket) bool { return b.bucketLive(bk, 0) }

func (b *Bridge) bucketLive(bk *Bucket, depth int) bool {
	if depth > 32 {
		return false
	}
	if bk.WatchPort != PortAny {
		p := b.ports[bk.WatchPort]
		if p == nil || !p.IsLive() {
			return false
		}
	}
	if bk.WatchGroup != GroupAny {
		g := b.groups[bk.WatchGroup]
		if g == nil || !b.groupLive(g, depth+1) {
			return false
		}
	}
	return true
}

// groupLive: a group is live when some bucket is (OF1.3 §6.5: a group
// watched by a bucket is live if it has a live bucket).
func (b *Bridge) groupLive(g *Group, depth int) bool {
	for i := range g.Spec.Buckets {
		if b.bucketLive(&g.Spec.Buckets[i], depth) {
			return true
		}
	}
	return false
}

func cloneGroupSpec(s *GroupSpec) GroupSpec {
	out := *s
	out.Buckets = make([]Bucket, len(s.Buckets))
	for i, bk := range s.Buckets {
		bk.Actions = append([]Action(nil), bk.Actions...)
		out.Buckets[i] = bk
	}
	return out
}
