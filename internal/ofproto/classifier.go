package ofproto

import (
	"hash/maphash"
	"slices"
	"sort"
	"unsafe"

	"github.com/govs/govs/internal/flow"
)

// The classifier is a tuple space search, as OVS's lib/classifier.c: rules
// are grouped into one subtable per distinct mask, and each subtable is a
// hash table from masked key to the rules with that exact masked match.
//
// A lookup probes subtables in descending order of the highest priority
// they hold and stops as soon as the best rule found so far has a priority
// no lower than the next subtable's maximum: that subtable, and every one
// after it, cannot hold anything better. Every probed subtable's mask is
// ORed into the caller's wildcards, since the outcome depended on the
// packet's bits under those masks (whether the probe hit or missed); the
// unprobed subtables were skipped on priorities alone, which do not depend
// on the packet. That makes the wildcards safe for a megaflow: any packet
// equal to this one under them probes the same subtables with the same
// results.
//
// Ties between overlapping rules of equal priority in different subtables
// (undefined by OpenFlow) go to the subtable created first.

// subtable holds the rules of one mask.
//
// Its hash table is keyed by a hash of the key words the mask covers, not
// by whole keys: a flow.Key is 312 bytes, and a map keyed by it stored a
// copy of every rule's key (100 000 rules: 33 MB) and hashed all of it at
// every insert, find and lookup, where a typical mask covers two to four
// words. A bucket holds the rules of every masked key with that hash,
// highest priority first (ties in insertion order); the key is compared
// on those words. The bucket is a chain through Rule.next, headed by the
// map's value, as OVS chains a match's rules of other priorities: a slice
// per bucket cost every rule of a 100 000-flow bundle one more allocation.
type subtable struct {
	mask    flow.Mask
	words   []uint8 // the indices of the mask's non-zero words
	maxPrio uint16
	seq     uint64 // creation order, for deterministic ties
	rules   map[uint64]*Rule
	n       int
	// prios are the distinct priorities of the rules, ascending, and
	// counts how many rules have each: maxPrio is the last one, kept in
	// O(distinct priorities) per change instead of a scan of every rule
	// (which made deleting a large subtable quadratic).
	prios  []uint16
	counts []int32
}

// subtableSeed keys the subtables' hashes; random per process, so a
// controller cannot pick rules that all fall into one bucket.
var subtableSeed = maphash.MakeSeed()

// collideForTest makes every key of a subtable hash alike (tests).
var collideForTest bool

func newSubtable(mask *flow.Mask, seq uint64) *subtable {
	st := &subtable{mask: *mask, seq: seq, rules: map[uint64]*Rule{}}
	for i, w := range mask.Words() {
		if w != 0 {
			st.words = append(st.words, uint8(i))
		}
	}
	return st
}

// hash hashes k's words under the mask (k need not be masked).
func (st *subtable) hash(k *flow.Key) uint64 {
	var buf [flow.KeyWords]uint64
	kw, mw := k.Words(), st.mask.Words()
	for j, i := range st.words {
		buf[j] = kw[i] & mw[i]
	}
	return hashWords(buf[:len(st.words)])
}

// hashRule is hash of r's key (r's mask is the subtable's: its present
// words are st.words, in order).
func (st *subtable) hashRule(r *Rule) uint64 {
	return hashWords(r.Match.vals()[:len(st.words)])
}

// hashWords is the subtables' seeded hash of a masked key's words.
func hashWords(w []uint64) uint64 {
	if len(w) == 0 || collideForTest {
		return 0
	}
	return maphash.Bytes(subtableSeed, unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), 8*len(w)))
}

// orMask ORs the mask into wc, word by word where it is not zero (a whole
// Key.Or is 39 words, a typical mask two to four).
func (st *subtable) orMask(wc *flow.Mask) {
	ww, mw := wc.Words(), st.mask.Words()
	for _, i := range st.words {
		ww[i] |= mw[i]
	}
}

// matches reports whether r (of this subtable) matches packet key k.
func (st *subtable) matches(r *Rule, k *flow.Key) bool {
	kw, mw, keys := k.Words(), st.mask.Words(), r.Match.vals()[:len(st.words)]
	for j, i := range st.words {
		if kw[i]&mw[i] != keys[j] {
			return false
		}
	}
	return true
}

// addPrio counts one more rule of priority p.
func (st *subtable) addPrio(p uint16) {
	i, found := slices.BinarySearch(st.prios, p)
	if found {
		st.counts[i]++
		return
	}
	st.prios = slices.Insert(st.prios, i, p)
	st.counts = slices.Insert(st.counts, i, 1)
}

// delPrio counts one rule of priority p less.
func (st *subtable) delPrio(p uint16) {
	i, found := slices.BinarySearch(st.prios, p)
	if !found {
		return
	}
	if st.counts[i]--; st.counts[i] == 0 {
		st.prios = slices.Delete(st.prios, i, i+1)
		st.counts = slices.Delete(st.counts, i, i+1)
	}
}

// classifier is the tuple space of one table. It is not safe for
// concurrent writes; the bridge lock serializes them.
type classifier struct {
	byMask map[flow.Mask]*subtable
	// last is the subtable of the last insert: the flow-mods of a bundle
	// or an add-flows stream mostly share one mask, and comparing it is
	// cheaper than hashing 312 bytes for the map.
	last      *subtable
	subtables []*subtable // by maxPrio descending, then seq
	n         int
	seq       uint64
	// timed holds the rules with an idle or hard timeout (set when a rule
	// is made, never changed), so that expiry, every second, looks at
	// those rather than at every rule of a big table.
	timed map[*Rule]struct{}
	// oldest and newest end the list of every rule in insertion order
	// (Rule.older, Rule.newer): each walks it, so a table of one priority
	// comes out already in the order dumps give (priority, then
	// insertion), and the sort is skipped.
	oldest, newest *Rule
}

func newClassifier() classifier {
	return classifier{byMask: map[flow.Mask]*subtable{}, timed: map[*Rule]struct{}{}}
}

func (r *Rule) hasTimeout() bool { return r.IdleTimeout != 0 || r.HardTimeout != 0 }

// eachTimed calls fn for every rule with a timeout.
func (c *classifier) eachTimed(fn func(*Rule)) {
	for r := range c.timed {
		fn(r)
	}
}

// lookup returns the highest-priority rule matching k, or nil, and ORs
// into wc (when not nil) every mask it depended on.
func (c *classifier) lookup(k *flow.Key, wc *flow.Mask) *Rule {
	var best *Rule
	for _, st := range c.subtables {
		if best != nil && best.Priority >= st.maxPrio {
			break
		}
		if wc != nil {
			st.orMask(wc)
		}
		for r := st.rules[st.hash(k)]; r != nil; r = r.next {
			if best != nil && r.Priority <= best.Priority {
				break
			}
			if st.matches(r, k) {
				best = r
				break
			}
		}
	}
	return best
}

// subtable returns the subtable of mask, or nil. It only reads (strict
// selections run under the bridge's read lock); inserts set last.
func (c *classifier) subtable(mask *flow.Mask) *subtable {
	if st := c.last; st != nil && st.mask == *mask {
		return st
	}
	return c.byMask[*mask]
}

// find returns the rule with exactly match m and priority prio.
func (c *classifier) find(m *Match, prio uint16) *Rule {
	st := c.subtable(&m.Mask)
	if st == nil {
		return nil
	}
	for r := st.rules[st.hash(&m.Key)]; r != nil; r = r.next {
		if r.Priority == prio && st.matches(r, &m.Key) {
			return r
		}
	}
	return nil
}

// insert adds r, which must not duplicate an existing match+priority.
func (c *classifier) insert(r *Rule) { c.reinsert(r, 0) }

// reinsert is insert that, if r's subtable has to be created, gives it
// creation stamp seq rather than a new one (0: new), so that a rollback
// puts back the tie order of the subtable r was removed from.
func (c *classifier) reinsert(r *Rule, seq uint64) {
	mask := r.Match.Mask()
	c.insertMasked(r, &mask, seq)
}

// insertMasked is reinsert for a caller that has r's mask at hand.
func (c *classifier) insertMasked(r *Rule, mask *flow.Mask, seq uint64) {
	st := c.subtable(mask)
	if st == nil {
		if seq == 0 {
			c.seq++
			seq = c.seq
		}
		st = newSubtable(mask, seq)
		c.byMask[st.mask] = st
		c.subtables = append(c.subtables, st)
	}
	c.last = st
	h := st.hashRule(r)
	// After every rule of r's priority or above: ties in insertion order.
	if head := st.rules[h]; head == nil || head.Priority < r.Priority {
		r.next = head
		st.rules[h] = r
	} else {
		p := head
		for p.next != nil && p.next.Priority >= r.Priority {
			p = p.next
		}
		r.next = p.next
		p.next = r
	}
	st.n++
	c.n++
	c.append(r)
	if r.hasTimeout() {
		c.timed[r] = struct{}{}
	}
	st.addPrio(r.Priority)
	if st.n == 1 || r.Priority > st.maxPrio {
		st.maxPrio = r.Priority
		c.sortSubtables()
	}
}

// replace puts nr where old is (same match and priority).
func (c *classifier) replace(old, nr *Rule) {
	mask := old.Match.Mask()
	st := c.subtable(&mask)
	h := st.hashRule(old)
	if !st.unlink(h, old, nr) {
		return
	}
	// nr is the newest rule (a replacement gets a new insertion stamp).
	c.unlist(old)
	c.append(nr)
	delete(c.timed, old)
	if nr.hasTimeout() {
		c.timed[nr] = struct{}{}
	}
}

// unlink takes r out of bucket h, putting nr (not nil: same match and
// priority) in its place, and reports whether r was there.
func (st *subtable) unlink(h uint64, r, nr *Rule) bool {
	next := r.next
	if nr != nil {
		nr.next = next
		next = nr
	}
	if head := st.rules[h]; head == r {
		if next == nil {
			delete(st.rules, h)
		} else {
			st.rules[h] = next
		}
	} else {
		p := head
		for p != nil && p.next != r {
			p = p.next
		}
		if p == nil {
			return false
		}
		p.next = next
	}
	r.next = nil
	return true
}

// remove takes r out.
func (c *classifier) remove(r *Rule) {
	mask := r.Match.Mask()
	st := c.subtable(&mask)
	if st == nil {
		return
	}
	if st.unlink(st.hashRule(r), r, nil) {
		c.unlist(r)
		st.n--
		c.n--
		delete(c.timed, r)
		st.delPrio(r.Priority)
	}
	if st.n == 0 {
		delete(c.byMask, st.mask)
		if c.last == st {
			c.last = nil
		}
		for i, x := range c.subtables {
			if x == st {
				c.subtables = append(c.subtables[:i], c.subtables[i+1:]...)
				break
			}
		}
		return
	}
	if top := st.prios[len(st.prios)-1]; top != st.maxPrio {
		st.maxPrio = top
		c.sortSubtables()
	}
}

func (c *classifier) sortSubtables() {
	sort.Slice(c.subtables, func(i, j int) bool {
		a, b := c.subtables[i], c.subtables[j]
		if a.maxPrio != b.maxPrio {
			return a.maxPrio > b.maxPrio
		}
		return a.seq < b.seq
	})
}

// each calls fn for every rule, oldest first, until fn returns false.
func (c *classifier) each(fn func(*Rule) bool) {
	for r := c.oldest; r != nil; {
		newer := r.newer
		if !fn(r) {
			return
		}
		r = newer
	}
}

// append puts r at the new end of the insertion list.
func (c *classifier) append(r *Rule) {
	r.older, r.newer = c.newest, nil
	if c.newest != nil {
		c.newest.newer = r
	} else {
		c.oldest = r
	}
	c.newest = r
}

// unlist takes r out of the insertion list.
func (c *classifier) unlist(r *Rule) {
	if r.older != nil {
		r.older.newer = r.newer
	} else {
		c.oldest = r.newer
	}
	if r.newer != nil {
		r.newer.older = r.older
	} else {
		c.newest = r.older
	}
	r.older, r.newer = nil, nil
}
