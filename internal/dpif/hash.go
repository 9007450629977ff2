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

// fold folds a mix (or a sum of mixes) to 32 bits: the high half of the
// product already depends on every input bit.
func fold(h uint64) uint32 { return uint32(h ^ h>>32) }

// Key words the EMC hash reads. Only their position matters for speed: the
// EMC compares whole keys, so a field left out of the hash (or a layout
// change that moves one) only makes flows that differ in it share buckets.
// The simple words (flow.SimpleWordEth0...) come first: for a simple key
// the others are zero, and emc.lookupBatch hashes the simple words alone.
const (
	wInPort = flow.InPortWord
	wEth0   = flow.SimpleWordEth0 // EthDst, EthSrc[:2]
	wEth1   = flow.SimpleWordEth1 // EthSrc[2:], EthType
	wNw     = flow.SimpleWordNw   // NwSrc, NwDst
	wProto  = flow.SimpleWordProto
	wTp     = flow.SimpleWordTp // TpSrc, TpDst
	wVLAN   = int(unsafe.Offsetof(flow.Key{}.VLANs) / 8)
	wMPLS   = int(unsafe.Offsetof(flow.Key{}.MPLS) / 8)
	wV6Src  = int(unsafe.Offsetof(flow.Key{}.IPv6Src) / 8)
	wV6Dst  = int(unsafe.Offsetof(flow.Key{}.IPv6Dst) / 8)
)

// emcHash hashes the words of k that tell flows apart in real traffic: the
// in_port, MAC addresses, ethertype and tags, IPv4 or IPv6 addresses,
// protocol and ports (OVS hashes the 5-tuple or takes the NIC's RSS hash).
// They are folded into two words and mixed by one multiply: about 25
// instructions, inlined into the EMC's lookup loop.
func emcHash(k *flow.Key) uint32 {
	w := k.Words()
	a := w[wInPort] ^ w[wNw] ^ w[wVLAN] ^ w[wMPLS] ^ w[wV6Src] ^ w[wV6Dst]
	b := w[wTp] ^ w[wEth0] ^ w[wEth1] ^ w[wProto] ^ w[wV6Src+1] ^ w[wV6Dst+1]
	return fold(mix(a^emcSeedA, b^emcSeedB))
}

// Arbitrary odd constants.
const (
	emcSeedA = 0x2d358dccaa6c78a5
	emcSeedB = 0x8bb84b93962eacc9
)
