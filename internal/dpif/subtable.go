package dpif

import "github.com/govs/govs/internal/flow"

// subtable holds the megaflows of one in_port that share one mask (tuple
// space search). It precomputes which key words its mask uses, so a lookup
// masks and hashes only those, and keeps an open-addressed, linearly probed
// table of (hash, id) pairs: pointer-free, so the GC never scans it.
//
// The control side mutates a private subtable and publishes clones; a
// published subtable is never modified.
type subtable struct {
	id    uint32 // stable, indexes per-PMD hit counters
	mask  flow.Mask
	nw    int                   // number of key words the mask uses
	words [flow.KeyWords]uint8  // their indexes
	maskw [flow.KeyWords]uint64 // their mask bits
	slots []slot                // len is a power of two, at most half full
	n     int                   // megaflows in slots
}

// slot is one entry of a subtable: id1 is the megaflow id plus one (0 marks
// an empty slot), hash the hash of its masked words.
type slot struct {
	hash uint32
	id1  uint32
}

const minSlots = 8

func newSubtable(id uint32, m *flow.Mask) *subtable {
	s := &subtable{id: id, mask: *m, slots: make([]slot, minSlots)}
	for i, w := range m.Words() {
		if w != 0 {
			s.words[s.nw] = uint8(i)
			s.maskw[s.nw] = w
			s.nw++
		}
	}
	return s
}

// gather writes the masked words of k that s uses into m and hashes them.
func (s *subtable) gather(k *flow.Key, m *[flow.KeyWords]uint64) uint32 {
	kw := k.Words()
	for i := 0; i < s.nw; i++ {
		m[i] = kw[s.words[i]] & s.maskw[i]
	}
	return hashMasked(m, s.nw)
}

// matches reports whether megaflow mf's key equals the gathered words m.
func (s *subtable) matches(mf *megaflow, m *[flow.KeyWords]uint64) bool {
	fw := mf.key.Words()
	for i := 0; i < s.nw; i++ {
		if fw[s.words[i]] != m[i] {
			return false
		}
	}
	return true
}

// lookup returns the megaflow of s that matches k, or nil. scratch holds
// the gathered words (passed in so the hot path does not zero a new array).
func (s *subtable) lookup(k *flow.Key, ft *flowTable, scratch *[flow.KeyWords]uint64) *megaflow {
	h := s.gather(k, scratch)
	mask := uint32(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		sl := s.slots[i]
		if sl.id1 == 0 {
			return nil
		}
		if sl.hash == h {
			if mf := ft.get(sl.id1 - 1); mf != nil && s.matches(mf, scratch) {
				return mf
			}
		}
	}
}

// insert adds megaflow mf (whose key is already masked). The caller has
// checked that no megaflow with the same masked key is present.
func (s *subtable) insert(mf *megaflow) {
	if (s.n+1)*2 > len(s.slots) {
		s.resize(len(s.slots) * 2)
	}
	var m [flow.KeyWords]uint64
	h := s.gather(&mf.key, &m)
	s.put(slot{hash: h, id1: mf.id + 1})
	s.n++
}

func (s *subtable) put(e slot) {
	mask := uint32(len(s.slots) - 1)
	i := e.hash & mask
	for s.slots[i].id1 != 0 {
		i = (i + 1) & mask
	}
	s.slots[i] = e
}

func (s *subtable) resize(n int) {
	old := s.slots
	s.slots = make([]slot, n)
	for _, e := range old {
		if e.id1 != 0 {
			s.put(e)
		}
	}
}

// remove deletes the megaflow with id from s, given its masked key, by
// backward-shift deletion (no tombstones, so probe lengths stay short).
func (s *subtable) remove(key *flow.Key, id uint32) bool {
	var m [flow.KeyWords]uint64
	h := s.gather(key, &m)
	mask := uint32(len(s.slots) - 1)
	i := h & mask
	for {
		e := s.slots[i]
		if e.id1 == 0 {
			return false
		}
		if e.id1 == id+1 {
			break
		}
		i = (i + 1) & mask
	}
	for j := (i + 1) & mask; s.slots[j].id1 != 0; j = (j + 1) & mask {
		home := s.slots[j].hash & mask
		// Move slot j back to the hole at i unless its home lies
		// cyclically in (i, j].
		if (j-home)&mask >= (j-i)&mask {
			s.slots[i] = s.slots[j]
			i = j
		}
	}
	s.slots[i] = slot{}
	s.n--
	if s.n*8 < len(s.slots) && len(s.slots) > minSlots {
		s.resize(len(s.slots) / 2)
	}
	return true
}

// clone returns a copy that shares nothing mutable with s.
func (s *subtable) clone() *subtable {
	c := *s
	c.slots = append([]slot(nil), s.slots...)
	return &c
}
