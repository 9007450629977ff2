package dpif

import (
	"slices"

	"github.com/govs/govs/internal/flow"
)

// classifier is the megaflow classifier (OVS's dpcls) of one in_port: its
// subtables in rank order, most hit first, so a lookup usually stops early.
// A published classifier is never modified.
type classifier struct {
	subtables []*subtable

	// skipEMC says a dpcls lookup here costs less than the EMC probe that
	// would spare it: one subtable, searched through its list of at most
	// fewEntries megaflows (port-based rules, the common NFV case; OVS
	// keeps a "simple match" cache for it). The PMD then neither looks
	// these keys up in the EMC nor inserts them, and the EMC is left to
	// the ports whose tables it pays off for.
	skipEMC bool
}

// lookup returns the first megaflow matching k and how many subtables it
// searched.
func (c *classifier) lookup(k *flow.Key, ft *flowTable) (*megaflow, *subtable, int) {
	for i, s := range c.subtables {
		if mf := s.lookup(k, ft); mf != nil {
			return mf, s, i + 1
		}
	}
	return nil, nil, len(c.subtables)
}

// lookupBatch looks up the keys of the batch whose bit is set in todo
// (OVS's dpcls_lookup): subtable by subtable in rank order, each probed
// for every key still unmatched, so a subtable's setup is paid once per
// batch and the probes of different keys overlap. Hits go to found and
// clear their bit; it returns the bits left, and counts hits per subtable
// in subHits and the subtables searched per hit in lookups.
func (c *classifier) lookupBatch(keys *[batchKeys]flow.Key, todo uint32, found *[batchKeys]*megaflow,
	ft *flowTable, subHits []uint64, lookups *uint64) uint32 {
	for r, s := range c.subtables {
		var hits int
		todo, hits = s.lookupBatch(keys, todo, found, ft)
		if hits > 0 {
			*lookups += uint64(hits * (r + 1))
			subHits[s.id] += uint64(hits)
		}
		if todo == 0 {
			break
		}
	}
	return todo
}

// classifierBuilder is the control side's mutable classifier of one port.
// Subtables changed since the last publication are cloned on publish.
type classifierBuilder struct {
	byMask    map[flow.Mask]*subtable
	order     []*subtable // rank order
	dirty     map[*subtable]bool
	published map[*subtable]*subtable // mutable subtable -> its last published clone
	changed   bool
}

func newClassifierBuilder() *classifierBuilder {
	return &classifierBuilder{
		byMask:    map[flow.Mask]*subtable{},
		dirty:     map[*subtable]bool{},
		published: map[*subtable]*subtable{},
	}
}

// subtableFor returns the subtable for mask m, creating it (last in rank)
// when missing.
func (b *classifierBuilder) subtableFor(m *flow.Mask, newID func() uint32) *subtable {
	if s := b.byMask[*m]; s != nil {
		return s
	}
	s := newSubtable(newID(), m)
	b.byMask[*m] = s
	b.order = append(b.order, s)
	b.changed = true
	return s
}

func (b *classifierBuilder) insert(s *subtable, mf *megaflow) {
	s.insert(mf)
	b.dirty[s] = true
	b.changed = true
}

// remove deletes mf from subtable s, and s itself when it becomes empty.
// It returns the removed subtable's id, or false.
func (b *classifierBuilder) remove(s *subtable, mf *megaflow) (uint32, bool) {
	s.remove(&mf.key, mf.id)
	b.dirty[s] = true
	b.changed = true
	if s.n > 0 {
		return 0, false
	}
	delete(b.byMask, s.mask)
	delete(b.dirty, s)
	delete(b.published, s)
	b.order = slices.DeleteFunc(b.order, func(x *subtable) bool { return x == s })
	return s.id, true
}

// find returns the megaflow matching k in any subtable (used to detect a
// megaflow another PMD installed meanwhile).
func (b *classifierBuilder) find(k *flow.Key, ft *flowTable) *megaflow {
	for _, s := range b.order {
		if mf := s.lookup(k, ft); mf != nil {
			return mf
		}
	}
	return nil
}

// rank re-sorts the subtables by hits (descending), stable for ties.
func (b *classifierBuilder) rank(hits func(id uint32) uint64) {
	sorted := slices.IsSortedFunc(b.order, func(x, y *subtable) int { return cmpDesc(hits(x.id), hits(y.id)) })
	if sorted {
		return
	}
	slices.SortStableFunc(b.order, func(x, y *subtable) int { return cmpDesc(hits(x.id), hits(y.id)) })
	b.changed = true
}

func cmpDesc(a, b uint64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

// publish returns an immutable classifier reflecting b.
func (b *classifierBuilder) publish() *classifier {
	c := &classifier{subtables: make([]*subtable, len(b.order))}
	for i, s := range b.order {
		p := b.published[s]
		if p == nil || b.dirty[s] && s.needsClone {
			p = s.clone()
			b.published[s] = p
		}
		c.subtables[i] = p
	}
	c.skipEMC = len(c.subtables) == 1 && c.subtables[0].fewMode
	clear(b.dirty)
	b.changed = false
	return c
}
