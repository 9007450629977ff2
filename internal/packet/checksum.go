package packet

import (
	"encoding/binary"
	"hash/crc32"
	"math/bits"
)

// Internet checksums (RFC 1071) are kept here in two forms: a "sum" is the
// folded 16-bit one's-complement sum of some bytes, and a "checksum" is what
// a header's checksum field holds, the complement of the sum. Functions say
// which one they take and return.

// Checksum returns the one's-complement sum of b, added to initial (a sum
// of earlier bytes, such as a pseudo-header). An odd last byte is padded
// with a zero, so b must start at an even offset of the summed data.
//
// It adds 64 bits at a time with carries kept by bits.Add64, which is
// equivalent to summing 16-bit words because one's-complement addition is
// associative and byte-order independent up to the final fold (RFC 1071 §2).
func Checksum(b []byte, initial uint16) uint16 {
	var sum, carry uint64
	sum = uint64(initial)
	for len(b) >= 32 {
		sum, carry = bits.Add64(sum, binary.BigEndian.Uint64(b[0:8]), 0)
		sum, carry = bits.Add64(sum, binary.BigEndian.Uint64(b[8:16]), carry)
		sum, carry = bits.Add64(sum, binary.BigEndian.Uint64(b[16:24]), carry)
		sum, carry = bits.Add64(sum, binary.BigEndian.Uint64(b[24:32]), carry)
		sum += carry
		b = b[32:]
	}
	for len(b) >= 8 {
		sum, carry = bits.Add64(sum, binary.BigEndian.Uint64(b), 0)
		sum += carry
		b = b[8:]
	}
	if len(b) >= 4 {
		sum, carry = bits.Add64(sum, uint64(binary.BigEndian.Uint32(b)), 0)
		sum += carry
		b = b[4:]
	}
	if len(b) >= 2 {
		sum, carry = bits.Add64(sum, uint64(binary.BigEndian.Uint16(b)), 0)
		sum += carry
		b = b[2:]
	}
	if len(b) == 1 {
		sum, carry = bits.Add64(sum, uint64(b[0])<<8, 0)
		sum += carry
	}
	return fold64(sum)
}

// fold64 folds a 64-bit one's-complement accumulator to 16 bits.
func fold64(s uint64) uint16 {
	s = (s >> 32) + (s & 0xffffffff)
	s = (s >> 32) + (s & 0xffffffff)
	s = (s >> 16) + (s & 0xffff)
	s = (s >> 16) + (s & 0xffff)
	s = (s >> 16) + (s & 0xffff)
	return uint16(s)
}

// ChecksumCombine returns the one's-complement sum of two sums.
func ChecksumCombine(a, b uint16) uint16 {
	s := uint32(a) + uint32(b)
	return uint16(s + s>>16)
}

// ChecksumUpdate16 returns a header's new checksum field after a 16-bit
// word it covers changed from old to new (RFC 1624 eqn. 3:
// HC' = ~(~HC + ~m + m')), which never yields the ambiguous -0 the older
// RFC 1141 formula can.
func ChecksumUpdate16(csum, old, new uint16) uint16 {
	return ^fold32(uint32(^csum) + uint32(^old) + uint32(new))
}

// fold32 folds a sum of up to 65537 16-bit words to 16 bits.
func fold32(s uint32) uint16 {
	s = s>>16 + s&0xffff
	return uint16(s + s>>16)
}

// ChecksumUpdate32 is ChecksumUpdate16 for a 32-bit, 16-bit aligned field
// (an IPv4 address, a pair of ports).
func ChecksumUpdate32(csum uint16, old, new uint32) uint16 {
	old = ^old
	return ^fold32(uint32(^csum) + old>>16 + old&0xffff + new>>16 + new&0xffff)
}

// ChecksumUpdateBytes is ChecksumUpdate16 for a field of any even length
// at an even offset (IPv6 addresses, MAC addresses in ND options). old and
// new must have the same length.
func ChecksumUpdateBytes(csum uint16, old, new []byte) uint16 {
	// ~old summed equals ~(sum of old), so subtracting old is adding the
	// complement of its sum.
	s := ChecksumCombine(^csum, ^Checksum(old, 0))
	return ^Checksum(new, s)
}

// ChecksumUpdate128 is ChecksumUpdateBytes for a 16-byte (IPv6) address.
func ChecksumUpdate128(csum uint16, old, new *[16]byte) uint16 {
	o := fold64(add128(old))
	n := fold64(add128(new))
	return ^ChecksumCombine(ChecksumCombine(^csum, ^o), n)
}

func add128(a *[16]byte) uint64 {
	s, c := bits.Add64(binary.BigEndian.Uint64(a[0:8]), binary.BigEndian.Uint64(a[8:16]), 0)
	return s + c
}

// PseudoHeaderSumIPv4 returns the sum of the IPv4 pseudo-header that TCP,
// UDP and the RFC 768 family cover (RFC 793 §3.1): addresses, protocol and
// the transport length.
func PseudoHeaderSumIPv4(src, dst [4]byte, proto uint8, length uint16) uint16 {
	s := uint64(binary.BigEndian.Uint32(src[:])) + uint64(binary.BigEndian.Uint32(dst[:])) +
		uint64(proto) + uint64(length)
	return fold64(s)
}

// PseudoHeaderSumIPv6 returns the sum of the IPv6 pseudo-header (RFC 8200
// §8.1): addresses, upper-layer length and next header.
func PseudoHeaderSumIPv6(src, dst *[16]byte, proto uint8, length uint32) uint16 {
	s, c := bits.Add64(add128(src), add128(dst), 0)
	s += c
	s, c = bits.Add64(s, uint64(length)+uint64(proto), 0)
	return fold64(s + c)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// SCTPChecksum returns the CRC32c (RFC 9260 Appendix A) of an SCTP packet
// as if its checksum field (bytes 8..11) were zero, without writing to b.
// The field holds it in little-endian byte order. b must be at least
// SCTPMinimumSize bytes.
func SCTPChecksum(b []byte) uint32 {
	var zero [4]byte
	crc := crc32.Update(0, castagnoli, b[:sctpChecksum])
	crc = crc32.Update(crc, castagnoli, zero[:])
	return crc32.Update(crc, castagnoli, b[sctpChecksum+4:])
}
