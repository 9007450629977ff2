package dpif

import "github.com/govs/govs/internal/flow"

// emc is a PMD's exact-match cache (OVS's EMC): whole flow keys mapped to
// megaflow ids. Each key has two candidate entries (two slices of its
// hash); an entry is valid only while the flow table's slot id still holds
// the megaflow generation gen, so deleting or replacing megaflows needs no
// EMC flush. Entries hold no pointers. Only its PMD touches it.
type emc struct {
	entries []emcEntry
	mask    uint32
	shift   uint32 // hash bits used by the first index
	invProb uint32 // insert 1 in invProb hits; 0: never
	rnd     uint32 // xorshift state for probabilistic insertion
}

type emcEntry struct {
	key  flow.Key
	hash uint32
	id   uint32
	gen  uint32 // 0: empty
}

func newEMC(entries, invProb int) *emc {
	n := 1
	for n < entries {
		n <<= 1
	}
	shift := uint32(0)
	for 1<<shift < n {
		shift++
	}
	e := &emc{entries: make([]emcEntry, n), mask: uint32(n - 1), shift: shift, rnd: 0x2545f491}
	if invProb > 0 {
		e.invProb = uint32(invProb)
	}
	return e
}

// lookup returns the megaflow cached for k, whose emcHash is h.
func (e *emc) lookup(k *flow.Key, h uint32, ft *flowTable) *megaflow {
	for _, i := range [2]uint32{h & e.mask, (h >> e.shift) & e.mask} {
		ent := &e.entries[i]
		if ent.hash == h && ent.gen != 0 && ent.key.Equal(k) {
			if mf := ft.get(ent.id); mf != nil && mf.gen == ent.gen {
				return mf
			}
			return nil
		}
	}
	return nil
}

// maybeInsert caches k -> mf with probability 1/invProb.
func (e *emc) maybeInsert(k *flow.Key, h uint32, mf *megaflow) {
	if e.invProb == 0 {
		return
	}
	if e.invProb > 1 {
		x := e.rnd
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		e.rnd = x
		if x%e.invProb != 0 {
			return
		}
	}
	e.insert(k, h, mf)
}

// insert replaces the same key's entry if present, else an empty entry,
// else the candidate with the smaller hash (a cheap pseudo-random choice,
// as OVS makes).
func (e *emc) insert(k *flow.Key, h uint32, mf *megaflow) {
	a := &e.entries[h&e.mask]
	b := &e.entries[(h>>e.shift)&e.mask]
	var v *emcEntry
	switch {
	case a.hash == h && a.key.Equal(k):
		v = a
	case b.hash == h && b.key.Equal(k):
		v = b
	case a.gen == 0:
		v = a
	case b.gen == 0:
		v = b
	case a.hash < b.hash:
		v = a
	default:
		v = b
	}
	v.key = *k
	v.hash = h
	v.id = mf.id
	v.gen = mf.gen
}
