package ofproto

import (
	"math/rand/v2"
	"testing"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/race"
)

// randomMatch has a few random words of key and mask set, over the
// whole key, so every word position is exercised.
func randomMatch(rng *rand.Rand) Match {
	var k flow.Key
	var m flow.Mask
	kw, mw := k.Words(), m.Words()
	for range rng.IntN(5) {
		i := rng.IntN(flow.KeyWords)
		mw[i] = rng.Uint64() & (rng.Uint64() | rng.Uint64())
		kw[i] = rng.Uint64() & uint64(rng.IntN(4))
	}
	return NewMatch(&k, &m)
}

// The full-match definitions the compact ones must agree with.
func refWithin(r, f *Match) bool {
	fk, fm, rk, rm := f.Key.Words(), f.Mask.Words(), r.Key.Words(), r.Mask.Words()
	for i := range fk {
		if fm[i]&^rm[i] != 0 || (rk[i]^fk[i])&fm[i] != 0 {
			return false
		}
	}
	return true
}

func refOverlaps(a, b *Match) bool {
	ak, am, bk, bm := a.Key.Words(), a.Mask.Words(), b.Key.Words(), b.Mask.Words()
	for i := range ak {
		if (ak[i]^bk[i])&am[i]&bm[i] != 0 {
			return false
		}
	}
	return true
}

func TestMiniMatchAgreesWithMatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		a, b := randomMatch(rng), randomMatch(rng)
		if rng.IntN(3) == 0 { // b narrower than a: within and overlap hold
			b = a
			bw := b.Mask.Words()
			bw[rng.IntN(flow.KeyWords)] |= 1
			b = NewMatch(&b.Key, &b.Mask)
		}
		ma := a.Mini()
		if got := ma.Expand(); got != a {
			t.Fatalf("Expand(Mini(%v)) = %v", a, got)
		}
		if ma.Mask() != a.Mask || ma.Key() != a.Key || ma.IsCatchAll() != a.Mask.IsZero() {
			t.Fatalf("Mask/Key/IsCatchAll of %v", a)
		}
		if !ma.Equal(&a) || ma.Equal(&b) != (a == b) {
			t.Fatalf("Equal(%v, %v)", a, b)
		}
		mb := b.Mini()
		if mb.within(&a) != refWithin(&b, &a) || ma.within(&b) != refWithin(&a, &b) {
			t.Fatalf("within(%v, %v)", a, b)
		}
		if ma.overlaps(&b) != refOverlaps(&a, &b) {
			t.Fatalf("overlaps(%v, %v)", a, b)
		}
	}
}

// TestMiniMatchSize: a rule's match costs its present words, not 624 bytes.
func TestMiniMatchSize(t *testing.T) {
	race.SkipAllocs(t)
	k := flow.Key{EthType: 0x0800, NwSrc: 0x0a000001, NwDst: 0xc0a80001}
	m := flow.Mask{EthType: 0xffff, NwSrc: 0xffffffff, NwDst: 0xffffffff}
	match := NewMatch(&k, &m)
	mm := match.Mini()
	if n := len(mm.vals()); n > 6 || mm.ext != nil {
		t.Errorf("ip,nw_src,nw_dst keeps %d words", n)
	}
	if allocs := testing.AllocsPerRun(100, func() { mm = match.Mini() }); allocs != 0 {
		t.Errorf("Mini allocates %v times, want 0", allocs)
	}
}

// TestMiniMatchSameMaskKeyInto: SameMask says whether two packed matches
// have one mask, and a match expanded from one takes another's key
// through ExpandKeyInto exactly when they do.
func TestMiniMatchSameMaskKeyInto(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		a := randomMatch(rng)
		b := a
		if rng.IntN(2) == 0 {
			b = randomMatch(rng)
		}
		// A new key under b's mask.
		kw, mw := b.Key.Words(), b.Mask.Words()
		for i := range kw {
			kw[i] = rng.Uint64() & mw[i]
		}
		ma, mb := a.Mini(), b.Mini()
		if got := ma.SameMask(&mb); got != (a.Mask == b.Mask) {
			t.Fatalf("SameMask %v for masks equal: %v", got, a.Mask == b.Mask)
		}
		if a.Mask != b.Mask {
			continue
		}
		m := ma.Expand()
		mb.ExpandKeyInto(&m)
		if m != mb.Expand() {
			t.Fatalf("ExpandKeyInto gave %+v, want %+v", m, mb.Expand())
		}
	}
}
