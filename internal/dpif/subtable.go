package dpif

import (
	"slices"
	"sync/atomic"

	"github.com/govs/govs/internal/flow"
)

// subtable holds the megaflows of one in_port that share one mask (tuple
// space search). It precomputes which key words its mask uses, so a lookup
// masks, hashes and compares only those, and keeps an open-addressed,
// linearly probed table whose entries hold the megaflow's masked words
// inline: a lookup reads the key and the table, and the megaflow itself
// only on a hit. The table is pointer-free, so the GC never scans it.
//
// An entry is 1+nw words: a header (hash<<32 | id+1, 0 when empty) and the
// nw masked words. Entries live in chunks of chunkEntries.
//
// The control side mutates a private subtable and publishes clones that
// share its chunks. Installing (the frequent change: one per upcall) is
// done in place, in shared chunks too, as OVS's cmap does: the entry's
// words are written before its header, which is stored atomically and
// loaded atomically by lookups, so a lookup sees an empty entry or a whole
// one; a lookup on an older snapshot may find a megaflow its flow table
// does not have yet (ft.get returns nil: a miss). Everything else (removal,
// which moves entries, and resizing) copies what it changes, the touched
// chunks or the whole table, so a published subtable never sees entries
// move or vanish. Publishing after installs alone copies nothing (with one
// subtable of 100k megaflows, copying it on every install would make
// installing quadratic).
type subtable struct {
	id    uint32 // stable, indexes per-PMD hit counters
	mask  flow.Mask
	nw    int                   // number of key words the mask uses
	words [flow.KeyWords]uint8  // their indexes
	maskw [flow.KeyWords]uint64 // their mask bits

	stride   int        // words per entry: 1 + nw
	slotMask uint32     // number of entries - 1 (a power of two)
	chunks   [][]uint64 // chunkEntries (or all, if fewer) entries each
	n        int        // megaflows in the table, at most half the entries

	// Control side only: owned[c] says chunks[c] is not shared with a
	// published clone, so entries in it may be moved or cleared in place;
	// needsClone says publishing must clone s (a chunk was copied, or the
	// table replaced, since the last clone).
	owned      []bool
	needsClone bool

	// A tiny or small subtable holding at most fewEntries megaflows also
	// keeps them in a list (their ids and masked words) that lookupBatch
	// scans instead of hashing: most masks have only a few megaflows, and
	// comparing two or four words beats a multiply and a probe. The list
	// is a plain copy in the struct, so each publication carries its own,
	// rebuilt on every change while it is in use (clone then copies it).
	fewMode bool
	few     int
	fewIDs  [fewEntries]uint32 // megaflow id + 1
	fewKeys [fewEntries][smallWords]uint64
}

// fewEntries is the most megaflows a subtable keeps in its list.
const fewEntries = 4

const (
	minSlots          = 8
	chunkEntriesShift = 7
	chunkEntries      = 1 << chunkEntriesShift
)

// Masks that use few key words are padded with (word 0, mask 0) entries,
// whose masked value is always 0, to tinyWords or smallWords words, so that
// lookupBatch has one straight-line body for each size.
const (
	tinyWords  = 2
	smallWords = 4
)

// newSubtable returns an empty subtable for mask m. A classifier belongs to
// one in_port: every megaflow in it and every key looked up in it have that
// InPort, so its subtables leave InPort out of the words they hash and
// compare.
func newSubtable(id uint32, m *flow.Mask) *subtable {
	s := &subtable{id: id, mask: *m}
	used := *m
	used.InPort = 0
	for i, w := range used.Words() {
		if w != 0 {
			s.words[s.nw] = uint8(i)
			s.maskw[s.nw] = w
			s.nw++
		}
	}
	switch {
	case s.nw <= tinyWords:
		s.nw = tinyWords // words[nw], maskw[nw] are 0
	case s.nw <= smallWords:
		s.nw = smallWords
	}
	s.stride = 1 + s.nw
	s.alloc(minSlots)
	return s
}

// alloc gives s an empty table of n entries, every chunk owned.
func (s *subtable) alloc(n int) {
	s.slotMask = uint32(n - 1)
	per := min(n, chunkEntries)
	s.chunks = make([][]uint64, n/per)
	s.owned = make([]bool, len(s.chunks))
	for c := range s.chunks {
		s.chunks[c] = make([]uint64, per*s.stride)
		s.owned[c] = true
	}
	s.needsClone = true
}

// hash hashes the words of kw that s's mask uses, masked.
func (s *subtable) hash(kw *[flow.KeyWords]uint64) uint32 {
	ws := s.words[:s.nw:s.nw]
	ms := s.maskw[:len(ws):len(ws)]
	h := uint64(len(ws))
	j := 0
	for ; j+1 < len(ws); j += 2 {
		h += mix(kw[ws[j]]&ms[j]^hashSecrets[j], kw[ws[j+1]]&ms[j+1]^hashSecrets[j+1])
	}
	if j < len(ws) {
		h += mix(kw[ws[j]]&ms[j]^hashSecrets[j], hashSecrets[flow.KeyWords])
	}
	return fold(h)
}

// entry returns entry i of the table.
func (s *subtable) entry(i uint32) []uint64 {
	c := s.chunks[i>>chunkEntriesShift]
	off := int(i&(chunkEntries-1)) * s.stride
	return c[off : off+s.stride : off+s.stride]
}

// matches reports whether the masked words of kw equal those of entry e
// (e[1:]; e[0] is the header).
func (s *subtable) matches(kw *[flow.KeyWords]uint64, e []uint64) bool {
	ws := s.words[:s.nw:s.nw]
	ms := s.maskw[:len(ws):len(ws)]
	ev := e[1:]
	ev = ev[:len(ws)]
	for j, w := range ws {
		if kw[w]&ms[j] != ev[j] {
			return false
		}
	}
	return true
}

// matchesKey reports whether kw matches the masked key mk of one of s's
// megaflows (in the same classifier). It reads only words, maskw and nw,
// which never change.
func (s *subtable) matchesKey(kw, mk *[flow.KeyWords]uint64) bool {
	ws := s.words[:s.nw:s.nw]
	ms := s.maskw[:len(ws):len(ws)]
	for j, w := range ws {
		if kw[w]&ms[j] != mk[w] {
			return false
		}
	}
	return true
}

// find returns the id of the megaflow of s that matches kw, whose hash
// is h, plus one; 0 when none does.
func (s *subtable) find(kw *[flow.KeyWords]uint64, h uint32) uint32 {
	return s.findFrom(kw, h, h&s.slotMask)
}

// findFrom is find starting the probe sequence at entry j.
func (s *subtable) findFrom(kw *[flow.KeyWords]uint64, h, j uint32) uint32 {
	for ; ; j = (j + 1) & s.slotMask {
		e := s.entry(j)
		hdr := atomic.LoadUint64(&e[0])
		if uint32(hdr) == 0 {
			return 0
		}
		if uint32(hdr>>32) == h && s.matches(kw, e) {
			return uint32(hdr)
		}
	}
}

// lookup returns the megaflow of s that matches k, or nil.
func (s *subtable) lookup(k *flow.Key, ft *flowTable) *megaflow {
	kw := k.Words()
	if id1 := s.find(kw, s.hash(kw)); id1 != 0 {
		return ft.get(id1 - 1)
	}
	return nil
}

// own makes entry i's chunk writable and returns the entry.
func (s *subtable) own(i uint32) []uint64 {
	c := i >> chunkEntriesShift
	if !s.owned[c] {
		s.chunks[c] = slices.Clone(s.chunks[c])
		s.owned[c] = true
		s.needsClone = true
	}
	return s.entry(i)
}

// insert adds megaflow mf (whose key is already masked). The caller has
// checked that no megaflow with the same masked key is present.
func (s *subtable) insert(mf *megaflow) {
	if (s.n+1)*2 > int(s.slotMask)+1 {
		s.resize(2 * (int(s.slotMask) + 1))
	}
	kw := mf.key.Words()
	h := s.hash(kw)
	e := s.entry(s.freeSlot(h)) // in place, even in a shared chunk
	for j := range s.nw {
		e[1+j] = kw[s.words[j]] & s.maskw[j]
	}
	atomic.StoreUint64(&e[0], uint64(h)<<32|uint64(mf.id+1)) // last
	s.n++
	s.updateFew()
}

// updateFew rebuilds the list of megaflows after a change, if s keeps one
// (then the change must be published by a clone).
func (s *subtable) updateFew() {
	use := s.nw <= smallWords && s.n <= fewEntries
	if !use && !s.fewMode {
		return
	}
	s.fewMode, s.few = use, 0
	s.needsClone = true
	if !use {
		return
	}
	for j := range s.slotMask + 1 {
		e := s.entry(j)
		if uint32(e[0]) == 0 {
			continue
		}
		s.fewIDs[s.few] = uint32(e[0])
		s.fewKeys[s.few] = [smallWords]uint64{}
		copy(s.fewKeys[s.few][:], e[1:])
		s.few++
	}
}

// freeSlot returns the first empty entry on h's probe sequence.
func (s *subtable) freeSlot(h uint32) uint32 {
	i := h & s.slotMask
	for s.entry(i)[0] != 0 {
		i = (i + 1) & s.slotMask
	}
	return i
}

func (s *subtable) resize(n int) {
	old, oldN := s.chunks, int(s.slotMask)+1
	per := min(oldN, chunkEntries)
	s.alloc(n)
	for i := range oldN {
		c := old[i/per]
		off := (i % per) * s.stride
		e := c[off : off+s.stride]
		if uint32(e[0]) != 0 {
			copy(s.entry(s.freeSlot(uint32(e[0]>>32))), e)
		}
	}
}

// remove deletes the megaflow with id from s, given its masked key, by
// backward-shift deletion (no tombstones, so probe lengths stay short).
func (s *subtable) remove(key *flow.Key, id uint32) bool {
	m := s.slotMask
	i := s.hash(key.Words()) & m
	for {
		hdr := s.entry(i)[0]
		if uint32(hdr) == 0 {
			return false
		}
		if uint32(hdr) == id+1 {
			break
		}
		i = (i + 1) & m
	}
	for j := (i + 1) & m; ; j = (j + 1) & m {
		e := s.entry(j)
		if uint32(e[0]) == 0 {
			break
		}
		home := uint32(e[0]>>32) & m
		// Move entry j back to the hole at i unless its home lies
		// cyclically in (i, j].
		if (j-home)&m >= (j-i)&m {
			copy(s.own(i), e)
			i = j
		}
	}
	clear(s.own(i))
	s.n--
	defer s.updateFew()
	if s.n*8 < int(m)+1 && int(m)+1 > minSlots {
		s.resize((int(m) + 1) / 2)
	}
	return true
}

// clone returns a copy to publish. It shares the chunks with s, which
// copies a chunk before it next moves or clears entries in it.
func (s *subtable) clone() *subtable {
	c := *s
	c.chunks = slices.Clone(s.chunks)
	c.owned = nil
	clear(s.owned)
	s.needsClone = false
	return &c
}

// lookupBatch looks up, in s, the keys of the batch whose bit is set in
// todo; for each hit it stores the megaflow in found and clears the bit.
// It returns the bits left and the number of hits.
//
// It works in passes, as OVS's dpcls does: hash every key, then look at
// every key's first entry, where most lookups end (an empty entry: no
// match); only the others are probed in full. The hashing pass, written
// out for tiny and small subtables, makes no call and keeps few values
// live, so its state stays in registers (Go keeps no register across a
// call).
func (s *subtable) lookupBatch(keys *[batchKeys]flow.Key, todo uint32, found *[batchKeys]*megaflow, ft *flowTable) (uint32, int) {
	if s.fewMode {
		return s.lookupFew(keys, todo, found, ft)
	}
	var hs [batchKeys]uint32
	switch s.nw {
	case tinyWords:
		w0, w1 := int(s.words[0]), int(s.words[1])
		if w0 >= flow.KeyWords || w1 >= flow.KeyWords {
			panic("dpif: subtable word out of range")
		}
		for m := todo; m != 0; m &= m - 1 {
			i := trailingZeros(m)
			kw := keys[i].Words()
			hs[i] = hashTiny(kw[w0]&s.maskw[0], kw[w1]&s.maskw[1])
		}
	case smallWords:
		w0, w1, w2, w3 := int(s.words[0]), int(s.words[1]), int(s.words[2]), int(s.words[3])
		if w0 >= flow.KeyWords || w1 >= flow.KeyWords || w2 >= flow.KeyWords || w3 >= flow.KeyWords {
			panic("dpif: subtable word out of range")
		}
		for m := todo; m != 0; m &= m - 1 {
			i := trailingZeros(m)
			kw := keys[i].Words()
			hs[i] = hashSmall(kw[w0]&s.maskw[0], kw[w1]&s.maskw[1], kw[w2]&s.maskw[2], kw[w3]&s.maskw[3])
		}
	default:
		for m := todo; m != 0; m &= m - 1 {
			i := trailingZeros(m)
			hs[i] = s.hash(keys[i].Words())
		}
	}
	cand := s.candidates(&hs, todo)
	hits := 0
	for m := cand; m != 0; m &= m - 1 {
		i := trailingZeros(m)
		// hs[i] now holds the entry whose hash matched.
		kw := keys[i].Words()
		e := s.entry(hs[i])
		id1 := uint32(e[0])
		if !s.matches(kw, e) {
			// Two keys with one 32-bit hash: go on from the next entry.
			id1 = s.findFrom(kw, uint32(e[0]>>32), (hs[i]+1)&s.slotMask)
		}
		if id1 == 0 {
			continue
		}
		if mf := ft.get(id1 - 1); mf != nil {
			found[i] = mf
			todo &^= 1 << i
			hits++
		}
	}
	return todo, hits
}

// candidates walks each todo key's probe sequence (from its hash in hs),
// comparing hashes only. It returns the keys that reached an entry with
// their hash, and replaces their hs with that entry's index; the other
// keys reached an empty entry: they miss.
func (s *subtable) candidates(hs *[batchKeys]uint32, todo uint32) uint32 {
	var cand uint32
	chunks, slotMask, stride := s.chunks, s.slotMask, s.stride
	if len(chunks) == 1 {
		// One chunk (at most chunkEntries entries): no chunk index.
		tab := chunks[0]
		for m := todo; m != 0; m &= m - 1 {
			i := trailingZeros(m)
			h := hs[i]
			for j := h & slotMask; ; j = (j + 1) & slotMask {
				off := int(j) * stride
				if off >= len(tab) {
					panic("dpif: subtable entry out of range")
				}
				hdr := atomic.LoadUint64(&tab[off])
				if uint32(hdr) == 0 {
					break
				}
				if uint32(hdr>>32) == h {
					hs[i] = j
					cand |= 1 << i
					break
				}
			}
		}
		return cand
	}
	for m := todo; m != 0; m &= m - 1 {
		i := trailingZeros(m)
		h := hs[i]
		for j := h & slotMask; ; j = (j + 1) & slotMask {
			c := chunks[j>>chunkEntriesShift]
			off := int(j&(chunkEntries-1)) * stride
			if off >= len(c) {
				panic("dpif: subtable entry out of range")
			}
			hdr := atomic.LoadUint64(&c[off])
			if uint32(hdr) == 0 {
				break
			}
			if uint32(hdr>>32) == h {
				hs[i] = j
				cand |= 1 << i
				break
			}
		}
	}
	return cand
}

// hashTiny is subtable.hash of a tiny subtable's masked words.
func hashTiny(a0, a1 uint64) uint32 {
	return fold(tinyWords + mix(a0^hashSecrets[0], a1^hashSecrets[1]))
}

// hashSmall is subtable.hash of a small subtable's masked words.
func hashSmall(a0, a1, a2, a3 uint64) uint32 {
	return fold(smallWords + mix(a0^hashSecrets[0], a1^hashSecrets[1]) + mix(a2^hashSecrets[2], a3^hashSecrets[3]))
}

// lookupFew is lookupBatch for a subtable in few mode: each key's masked
// words are compared with those of each of the (at most fewEntries)
// megaflows, with no hashing.
func (s *subtable) lookupFew(keys *[batchKeys]flow.Key, todo uint32, found *[batchKeys]*megaflow, ft *flowTable) (uint32, int) {
	if s.nw == tinyWords {
		return s.lookupFewTiny(keys, todo, found, ft)
	}
	w0, w1, w2, w3 := int(s.words[0]), int(s.words[1]), int(s.words[2]), int(s.words[3])
	if w0 >= flow.KeyWords || w1 >= flow.KeyWords || w2 >= flow.KeyWords || w3 >= flow.KeyWords {
		panic("dpif: subtable word out of range")
	}
	m0, m1, m2, m3 := s.maskw[0], s.maskw[1], s.maskw[2], s.maskw[3]
	fk := s.fewKeys[:min(s.few, fewEntries)]
	hits := 0
	for m := todo; m != 0; m &= m - 1 {
		i := trailingZeros(m)
		kw := keys[i].Words()
		// A tiny subtable's words 2 and 3 are padding: word 0, mask 0.
		a0, a1, a2, a3 := kw[w0]&m0, kw[w1]&m1, kw[w2]&m2, kw[w3]&m3
		for e := range fk {
			if fk[e][0] != a0 || fk[e][1] != a1 || fk[e][2] != a2 || fk[e][3] != a3 {
				continue
			}
			if mf := ft.get(s.fewIDs[e] - 1); mf != nil {
				found[i] = mf
				todo &^= 1 << i
				hits++
			}
			break
		}
	}
	return todo, hits
}

// lookupFewTiny is lookupFew for a tiny subtable: two words to compare
// per key and listed megaflow, unrolled, and each megaflow fetched once per
// batch.
func (s *subtable) lookupFewTiny(keys *[batchKeys]flow.Key, todo uint32, found *[batchKeys]*megaflow, ft *flowTable) (uint32, int) {
	w0, w1 := int(s.words[0]), int(s.words[1])
	if w0 >= flow.KeyWords || w1 >= flow.KeyWords {
		panic("dpif: subtable word out of range")
	}
	m0, m1 := s.maskw[0], s.maskw[1]
	fk, few := &s.fewKeys, s.few
	if few == 0 {
		return todo, 0
	}
	var hit [fewEntries]uint32 // keys that match each listed megaflow
	for m := todo; m != 0; m &= m - 1 {
		i := trailingZeros(m)
		kw := keys[i].Words()
		a0, a1 := kw[w0]&m0, kw[w1]&m1
		switch {
		case fk[0][0] == a0 && fk[0][1] == a1:
			hit[0] |= 1 << i
		case few < 2:
		case fk[1][0] == a0 && fk[1][1] == a1:
			hit[1] |= 1 << i
		case few < 3:
		case fk[2][0] == a0 && fk[2][1] == a1:
			hit[2] |= 1 << i
		case few < 4:
		case fk[3][0] == a0 && fk[3][1] == a1:
			hit[3] |= 1 << i
		}
	}
	hits := 0
	for e, h := range hit {
		if h == 0 {
			continue
		}
		mf := ft.get(s.fewIDs[e] - 1)
		if mf == nil {
			continue
		}
		for m := h; m != 0; m &= m - 1 {
			found[trailingZeros(m)] = mf
		}
		todo &^= h
		hits += popcount(h)
	}
	return todo, hits
}
