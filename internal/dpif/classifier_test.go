package dpif

import (
	"math/rand/v2"
	"testing"

	"github.com/govs/govs/internal/flow"
)

// refFlow is the linear reference classifier's entry (OVS's tcls).
type refFlow struct {
	key  flow.Key
	mask flow.Mask
	mf   *megaflow
}

func randomMask(r *rand.Rand) flow.Mask {
	var m flow.Mask
	w := m.Words()
	for range 1 + r.IntN(4) {
		i := r.IntN(flow.KeyWords - 1) // the last word holds padding only partly; keep it simple
		w[i] = r.Uint64() | 1
	}
	m.InPort = ^uint32(0)
	return m
}

func randomKey(r *rand.Rand) flow.Key {
	var k flow.Key
	w := k.Words()
	for i := range w {
		// Few distinct values per word, so random keys do hit flows.
		w[i] = uint64(r.IntN(5)) * 0x0101010101010101
	}
	k.InPort = 1
	return k
}

func TestClassifierMatchesLinearReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var masks []flow.Mask
	for range 12 {
		masks = append(masks, randomMask(r))
	}
	b := newClassifierBuilder()
	ft := flowTableBuilder{chunkFresh: map[uint32]bool{}}
	var ref []refFlow
	seen := map[[2]flow.Key]bool{}
	nextSub := uint32(0)
	newID := func() uint32 { nextSub++; return nextSub - 1 }
	for attempt := 0; attempt < 3000 && len(ref) < 600; attempt++ {
		m := masks[r.IntN(len(masks))]
		k := randomKey(r)
		var mk flow.Key
		mk.MaskFrom(&k, &m)
		if seen[[2]flow.Key{m, mk}] {
			continue
		}
		seen[[2]flow.Key{m, mk}] = true
		mf := &megaflow{key: mk, id: uint32(len(ref)), gen: 1, inPort: 1}
		s := b.subtableFor(&m, newID)
		b.insert(s, mf)
		ft.set(mf.id, mf)
		ref = append(ref, refFlow{key: mk, mask: m, mf: mf})
	}
	if len(ref) < 200 {
		t.Fatalf("only %d distinct flows", len(ref))
	}
	// Remove a third, to exercise backward-shift deletion.
	for i := 0; i < len(ref); i += 3 {
		f := ref[i]
		b.remove(b.byMask[f.mask], f.mf)
		ft.set(f.mf.id, nil)
		ref[i].mf = nil
	}
	cls := b.publish()
	tbl := ft.publish()
	hits := 0
	for range 20000 {
		k := randomKey(r)
		// Half the probes are installed flows' keys with random bits
		// outside their mask.
		if f := ref[r.IntN(len(ref))]; r.IntN(2) == 0 {
			kw, fw, mw := k.Words(), f.key.Words(), f.mask.Words()
			for i := range kw {
				kw[i] = fw[i] | r.Uint64()&^mw[i]
			}
		}
		got, _, _ := cls.lookup(&k, &tbl)
		var want []*megaflow
		for _, f := range ref {
			if f.mf != nil && maskedEqual(&k, &f.mask, &f.key) {
				want = append(want, f.mf)
			}
		}
		if len(want) == 0 {
			if got != nil {
				t.Fatalf("lookup found flow %d, reference found none", got.id)
			}
			continue
		}
		hits++
		found := false
		for _, w := range want {
			found = found || w == got
		}
		if !found {
			t.Fatalf("lookup returned %v, reference matches %d flows", got, len(want))
		}
	}
	if hits < 1000 {
		t.Fatalf("only %d probes hit: test is not exercising lookups", hits)
	}
}

func TestSubtableInsertRemoveKeepsAllReachable(t *testing.T) {
	m := flow.Mask{NwDst: ^uint32(0)}
	s := newSubtable(0, &m)
	ft := flowTableBuilder{chunkFresh: map[uint32]bool{}}
	var flows []*megaflow
	for i := range 1000 {
		mf := &megaflow{id: uint32(i), gen: 1}
		mf.key.NwDst = uint32(i * 7919)
		s.insert(mf)
		ft.set(mf.id, mf)
		flows = append(flows, mf)
	}
	for i := 0; i < 1000; i += 2 {
		if !s.remove(&flows[i].key, flows[i].id) {
			t.Fatalf("remove %d failed", i)
		}
	}
	tbl := ft.publish()
	for i, mf := range flows {
		got := s.lookup(&mf.key, &tbl)
		if i%2 == 0 && got != nil {
			t.Fatalf("removed flow %d still found", i)
		}
		if i%2 == 1 && got != mf {
			t.Fatalf("flow %d not found", i)
		}
	}
	if s.n != 500 {
		t.Fatalf("n = %d", s.n)
	}
}

func TestEMCHitAndStaleEntry(t *testing.T) {
	e := newEMC(64, 1)
	ft := flowTableBuilder{chunkFresh: map[uint32]bool{}}
	mf := &megaflow{id: 3, gen: 5}
	ft.set(3, mf)
	tbl := ft.publish()
	k := flow.Key{InPort: 1, NwDst: 42}
	h := emcHash(&k)
	e.maybeInsert(&k, h, mf)
	if got := e.lookup(&k, h, &tbl); got != mf {
		t.Fatalf("lookup = %v, want the inserted megaflow", got)
	}
	other := k
	other.TpDst = 1
	if got := e.lookup(&other, emcHash(&other), &tbl); got != nil {
		t.Fatal("different key hit")
	}
	// Slot 3 reused by another megaflow: the entry is stale.
	ft.set(3, &megaflow{id: 3, gen: 6})
	tbl = ft.publish()
	if got := e.lookup(&k, h, &tbl); got != nil {
		t.Fatal("stale entry hit after the megaflow was replaced")
	}
}

func TestEMCInsertProbability(t *testing.T) {
	e := newEMC(8192, 100)
	mf := &megaflow{id: 0, gen: 1}
	inserted := 0
	for i := range 100000 {
		k := flow.Key{NwDst: uint32(i)}
		h := emcHash(&k)
		e.maybeInsert(&k, h, mf)
		if simple := isSimple(&k); e.holds(h&e.mask, &k, simple) || e.holds((h>>e.shift)&e.mask, &k, simple) {
			inserted++
		}
	}
	if inserted < 500 || inserted > 1600 {
		t.Fatalf("inserted %d of 100000 with 1/100 probability", inserted)
	}
}

// maskedEqual reports whether k masked by m equals the masked key mk.
func maskedEqual(k *flow.Key, m *flow.Mask, mk *flow.Key) bool {
	kw, mw, fw := k.Words(), m.Words(), mk.Words()
	for i := range kw {
		if kw[i]&mw[i] != fw[i] {
			return false
		}
	}
	return true
}
