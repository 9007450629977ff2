package dpif

import (
	"math/bits"
	"unsafe"

	"github.com/govs/govs/internal/flow"
)

// Hashing of keys, in the style of xxh3's 16-byte mixer: words are taken in
// pairs, each pair XORed with secrets and folded through one 64x64->128
// multiply. The multiplies of different pairs are independent, so a hash of
// n words costs about n/2 multiplies issued back to back rather than a
// chain of n dependent ones; no state lives on the heap.

// hashSecrets are arbitrary odd constants, one per key word.
var hashSecrets = func() (s [flow.KeyWords + 1]uint64) {
	x := uint64(0x9e3779b97f4a7c15)
	for i := range s {
		// splitmix64
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		s[i] = (z ^ z>>31) | 1
	}
	return s
}()

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

func finish(h uint64) uint32 {
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 32
	return uint32(h)
}

// hashMasked hashes the n masked words in w.
func hashMasked(w *[flow.KeyWords]uint64, n int) uint32 {
	h := uint64(n)
	i := 0
	for ; i+1 < n; i += 2 {
		h += mix(w[i]^hashSecrets[i], w[i+1]^hashSecrets[i+1])
	}
	if i < n {
		h += mix(w[i]^hashSecrets[i], hashSecrets[flow.KeyWords])
	}
	return finish(h)
}

// emcWords are the key words the EMC hashes: those that tell flows apart in
// real traffic (port, addresses, ethertype and tags, protocol and ports).
// The EMC compares whole keys, so flows differing only elsewhere (registers,
// tunnel metadata) merely share a bucket.
var emcWords = func() []uint8 {
	var k flow.Key
	base := uintptr(unsafe.Pointer(&k))
	var seen [flow.KeyWords]bool
	var ws []uint8
	add := func(p unsafe.Pointer, size uintptr) {
		off := uintptr(p) - base
		for b := off / 8; b <= (off+size-1)/8; b++ {
			if !seen[b] {
				seen[b] = true
				ws = append(ws, uint8(b))
			}
		}
	}
	add(unsafe.Pointer(&k.InPort), unsafe.Sizeof(k.InPort))
	add(unsafe.Pointer(&k.TunID), unsafe.Sizeof(k.TunID))
	add(unsafe.Pointer(&k.EthDst), unsafe.Sizeof(k.EthDst)+unsafe.Sizeof(k.EthSrc))
	add(unsafe.Pointer(&k.EthType), unsafe.Sizeof(k.EthType))
	add(unsafe.Pointer(&k.VLANs), unsafe.Sizeof(k.VLANs))
	add(unsafe.Pointer(&k.MPLS), unsafe.Sizeof(k.MPLS))
	add(unsafe.Pointer(&k.NwSrc), unsafe.Sizeof(k.NwSrc)+unsafe.Sizeof(k.NwDst))
	add(unsafe.Pointer(&k.IPv6Src), unsafe.Sizeof(k.IPv6Src)+unsafe.Sizeof(k.IPv6Dst))
	add(unsafe.Pointer(&k.NwProto), 1)
	add(unsafe.Pointer(&k.TpSrc), unsafe.Sizeof(k.TpSrc)+unsafe.Sizeof(k.TpDst))
	return ws
}()

// emcHash hashes the words of k that emcWords lists.
func emcHash(k *flow.Key) uint32 {
	w := k.Words()
	ws := emcWords
	h := uint64(len(ws))
	i := 0
	for ; i+1 < len(ws); i += 2 {
		h += mix(w[ws[i]]^hashSecrets[i], w[ws[i+1]]^hashSecrets[i+1])
	}
	if i < len(ws) {
		h += mix(w[ws[i]]^hashSecrets[i], hashSecrets[flow.KeyWords])
	}
	return finish(h)
}
