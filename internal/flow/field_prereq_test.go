package flow

import (
	"math/rand/v2"
	"testing"
)

// matchPrereqsWalk is MatchPrereqsOK as it was before FieldsIn: a walk of
// every field. The fast version must agree with it.
func matchPrereqsWalk(k *Key, m *Mask) (*Field, bool) {
	var allowed Mask
	for i := FieldID(1); i < NumFieldIDs; i++ {
		if f := &fields[i]; f.PrereqsOK(k, m) {
			f.Unwildcard(&allowed)
		}
	}
	var extra Mask
	ew, mw, aw := extra.Words(), m.Words(), allowed.Words()
	for i := range ew {
		ew[i] = mw[i] &^ aw[i]
	}
	if extra.IsZero() {
		return nil, true
	}
	for i := FieldID(1); i < NumFieldIDs; i++ {
		if f := &fields[i]; !f.IsWildcarded(&extra) {
			return f, false
		}
	}
	return nil, false
}

func TestMatchPrereqsOKAgreesWithFullWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	exacts := []struct {
		id FieldID
		v  uint64
	}{
		{FieldEthType, EthTypeIPv4}, {FieldEthType, EthTypeIPv6}, {FieldEthType, EthTypeARP},
		{FieldIPProto, IPProtoTCP}, {FieldIPProto, IPProtoUDP}, {FieldIPProto, IPProtoICMPv6},
	}
	for n := 0; n < 20000; n++ {
		var k Key
		var m Mask
		// A few prerequisites set exactly, then a few random fields.
		for range rng.IntN(3) {
			e := exacts[rng.IntN(len(exacts))]
			f := FieldByID(e.id)
			f.Set(&k, f.Value(e.v))
			f.Unwildcard(&m)
		}
		for range rng.IntN(4) {
			f := FieldByID(FieldID(1 + rng.IntN(int(NumFieldIDs)-1)))
			f.Unwildcard(&m)
			var v [16]byte
			for i := range v {
				v[i] = byte(rng.Uint32())
			}
			f.SetMasked(&k, v, f.AllOnes())
		}
		if rng.IntN(10) == 0 {
			m.Words()[rng.IntN(KeyWords)] |= 1 << rng.IntN(64)
		}
		k.MaskFrom(&k, &m)
		wantBad, wantOK := matchPrereqsWalk(&k, &m)
		bad, ok := MatchPrereqsOK(&k, &m)
		if bad != wantBad || ok != wantOK {
			t.Fatalf("match %x/%x: got (%v, %v), want (%v, %v)", k.Words(), m.Words(), bad, ok, wantBad, wantOK)
		}
	}
}

func TestFieldsIn(t *testing.T) {
	m := Mask{EthType: 0xffff, NwSrc: 0xff000000}
	got := FieldsIn(&m, nil)
	has := map[FieldID]bool{}
	for i, id := range got {
		if i > 0 && got[i-1] >= id {
			t.Fatalf("not ascending: %v", got)
		}
		has[id] = true
	}
	for id := FieldID(1); id < NumFieldIDs; id++ {
		if want := !FieldByID(id).IsWildcarded(&m); has[id] != want {
			t.Errorf("%s: in = %v, want %v", FieldByID(id).Name, has[id], want)
		}
	}
}

// BenchmarkMatchPrereqsOK checks the match of bench/flows.sh's flows
// (ip,nw_src=x): the cost of validating one flow-mod's match.
func BenchmarkMatchPrereqsOK(b *testing.B) {
	k := Key{EthType: EthTypeIPv4, NwSrc: 0x0a000001}
	m := Mask{EthType: 0xffff, NwSrc: 0xffffffff}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := MatchPrereqsOK(&k, &m); !ok {
			b.Fatal("rejected")
		}
	}
}
