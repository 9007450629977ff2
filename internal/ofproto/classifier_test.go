package ofproto

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/race"
)

// The classifier is checked against a linear reference, as OVS's
// tests/test-classifier.c does: random rules over a few fields with
// varied masks, random packets drawn from the same small value pools so
// that many rules overlap.

var (
	clsPoolInPort = []uint32{1, 2, 3}
	clsPoolEth    = []uint16{0x0800, 0x86dd}
	clsPoolIP     = []uint32{0x0a000001, 0x0a000102, 0x0b000001, 0xc0a80001}
	clsPoolPort   = []uint16{22, 80, 443}
	clsPoolReg    = []uint32{0, 1, 0xff00}
	clsIPMasks    = []uint32{0xffffffff, 0xffffff00, 0xff000000, 0xfffffffc}
	clsRegMasks   = []uint32{0xffffffff, 0xff00, 0x1}
)

func mini(m Match) MiniMatch { return m.Mini() }

func clsPick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func clsMatch(rng *rand.Rand) Match {
	var k flow.Key
	var m flow.Mask
	if rng.IntN(2) == 0 {
		k.InPort, m.InPort = clsPick(rng, clsPoolInPort), 0xffffffff
	}
	if rng.IntN(2) == 0 {
		k.EthType, m.EthType = clsPick(rng, clsPoolEth), 0xffff
	}
	if rng.IntN(2) == 0 {
		k.NwSrc, m.NwSrc = clsPick(rng, clsPoolIP), clsPick(rng, clsIPMasks)
	}
	if rng.IntN(3) == 0 {
		k.NwDst, m.NwDst = clsPick(rng, clsPoolIP), clsPick(rng, clsIPMasks)
	}
	if rng.IntN(3) == 0 {
		k.TpDst, m.TpDst = clsPick(rng, clsPoolPort), 0xffff
	}
	if rng.IntN(3) == 0 {
		k.Regs[0], m.Regs[0] = clsPick(rng, clsPoolReg), clsPick(rng, clsRegMasks)
	}
	return NewMatch(&k, &m)
}

func clsPacket(rng *rand.Rand) flow.Key {
	return flow.Key{
		InPort:  clsPick(rng, clsPoolInPort),
		EthType: clsPick(rng, clsPoolEth),
		NwSrc:   clsPick(rng, clsPoolIP),
		NwDst:   clsPick(rng, clsPoolIP),
		TpDst:   clsPick(rng, clsPoolPort),
		TpSrc:   uint16(rng.Uint32()),
		Regs:    [16]uint32{clsPick(rng, clsPoolReg)},
	}
}

func clsMatches(m *Match, k *flow.Key) bool {
	var mk flow.Key
	mk.MaskFrom(k, &m.Mask)
	return mk.Equal(&m.Key)
}

// clsLinearLookup is the reference: the highest-priority matching rule.
func clsLinearLookup(rules []*Rule, k *flow.Key) *Rule {
	var best *Rule
	for _, r := range rules {
		if rm := r.Match.Expand(); clsMatches(&rm, k) && (best == nil || r.Priority > best.Priority) {
			best = r
		}
	}
	return best
}

func clsBuildTable(rng *rand.Rand, n int) (*Table, []*Rule) {
	t := newTable(0)
	var rules []*Rule
	// Unique priorities: OpenFlow leaves ties between overlapping rules
	// undefined, so the reference cannot predict them.
	prios := rng.Perm(n * 4)
	for i := 0; i < n; i++ {
		m := clsMatch(rng)
		p := uint16(prios[i])
		if t.cls.find(&m, p) != nil {
			continue
		}
		r := &Rule{Priority: p, Match: m.Mini()}
		t.cls.insert(r)
		rules = append(rules, r)
	}
	return t, rules
}

func TestClassifierMatchesLinearReference(t *testing.T) {
	testClassifierMatchesLinearReference(t)
}

// TestClassifierHashCollisions: with every masked key in one bucket of
// its subtable, lookups, finds and removals still tell keys apart.
func TestClassifierHashCollisions(t *testing.T) {
	collideForTest = true
	defer func() { collideForTest = false }()
	testClassifierMatchesLinearReference(t)
	tbl, rules := clsBuildTable(rand.New(rand.NewPCG(3, 5)), 60)
	for _, r := range rules {
		if rm := r.Match.Expand(); tbl.cls.find(&rm, r.Priority) != r {
			t.Fatalf("find(%v) did not find %v", r.Match.Expand(), r)
		}
	}
}

func testClassifierMatchesLinearReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for round := 0; round < 20; round++ {
		tbl, rules := clsBuildTable(rng, 1+rng.IntN(60))
		for i := 0; i < 300; i++ {
			k := clsPacket(rng)
			got, want := tbl.Lookup(&k, nil), clsLinearLookup(rules, &k)
			if got != want {
				t.Fatalf("round %d: Lookup(%+v) = %v, want %v", round, k, got, want)
			}
		}
		// Remove a random half and check again (subtable max priority
		// and subtable removal are recomputed).
		var kept []*Rule
		for _, r := range rules {
			if rng.IntN(2) == 0 {
				tbl.cls.remove(r)
			} else {
				kept = append(kept, r)
			}
		}
		if tbl.Len() != len(kept) {
			t.Fatalf("Len = %d after removals, want %d", tbl.Len(), len(kept))
		}
		for i := 0; i < 300; i++ {
			k := clsPacket(rng)
			if got, want := tbl.Lookup(&k, nil), clsLinearLookup(kept, &k); got != want {
				t.Fatalf("after removals: Lookup = %v, want %v", got, want)
			}
		}
	}
}

// TestClassifierWildcardsCoverDecision: for any k2 that equals k1 under
// the wildcards Lookup(k1) reported, Lookup(k2) picks the same rule. This
// is what makes the megaflows built from them correct.
func TestClassifierWildcardsCoverDecision(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for round := 0; round < 20; round++ {
		tbl, _ := clsBuildTable(rng, 1+rng.IntN(60))
		for i := 0; i < 200; i++ {
			k1 := clsPacket(rng)
			var wc flow.Mask
			r1 := tbl.Lookup(&k1, &wc)
			for j := 0; j < 10; j++ {
				other := clsPacket(rng)
				if j%2 == 1 {
					for w := range other.Words() {
						other.Words()[w] = rng.Uint64()
					}
				}
				var k2 flow.Key
				kw, ow, k1w, ww := k2.Words(), other.Words(), k1.Words(), wc.Words()
				for w := range kw {
					kw[w] = k1w[w]&ww[w] | ow[w]&^ww[w]
				}
				if r2 := tbl.Lookup(&k2, nil); r2 != r1 {
					t.Fatalf("round %d: k1 and k2 agree under wc but Lookup gives %v and %v", round, r1, r2)
				}
			}
		}
	}
}

func TestClassifierStopsAtPriority(t *testing.T) {
	tbl := newTable(0)
	hi := &Rule{Priority: 100, Match: mini(NewMatch(&flow.Key{InPort: 1}, &flow.Mask{InPort: 0xffffffff}))}
	lo := &Rule{Priority: 10, Match: mini(NewMatch(&flow.Key{NwSrc: 1}, &flow.Mask{NwSrc: 0xffffffff}))}
	tbl.cls.insert(lo)
	tbl.cls.insert(hi)
	var wc flow.Mask
	k := flow.Key{InPort: 1, NwSrc: 1}
	if r := tbl.Lookup(&k, &wc); r != hi {
		t.Fatalf("Lookup = %v, want the priority-100 rule", r)
	}
	if wc.NwSrc != 0 {
		t.Fatal("the lower subtable was probed although it could not win")
	}
	wc = flow.Mask{}
	k.InPort = 2
	if r := tbl.Lookup(&k, &wc); r != lo || wc.InPort != 0xffffffff || wc.NwSrc != 0xffffffff {
		t.Fatalf("miss on in_port: got %v, wc %+v", r, wc)
	}
}

func TestClassifierLookupAllocs(t *testing.T) {
	race.SkipAllocs(t)
	rng := rand.New(rand.NewPCG(1, 1))
	tbl, _ := clsBuildTable(rng, 50)
	k := clsPacket(rng)
	var wc flow.Mask
	if n := testing.AllocsPerRun(100, func() { tbl.Lookup(&k, &wc) }); n != 0 {
		t.Fatalf("Lookup allocates %v times", n)
	}
}

func BenchmarkTableLookup(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	tbl, _ := clsBuildTable(rng, 100)
	keys := make([]flow.Key, 64)
	for i := range keys {
		keys[i] = clsPacket(rng)
	}
	var wc flow.Mask
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tbl.Lookup(&keys[i&63], &wc)
	}
}

// TestClassifierSharedPriorities: with many rules per priority, each
// subtable's maximum priority follows insertions and removals (the
// per-priority counts), and lookups find a rule of the reference's
// priority.
func TestClassifierSharedPriorities(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	prios := []uint16{5, 10, 10, 20, 40}
	for round := 0; round < 20; round++ {
		tbl := newTable(0)
		var rules []*Rule
		for i := 0; i < 80; i++ {
			m, p := clsMatch(rng), clsPick(rng, prios)
			if tbl.cls.find(&m, p) != nil {
				continue
			}
			r := &Rule{Priority: p, Match: m.Mini()}
			tbl.cls.insert(r)
			rules = append(rules, r)
		}
		for len(rules) > 0 {
			i := rng.IntN(len(rules))
			tbl.cls.remove(rules[i])
			rules = append(rules[:i], rules[i+1:]...)
			for _, st := range tbl.cls.subtables {
				var want uint16
				for _, head := range st.rules {
					want = max(want, head.Priority)
				}
				if st.maxPrio != want {
					t.Fatalf("round %d: subtable maxPrio %d, want %d", round, st.maxPrio, want)
				}
			}
			for j := 0; j < 20; j++ {
				k := clsPacket(rng)
				got, want := tbl.Lookup(&k, nil), clsLinearLookup(rules, &k)
				if (got == nil) != (want == nil) || got != nil && got.Priority != want.Priority {
					t.Fatalf("round %d: Lookup = %v, want priority of %v", round, got, want)
				}
			}
		}
	}
}

// TestClassifierDeleteManyIsLinear: 100k rules of one priority in one
// subtable (what `ovs-ofctl add-flows` of a big exact-match table makes)
// all come out quickly. Recomputing the maximum priority by scanning the
// subtable on every removal made this quadratic (minutes).
func TestClassifierDeleteManyIsLinear(t *testing.T) {
	const n = 100000
	tbl := newTable(0)
	rules := make([]*Rule, n)
	for i := range rules {
		k := flow.Key{EthType: 0x0800, NwSrc: 0x0a000000 + uint32(i)}
		m := flow.Mask{EthType: 0xffff, NwSrc: 0xffffffff}
		rules[i] = &Rule{Priority: 100, Match: mini(NewMatch(&k, &m))}
		tbl.cls.insert(rules[i])
	}
	start := time.Now()
	for _, r := range rules {
		tbl.cls.remove(r)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("removing %d rules took %v", n, d)
	}
	if tbl.Len() != 0 || len(tbl.cls.subtables) != 0 {
		t.Fatalf("%d rules and %d subtables left", tbl.Len(), len(tbl.cls.subtables))
	}
}
