package dpif

import (
	"unsafe"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/prefetch"
)

// emc is a PMD's exact-match cache (OVS's EMC): flow keys mapped to
// megaflow ids. Each key has two candidate entries (two slices of its
// hash); an entry is valid only while the flow table's slot id still holds
// the megaflow generation gen, so deleting or replacing megaflows needs no
// EMC flush. Entries hold no pointers. Only its PMD touches it.
//
// The EMC caches keys fresh from the parser: every word of such a key
// outside flow.InPortWord and the parsed words is zero (Key.OnlyParsed), so
// an entry keeps, and a lookup compares, only those 18 of the key's 39
// words. insert refuses other keys; lookup must only be given parsed keys
// (a datapath that sets tunnel metadata or recirculates before the EMC has
// to store and compare those words too). A key the parser calls simple
// (flow.ParseBatch) has only 6 of them non-zero: when both the key and the
// entry are simple, comparing those 6 and the in_port word is enough.
type emc struct {
	entries []emcEntry
	mask    uint32
	shift   uint32 // hash bits used by the first index
	invProb uint32 // insert 1 in invProb hits; 0: never
	rnd     uint32 // xorshift state for probabilistic insertion

	// ways holds the addresses of a batch's candidate entries, for
	// prefetching (kept here so lookupBatch zeroes no array per call).
	ways [2 * batchKeys]uintptr
}

type emcEntry struct {
	hash   uint32
	id     uint32
	gen    uint32                   // 0: empty
	simple uint32                   // 1: the key is simple
	inPort uint64                   // key word flow.InPortWord
	parsed [flow.ParsedWords]uint64 // the key's parsed words
}

// Indexes of the simple words in emcEntry.parsed.
const (
	peth0  = flow.SimpleWordEth0 - flow.ParsedWordsStart
	peth1  = flow.SimpleWordEth1 - flow.ParsedWordsStart
	pnw    = flow.SimpleWordNw - flow.ParsedWordsStart
	pproto = flow.SimpleWordProto - flow.ParsedWordsStart
	pflags = flow.SimpleWordFlags - flow.ParsedWordsStart
	ptp    = flow.SimpleWordTp - flow.ParsedWordsStart
)

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

// holds reports whether ent caches the parsed key k whose hash is h;
// simple says whether k is simple.
func (ent *emcEntry) holds(k *flow.Key, h uint32, simple bool) bool {
	if ent.hash != h || ent.gen == 0 || ent.inPort != k.Words()[flow.InPortWord] {
		return false
	}
	kp, ep := k.Parsed(), &ent.parsed
	if simple && ent.simple != 0 {
		return kp[peth0]^ep[peth0]|kp[peth1]^ep[peth1]|kp[pnw]^ep[pnw]|
			kp[pproto]^ep[pproto]|kp[pflags]^ep[pflags]|kp[ptp]^ep[ptp] == 0
	}
	return *kp == *ep
}

// isSimple reports whether the parsed key k has nothing but InPort and the
// simple words.
func isSimple(k *flow.Key) bool {
	for i, w := range k.Parsed() {
		switch i {
		case peth0, peth1, pnw, pproto, pflags, ptp:
		default:
			if w != 0 {
				return false
			}
		}
	}
	return true
}

// lookup returns the megaflow cached for the parsed key k, whose emcHash
// is h.
func (e *emc) lookup(k *flow.Key, h uint32, ft *flowTable) *megaflow {
	simple := isSimple(k)
	ent := &e.entries[h&e.mask]
	if !ent.holds(k, h, simple) {
		ent = &e.entries[(h>>e.shift)&e.mask]
		if !ent.holds(k, h, simple) {
			return nil
		}
	}
	if mf := ft.get(ent.id); mf != nil && mf.gen == ent.gen {
		return mf
	}
	return nil
}

// holdsSimple reports whether ent caches the simple key with hash h and
// these words (an entry of a key that is not simple never does). The words
// are separate arguments so that, inlined, they stay in registers.
func (ent *emcEntry) holdsSimple(h uint32, inPort, eth0, eth1, nw, proto, flags, tp uint64) bool {
	p := &ent.parsed
	return ent.hash == h && ent.simple != 0 && ent.inPort == inPort &&
		p[peth0]^eth0|p[peth1]^eth1|p[pnw]^nw|p[pproto]^proto|p[pflags]^flags|p[ptp]^tp == 0
}

// lookupBatch looks the first n parsed keys of a batch up (simple: the
// simple ones, as flow.ParseBatch reports). It stores each key's hash in
// hashes and each hit in found, and returns the misses as a bitmap. For
// simple keys the whole path, emcHash included, is inlined in the loop (Go
// keeps no register across a call); other keys call lookup.
func (e *emc) lookupBatch(keys *[batchKeys]flow.Key, n int, simple uint32, ft *flowTable,
	found *[batchKeys]*megaflow, hashes *[batchKeys]uint32) (miss uint32) {
	entries, mask, shift := e.entries, e.mask, e.shift
	n = min(n, batchKeys)
	// Hash the whole batch first and start loading both candidate entries
	// of every key: with many flows the table (MiBs) is mostly out of
	// cache, and the misses of a batch then overlap instead of being
	// taken one key at a time.
	for i := range n {
		k := &keys[i]
		var h uint32
		if simple&(1<<i) == 0 {
			h = emcHash(k)
		} else {
			w := k.Words()
			// emcHash, by hand, knowing the other words are zero.
			h = fold(mix(w[flow.InPortWord]^w[flow.SimpleWordNw]^emcSeedA,
				w[flow.SimpleWordTp]^w[flow.SimpleWordEth0]^w[flow.SimpleWordEth1]^w[flow.SimpleWordProto]^emcSeedB))
		}
		hashes[i] = h
		e.ways[2*i] = uintptr(unsafe.Pointer(&entries[h&mask]))
		e.ways[2*i+1] = uintptr(unsafe.Pointer(&entries[(h>>shift)&mask]))
	}
	if n > 1 {
		prefetch.Lines(e.ways[:2*n])
	}
	for i := range n {
		k := &keys[i]
		h := hashes[i]
		if simple&(1<<i) == 0 {
			if mf := e.lookup(k, h, ft); mf != nil {
				found[i] = mf
			} else {
				miss |= 1 << i
			}
			continue
		}
		w := k.Words()
		inPort := w[flow.InPortWord]
		eth0, eth1 := w[flow.SimpleWordEth0], w[flow.SimpleWordEth1]
		nw, proto := w[flow.SimpleWordNw], w[flow.SimpleWordProto]
		flags, tp := w[flow.SimpleWordFlags], w[flow.SimpleWordTp]
		ent := &entries[h&mask]
		if !ent.holdsSimple(h, inPort, eth0, eth1, nw, proto, flags, tp) {
			ent = &entries[(h>>shift)&mask]
			if !ent.holdsSimple(h, inPort, eth0, eth1, nw, proto, flags, tp) {
				miss |= 1 << i
				continue
			}
		}
		if mf := ft.get(ent.id); mf != nil && mf.gen == ent.gen {
			found[i] = mf
		} else {
			miss |= 1 << i
		}
	}
	return miss
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
// as OVS makes). Keys with metadata outside the parsed words are not
// cached.
func (e *emc) insert(k *flow.Key, h uint32, mf *megaflow) {
	if !k.OnlyParsed() {
		return
	}
	a := &e.entries[h&e.mask]
	b := &e.entries[(h>>e.shift)&e.mask]
	var v *emcEntry
	simple := isSimple(k)
	switch {
	case a.holds(k, h, simple):
		v = a
	case b.holds(k, h, simple):
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
	v.inPort = k.Words()[flow.InPortWord]
	v.parsed = *k.Parsed()
	v.simple = 0
	if simple {
		v.simple = 1
	}
	v.hash = h
	v.id = mf.id
	v.gen = mf.gen
}
