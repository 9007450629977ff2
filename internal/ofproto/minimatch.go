package ofproto

import (
	"math/bits"
	"slices"

	"github.com/govs/govs/internal/flow"
)

// MiniMatch is a rule's match kept compact, as OVS keeps its rules'
// minimatch: only the key and mask words where the mask is not zero. A
// Match is two whole flow.Keys (624 bytes) while a typical rule's mask
// covers two to four of the key's words; with 100 000 rules the full
// matches were most of a table's memory, and walking them (dumps,
// non-strict selections) read five cache lines of zeros per rule.
type MiniMatch struct {
	present uint64 // bit i: mask word i is not zero
	// The present words' keys in order, then their masks: in inline
	// when they fit (most rules; no second allocation, no pointer to
	// chase on lookups), else in ext.
	inline [miniInline]uint64
	ext    []uint64
}

// miniInline holds three words' keys and masks.
const miniInline = 6

// A Key's words must fit present's bits.
const _ = uint(64 - flow.KeyWords)

// Mini returns m compact.
func (m *Match) Mini() MiniMatch {
	var mm MiniMatch
	kw, mw := m.Key.Words(), m.Mask.Words()
	mm.present = presentWords(mw)
	n := bits.OnesCount64(mm.present)
	vals := mm.inline[:]
	if 2*n > miniInline {
		mm.ext = make([]uint64, 2*n)
		vals = mm.ext
	}
	j := 0
	for p := mm.present; p != 0; p &= p - 1 {
		i := bits.TrailingZeros64(p)
		vals[j], vals[n+j] = kw[i]&mw[i], mw[i]
		j++
	}
	return mm
}

// vals returns the present words' keys, then their masks.
func (mm *MiniMatch) vals() []uint64 {
	if mm.ext != nil {
		return mm.ext
	}
	return mm.inline[:2*bits.OnesCount64(mm.present)]
}

// Expand returns the full match.
func (mm *MiniMatch) Expand() Match {
	var m Match
	mm.expandInto(&m)
	return m
}

func (mm *MiniMatch) expandInto(m *Match) {
	kw, mw := m.Key.Words(), m.Mask.Words()
	mm.each(func(i int, key, mask uint64) bool {
		kw[i], mw[i] = key, mask
		return true
	})
}

// SameMask reports whether mm and o have the same mask.
func (mm *MiniMatch) SameMask(o *MiniMatch) bool {
	if mm.present != o.present {
		return false
	}
	a, b := mm.vals(), o.vals()
	n := len(a) / 2
	return slices.Equal(a[n:], b[n:])
}

// ExpandKeyInto writes mm's key into m, which must be the expansion of a
// match with mm's mask (SameMask): only the key words mm has are written,
// the others being zero in m already.
func (mm *MiniMatch) ExpandKeyInto(m *Match) {
	kw := m.Key.Words()
	v := mm.vals()
	j := 0
	for p := mm.present; p != 0; p &= p - 1 {
		kw[bits.TrailingZeros64(p)] = v[j]
		j++
	}
}

// Mask returns the full mask.
func (mm *MiniMatch) Mask() flow.Mask {
	var m flow.Mask
	mw := m.Words()
	mm.each(func(i int, _, mask uint64) bool {
		mw[i] = mask
		return true
	})
	return m
}

// each calls fn with every present word's index, key and mask, in order,
// until fn returns false; it reports whether fn never did.
func (mm *MiniMatch) each(fn func(i int, key, mask uint64) bool) bool {
	v := mm.vals()
	n := len(v) / 2
	j := 0
	for p := mm.present; p != 0; p &= p - 1 {
		if !fn(bits.TrailingZeros64(p), v[j], v[n+j]) {
			return false
		}
		j++
	}
	return true
}

// Key returns the full (masked) key.
func (mm *MiniMatch) Key() flow.Key {
	m := mm.Expand()
	return m.Key
}

// IsCatchAll reports whether the match matches every packet.
func (mm *MiniMatch) IsCatchAll() bool { return mm.present == 0 }

// Equal reports whether mm is m.
func (mm *MiniMatch) Equal(m *Match) bool {
	mw := m.Mask.Words()
	if presentWords(mw) != mm.present {
		return false
	}
	other := m.Mini()
	a, b := mm.vals(), other.vals()
	return slices.Equal(a, b)
}

// presentWords returns the bitmap of mw's non-zero words.
func presentWords(mw *[flow.KeyWords]uint64) uint64 {
	var present uint64
	for i, w := range mw {
		if w != 0 {
			present |= 1 << i
		}
	}
	return present
}

// within reports whether mm lies within filter f: mm cares about every
// bit f does, with the same values (OpenFlow's non-strict match).
func (mm *MiniMatch) within(f *Match) bool {
	fk, fm := f.Key.Words(), f.Mask.Words()
	if presentWords(fm)&^mm.present != 0 {
		return false // f cares about a word mm does not
	}
	return mm.each(func(i int, key, mask uint64) bool {
		return fm[i]&^mask == 0 && (key^fk[i])&fm[i] == 0
	})
}

// overlaps reports whether some packet matches both mm and m: on the bits
// both masks care about, the keys agree.
func (mm *MiniMatch) overlaps(m *Match) bool {
	kw, mw := m.Key.Words(), m.Mask.Words()
	return mm.each(func(i int, key, mask uint64) bool {
		return (key^kw[i])&mask&mw[i] == 0
	})
}
