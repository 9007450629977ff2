package dpif

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
	"github.com/govs/govs/internal/packet"
)

// parsedBatch parses frames (at most a batch) as processBatch does.
func parsedBatch(t *testing.T, frames [][]byte, inPort uint32) (*[batchKeys]flow.Key, uint32) {
	t.Helper()
	var keys [batchKeys]flow.Key
	pkts := make([]*packet.Buffer, len(frames))
	for i, f := range frames {
		pkts[i] = &packet.Buffer{}
		pkts[i].Reset(f, 0, len(f))
		pkts[i].InPort = inPort
	}
	return &keys, flow.ParseBatch(pkts, keys[:])
}

// vlanFrame is udpFrame with an 802.1Q tag: not a simple key.
func vlanFrame(dstIP uint32, sport, dport uint16) []byte {
	f := udpFrame(dstIP, sport, dport)
	return append(append(append([]byte(nil), f[:12]...), 0x81, 0x00, 0x00, 0x05), f[12:]...)
}

// TestEMCLookupBatchMatchesLookup checks the batch lookup (with its inlined
// hash and simple-key compare) against the plain per-key lookup, for simple
// and other keys, hits and misses.
func TestEMCLookupBatchMatchesLookup(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	e := newEMC(256, 1)
	ft := flowTableBuilder{chunkFresh: map[uint32]bool{}}
	hits := 0
	for round := range 50 {
		var frames [][]byte
		for range batchKeys {
			dst, sport := 0x0a000000+uint32(r.IntN(64)), uint16(r.IntN(4))
			if r.IntN(4) == 0 {
				frames = append(frames, vlanFrame(dst, sport, 80))
			} else {
				frames = append(frames, udpFrame(dst, sport, 80))
			}
		}
		keys, simple := parsedBatch(t, frames, uint32(1+round%2))
		if simple == 0 || simple == ^uint32(0) {
			t.Fatalf("simple = %#x: want a mix", simple)
		}
		// Insert about half the keys, each under its own megaflow.
		for i := range batchKeys {
			if r.IntN(2) == 0 {
				id := uint32(round*batchKeys + i)
				mf := &megaflow{id: id, gen: 1}
				ft.set(id, mf)
				e.insert(&keys[i], emcHash(&keys[i]), mf)
			}
		}
		tbl := ft.publish()
		var found [batchKeys]*megaflow
		var hashes [batchKeys]uint32
		miss := e.lookupBatch(keys, batchKeys, simple, &tbl, &found, &hashes)
		hits += batchKeys - popcount(miss)
		for i := range batchKeys {
			k := &keys[i]
			if h := emcHash(k); hashes[i] != h {
				t.Fatalf("key %d: batch hash %#x, emcHash %#x", i, hashes[i], h)
			}
			want := e.lookup(k, hashes[i], &tbl)
			if found[i] != want || (miss&(1<<i) != 0) != (want == nil) {
				t.Fatalf("round %d key %d (simple %v): batch found %v (miss %v), lookup %v",
					round, i, simple&(1<<i) != 0, found[i], miss&(1<<i) != 0, want)
			}
		}
	}
	if hits < 200 {
		t.Fatalf("only %d hits", hits)
	}
}

// TestEMCSimpleKeyNeverMatchesOtherEntry: an entry for a key that is not
// simple must not answer a simple key that agrees on the simple words.
func TestEMCSimpleKeyNeverMatchesOtherEntry(t *testing.T) {
	tagged, _ := parsedBatch(t, [][]byte{vlanFrame(0x0a000002, 1, 80)}, 1)
	plain, simple := parsedBatch(t, [][]byte{udpFrame(0x0a000002, 1, 80)}, 1)
	if simple != 1 {
		t.Fatal("untagged UDP frame not simple")
	}
	k1, k2 := &tagged[0], &plain[0]
	k1.VLANs = [flow.MaxVLANs]flow.VLAN{}
	if !k1.Equal(k2) {
		t.Fatal("keys differ beyond the VLAN")
	}
	tagged, _ = parsedBatch(t, [][]byte{vlanFrame(0x0a000002, 1, 80)}, 1)
	k1 = &tagged[0]
	e := newEMC(1, 1) // one entry: both keys land on it
	mf := &megaflow{id: 0, gen: 1}
	const h = 7
	e.insert(k1, h, mf)
	if !e.holds(0, k1, false) || e.holds(0, k2, true) || e.holds(0, k2, false) {
		t.Fatal("entry of the tagged key answers the untagged one")
	}
	w := k2.Words()
	if e.entries[0].holdsSimple(w[flow.InPortWord], w[flow.SimpleWordEth0], w[flow.SimpleWordEth1], w[flow.SimpleWordNw],
		w[flow.SimpleWordProto], w[flow.SimpleWordFlags], w[flow.SimpleWordTp]) {
		t.Fatal("holdsSimple answers for an entry of a key that is not simple")
	}
}

// TestClassifierLookupBatchMatchesLookup checks the batch dpcls lookup
// against per-key lookups on random masks and keys, with its statistics:
// with many megaflows per mask (hashed subtables) and with few (listed
// ones), after removals too.
func TestClassifierLookupBatchMatchesLookup(t *testing.T) {
	for _, tc := range []struct{ masks, flows int }{{8, 400}, {40, 60}} {
		testClassifierLookupBatch(t, tc.masks, tc.flows)
	}
}

func testClassifierLookupBatch(t *testing.T, nmasks, nflows int) {
	r := rand.New(rand.NewPCG(5, uint64(nmasks)))
	b := newClassifierBuilder()
	ft := flowTableBuilder{chunkFresh: map[uint32]bool{}}
	var masks []flow.Mask
	for range nmasks {
		masks = append(masks, randomMask(r))
	}
	nextSub := uint32(0)
	newID := func() uint32 { nextSub++; return nextSub - 1 }
	id := uint32(0)
	var flows []*megaflow
	var flowMasks []flow.Mask
	for range nflows {
		m := masks[r.IntN(len(masks))]
		k := randomKey(r)
		if b.find(&k, &ft.cur) != nil {
			continue
		}
		mf := &megaflow{id: id, gen: 1, inPort: 1}
		mf.key.MaskFrom(&k, &m)
		b.insert(b.subtableFor(&m, newID), mf)
		ft.set(id, mf)
		flows = append(flows, mf)
		flowMasks = append(flowMasks, m)
		id++
	}
	// Remove every fifth flow.
	for i := 0; i < len(flows); i += 5 {
		b.remove(b.byMask[flowMasks[i]], flows[i])
		ft.set(flows[i].id, nil)
	}
	few, hashed := 0, 0
	for _, s := range b.order {
		if s.fewMode {
			few++
		} else {
			hashed++
		}
	}
	if few == 0 || hashed == 0 && nflows > 100 {
		t.Fatalf("%d listed and %d hashed subtables: not the mix this test needs", few, hashed)
	}
	cls := b.publish()
	tbl := ft.publish()
	subHits := make([]uint64, nextSub)
	var totalLookups, totalHits uint64
	for range 200 {
		var keys [batchKeys]flow.Key
		for i := range keys {
			keys[i] = randomKey(r)
		}
		todo := r.Uint32()
		var found [batchKeys]*megaflow
		var lookups uint64
		left := cls.lookupBatch(&keys, todo, &found, &tbl, subHits, &lookups)
		var wantLookups uint64
		for i := range batchKeys {
			if todo&(1<<i) == 0 {
				if found[i] != nil || left&(1<<i) != 0 {
					t.Fatalf("key %d not asked for but answered", i)
				}
				continue
			}
			want, _, n := cls.lookup(&keys[i], &tbl)
			if found[i] != want || (left&(1<<i) != 0) != (want == nil) {
				t.Fatalf("key %d: batch %v, lookup %v", i, found[i], want)
			}
			if want != nil {
				wantLookups += uint64(n)
				totalHits++
			}
		}
		if lookups != wantLookups {
			t.Fatalf("lookups %d, want %d", lookups, wantLookups)
		}
		totalLookups += lookups
	}
	var sum uint64
	for _, h := range subHits {
		sum += h
	}
	if sum != totalHits || totalHits < 100 {
		t.Fatalf("subtable hits add up to %d, hits %d (want many)", sum, totalHits)
	}
}

// TestSubtablePublishedClones inserts into and removes from a subtable
// after publishing clones of it, across chunk copies and resizes. A clone
// keeps finding every flow it was published with, even after its removal
// (removal copies), never finds a flow removed before, and may find flows
// installed after (installs are in place).
func TestSubtablePublishedClones(t *testing.T) {
	m := flow.Mask{NwDst: ^uint32(0)}
	s := newSubtable(0, &m)
	ft := flowTableBuilder{chunkFresh: map[uint32]bool{}}
	var flows []*megaflow
	present := map[uint32]bool{}
	removed := map[uint32]bool{}
	type pub struct {
		sub              *subtable
		present, removed map[uint32]bool
	}
	var pubs []pub
	r := rand.New(rand.NewPCG(8, 9))
	later := 0
	for step := range 3000 {
		if len(flows) > 0 && r.IntN(3) == 0 {
			mf := flows[r.IntN(len(flows))]
			if present[mf.id] {
				if !s.remove(&mf.key, mf.id) {
					t.Fatalf("remove %d failed", mf.id)
				}
				delete(present, mf.id)
				removed[mf.id] = true
			}
		} else {
			mf := &megaflow{id: uint32(len(flows)), gen: 1}
			mf.key.NwDst = uint32(len(flows)) * 2654435761
			s.insert(mf)
			ft.set(mf.id, mf)
			flows = append(flows, mf)
			present[mf.id] = true
		}
		if step%97 == 0 {
			p := pub{sub: s.clone(), present: map[uint32]bool{}, removed: map[uint32]bool{}}
			for id := range present {
				p.present[id] = true
			}
			for id := range removed {
				p.removed[id] = true
			}
			pubs = append(pubs, p)
		}
	}
	tbl := ft.publish()
	for pi, p := range pubs {
		for _, mf := range flows {
			got := p.sub.lookup(&mf.key, &tbl)
			switch {
			case p.present[mf.id] && got != mf:
				t.Fatalf("publication %d lost flow %d", pi, mf.id)
			case p.removed[mf.id] && got != nil:
				t.Fatalf("publication %d finds flow %d, removed before it", pi, mf.id)
			case got != nil && got != mf:
				t.Fatalf("publication %d: flow %d's key finds flow %d", pi, mf.id, got.id)
			case got != nil && !p.present[mf.id]:
				later++
			}
		}
	}
	if later == 0 {
		t.Error("no publication saw a later install: installs are not in place")
	}
	for _, mf := range flows {
		if got := s.lookup(&mf.key, &tbl); (got == mf) != present[mf.id] {
			t.Fatalf("flow %d: present %v, found %v", mf.id, present[mf.id], got)
		}
	}
}

// TestSubtableHashCollision puts an entry with the same 32-bit hash but
// other words first on a key's probe sequence: the batch lookup must skip
// it and find the key's megaflow further on, and still find the other
// entry's megaflow for its own key.
func TestSubtableHashCollision(t *testing.T) {
	m := flow.Mask{InPort: ^uint32(0), NwDst: ^uint32(0)}
	s := newSubtable(0, &m)
	ft := flowTableBuilder{chunkFresh: map[uint32]bool{}}
	a := &megaflow{id: 0, gen: 1}
	a.key.InPort, a.key.NwDst = 1, 0x0a000001
	b := &megaflow{id: 1, gen: 1}
	b.key.InPort, b.key.NwDst = 1, 0x0a000002
	ft.set(0, a)
	ft.set(1, b)
	s.insert(a)
	// Move a's entry one further and put b's words, under a's hash, in
	// its place.
	h := s.hash(a.key.Words())
	j := h & s.slotMask
	ea := append([]uint64(nil), s.entry(j)...)
	copy(s.own((j+1)&s.slotMask), ea)
	eb := s.own(j)
	eb[0] = uint64(h)<<32 | uint64(b.id+1)
	for w := range s.nw {
		eb[1+w] = b.key.Words()[s.words[w]] & s.maskw[w]
	}
	s.n++
	tbl := ft.publish()
	var keys [batchKeys]flow.Key
	keys[0] = a.key
	var found [batchKeys]*megaflow
	left, hits := s.lookupBatch(&keys, 1, &found, &tbl)
	if left != 0 || hits != 1 || found[0] != a {
		t.Fatalf("key a: left %#x, hits %d, found %v", left, hits, found[0])
	}
	if id1 := s.findFrom(b.key.Words(), h, j); id1 != b.id+1 {
		t.Fatalf("b's entry not found under the shared hash: %d", id1)
	}
}

// TestClassifierConcurrentInstall runs batch lookups on published
// classifiers while the control side installs (in place), removes and
// publishes: a lookup may miss a flow being installed but never returns a
// megaflow its key does not match. Run it with -race too.
func TestClassifierConcurrentInstall(t *testing.T) {
	type published struct {
		cls *classifier
		ft  flowTable
	}
	var pub atomic.Pointer[published]
	b := newClassifierBuilder()
	ft := flowTableBuilder{chunkFresh: map[uint32]bool{}}
	pub.Store(&published{cls: b.publish(), ft: ft.publish()})
	masks := []flow.Mask{
		{InPort: ^uint32(0), NwDst: ^uint32(0)},
		{InPort: ^uint32(0), NwDst: ^uint32(0), TpDst: 0xffff},
		{InPort: ^uint32(0), NwSrc: 0xffff0000, NwDst: ^uint32(0), EthType: 0xffff, NwProto: 0xff},
	}
	const nflows = 20000
	mfMask := make([]flow.Mask, nflows) // by id, written before the install
	var batches, hits atomic.Int64
	key := func(r *rand.Rand) flow.Key {
		var k flow.Key
		k.InPort, k.EthType, k.NwProto = 1, 0x0800, 17
		k.NwSrc, k.NwDst, k.TpDst = r.Uint32()&0xffff0003, r.Uint32()&0x3ff, uint16(r.IntN(4))
		return k
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the PMD
		defer wg.Done()
		r := rand.New(rand.NewPCG(1, 1))
		var keys [batchKeys]flow.Key
		subHits := make([]uint64, nflows) // at most a subtable per install
		for {
			select {
			case <-done:
				return
			default:
			}
			p := pub.Load()
			for i := range keys {
				keys[i] = key(r)
			}
			var found [batchKeys]*megaflow
			var lookups uint64
			p.cls.lookupBatch(&keys, ^uint32(0), &found, &p.ft, subHits, &lookups)
			for i, mf := range found {
				if mf == nil {
					continue
				}
				hits.Add(1)
				if !maskedEqual(&keys[i], &mfMask[mf.id], &mf.key) {
					t.Errorf("key %+v found megaflow %d, which it does not match", keys[i], mf.id)
					return
				}
			}
			batches.Add(1)
		}
	}()
	r := rand.New(rand.NewPCG(2, 2))
	var live []*megaflow
	newSub := uint32(0)
	for id := uint32(0); id < nflows; id++ {
		if len(live) > 0 && r.IntN(2) == 0 {
			j := r.IntN(len(live))
			mf := live[j]
			b.remove(b.byMask[mfMask[mf.id]], mf)
			ft.set(mf.id, nil)
			live = append(live[:j], live[j+1:]...)
		}
		k := key(r)
		m := masks[r.IntN(len(masks))]
		if b.find(&k, &ft.cur) != nil {
			continue
		}
		mf := &megaflow{id: id, gen: 1, inPort: 1}
		mf.key.MaskFrom(&k, &m)
		mfMask[id] = m
		ft.set(id, mf)
		b.insert(b.subtableFor(&m, func() uint32 { newSub++; return newSub - 1 }), mf)
		live = append(live, mf)
		if id%8 == 0 {
			pub.Store(&published{cls: b.publish(), ft: ft.publish()})
		}
	}
	for batches.Load() < 200 {
		time.Sleep(time.Millisecond)
	}
	close(done)
	wg.Wait()
	if hits.Load() == 0 {
		t.Error("no lookup hit")
	}
}

// TestEMCEntriesAligned checks that every entry is one whole cache line,
// the line lookupBatch prefetches.
func TestEMCEntriesAligned(t *testing.T) {
	for _, n := range []int{1, 16, 8192} {
		e := newEMC(n, 1)
		if a := uintptr(unsafe.Pointer(&e.entries[0])); a%cacheLine != 0 {
			t.Errorf("%d entries: first entry at %#x", n, a)
		}
		if len(e.entries) != n || len(e.rest) != n {
			t.Errorf("%d entries: got %d, rest %d", n, len(e.entries), len(e.rest))
		}
	}
}

// TestSkipEMCForListedSubtable checks when the PMD leaves the EMC out: for
// an in_port whose classifier is one listed subtable (its packets then
// count as megaflow hits and are not inserted), not once the subtable
// hashes or a second one appears.
func TestSkipEMCForListedSubtable(t *testing.T) {
	frames := benchFrames(packet.BatchSize, func(i int) uint32 { return 0x0a000000 + uint32(i) })
	dp, _ := newTestDP(t, Config{EMCInsertInvProb: 1, RevalidateInterval: time.Hour}, &testUpcaller{}, 4,
		map[string]string{"tx_capture": "false"})
	pool, err := packet.NewPool(packet.BatchSize)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	b := rxBatch(t, pool, frames)
	p := dp.pmds[0]
	var k flow.Key
	flow.ParseBytes(frames[0], &k)
	k.InPort = 1
	install := func(m flow.Mask, proto uint8) {
		t.Helper()
		k.NwProto = proto
		if mf, _ := dp.install(1, &k, &m, odp.Actions{odp.Output(2)}, 0); mf == nil {
			t.Fatal("install failed")
		}
		dp.publish()
	}
	// run processes the batch twice (the first pass fills the EMC) and
	// returns the second pass's EMC and megaflow hits.
	run := func() (emc, mf uint64) {
		t.Helper()
		snap := dp.snap.Load()
		p.processBatch(snap, 1, b)
		p.flush(snap)
		c := p.ctr
		p.processBatch(snap, 1, b)
		p.flush(snap)
		if p.ctr.upcalls != c.upcalls {
			t.Fatal("upcalls: the megaflows do not cover the batch")
		}
		return p.ctr.emcHits - c.emcHits, p.ctr.megaflowHits - c.megaflowHits
	}
	udp := flow.Mask{EthType: 0xffff, NwProto: 0xff}
	install(udp, flow.IPProtoUDP)
	if e, m := run(); e != 0 || m != packet.BatchSize {
		t.Errorf("one listed subtable: %d EMC hits, %d megaflow hits; want 0, %d", e, m, packet.BatchSize)
	}
	for i := range fewEntries {
		install(udp, flow.IPProtoUDP+1+uint8(i)) // no traffic
	}
	if e, _ := run(); e != packet.BatchSize {
		t.Errorf("hashed subtable: %d EMC hits, want %d", e, packet.BatchSize)
	}

	dp2, _ := newTestDP(t, Config{EMCInsertInvProb: 1, RevalidateInterval: time.Hour}, &testUpcaller{}, 4, nil)
	for i, m := range []flow.Mask{udp, {EthType: 0xffff, NwProto: 0xff, TpDst: 0xffff}} {
		k.NwProto = flow.IPProtoUDP + uint8(i)
		if mf, _ := dp2.install(1, &k, &m, odp.Actions{odp.Output(2)}, 0); mf == nil {
			t.Fatal("install failed")
		}
	}
	dp2.publish()
	if dp2.snap.Load().cls[1].skipEMC {
		t.Error("EMC skipped with two subtables")
	}
}
