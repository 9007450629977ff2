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
// (flow.ParseBatch) has only 6 of them non-zero, and an entry is laid out
// for those: the in_port word, the 6 simple words, the megaflow's id and
// generation fill exactly one cache line, so that a lookup of a simple key
// (IPv4 TCP, UDP or ICMP, untagged) costs one line per candidate, the line
// lookupBatch prefetches. With 8192 entries the lines take 512 KiB, the
// size of this machine's L2 cache; the whole keys of other entries live in
// rest, read only for keys that are not simple.
type emc struct {
	entries []emcEntry // cache-line aligned, in mem
	rest    [][flow.ParsedWords]uint64
	mem     []byte
	mask    uint32
	shift   uint32 // hash bits used by the first index
	invProb uint32 // insert 1 in invProb hits; 0: never
	rnd     uint32 // xorshift state for probabilistic insertion

	// ways holds the addresses of a batch's candidate entries, for
	// prefetching (kept here so lookupBatch zeroes no array per call).
	ways [2 * batchKeys]uintptr
}

// emcEntry is one cache line.
type emcEntry struct {
	id     uint32 // megaflow slot id, | emcNotSimple if the key is not simple
	gen    uint32 // megaflow generation; 0: empty
	inPort uint64 // key word flow.InPortWord
	simple [6]uint64
}

// emcNotSimple marks, in emcEntry.id, an entry whose key has non-zero
// parsed words beyond the simple ones: its whole key is in emc.rest.
// Megaflow ids stay below it (Config.FlowLimit).
const emcNotSimple = 1 << 31

const cacheLine = 64

var _ [cacheLine - unsafe.Sizeof(emcEntry{})]byte // an entry fits a line
var _ [unsafe.Sizeof(emcEntry{}) - cacheLine]byte // and fills it

// Indexes of the simple words in a key's parsed words (Key.Parsed); they
// are emcEntry.simple's words, in this order.
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
	// Aligned by hand: the runtime promises a []emcEntry only 8 bytes.
	mem := make([]byte, n*cacheLine+cacheLine-1)
	off := (cacheLine - int(uintptr(unsafe.Pointer(&mem[0]))%cacheLine)) % cacheLine
	e := &emc{
		entries: unsafe.Slice((*emcEntry)(unsafe.Pointer(&mem[off])), n),
		rest:    make([][flow.ParsedWords]uint64, n),
		mem:     mem,
		mask:    uint32(n - 1), shift: shift, rnd: 0x2545f491,
	}
	if invProb > 0 {
		e.invProb = uint32(invProb)
	}
	return e
}

// holds reports whether entry i caches the parsed key k; simple says
// whether k is simple.
func (e *emc) holds(i uint32, k *flow.Key, simple bool) bool {
	ent := &e.entries[i]
	if ent.gen == 0 || ent.inPort != k.Words()[flow.InPortWord] {
		return false
	}
	kp := k.Parsed()
	if ent.id&emcNotSimple == 0 {
		return simple && ent.holdsSimple(k.Words()[flow.InPortWord],
			kp[peth0], kp[peth1], kp[pnw], kp[pproto], kp[pflags], kp[ptp])
	}
	return !simple && *kp == e.rest[i]
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
	i := h & e.mask
	if !e.holds(i, k, simple) {
		i = (h >> e.shift) & e.mask
		if !e.holds(i, k, simple) {
			return nil
		}
	}
	return e.entries[i].megaflow(ft)
}

// megaflow returns the megaflow ent caches, if it is still installed.
func (ent *emcEntry) megaflow(ft *flowTable) *megaflow {
	if mf := ft.get(ent.id &^ emcNotSimple); mf != nil && mf.gen == ent.gen {
		return mf
	}
	return nil
}

// holdsSimple reports whether ent caches the simple key with these words
// (an entry of a key that is not simple never does). An empty entry may
// answer yes; its megaflow then finds no generation 0. The words are
// separate arguments so that, inlined, they stay in registers.
func (ent *emcEntry) holdsSimple(inPort, eth0, eth1, nw, proto, flags, tp uint64) bool {
	p := &ent.simple
	return ent.id&emcNotSimple == 0 && ent.inPort == inPort &&
		p[0]^eth0|p[1]^eth1|p[2]^nw|p[3]^proto|p[4]^flags|p[5]^tp == 0
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
		if !ent.holdsSimple(inPort, eth0, eth1, nw, proto, flags, tp) {
			ent = &entries[(h>>shift)&mask]
			if !ent.holdsSimple(inPort, eth0, eth1, nw, proto, flags, tp) {
				miss |= 1 << i
				continue
			}
		}
		if mf := ent.megaflow(ft); mf != nil {
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
// else one of the two candidates picked by a bit of the hash. Keys with
// metadata outside the parsed words are not cached.
func (e *emc) insert(k *flow.Key, h uint32, mf *megaflow) {
	if !k.OnlyParsed() {
		return
	}
	a, b := h&e.mask, (h>>e.shift)&e.mask
	simple := isSimple(k)
	var i uint32
	switch {
	case e.holds(a, k, simple):
		i = a
	case e.holds(b, k, simple):
		i = b
	case e.entries[a].gen == 0:
		i = a
	case e.entries[b].gen == 0:
		i = b
	case h>>31 == 0:
		i = a
	default:
		i = b
	}
	ent := &e.entries[i]
	kp := k.Parsed()
	ent.inPort = k.Words()[flow.InPortWord]
	ent.simple = [6]uint64{kp[peth0], kp[peth1], kp[pnw], kp[pproto], kp[pflags], kp[ptp]}
	ent.id = mf.id
	if !simple {
		ent.id |= emcNotSimple
		e.rest[i] = *kp
	}
	ent.gen = mf.gen
}
