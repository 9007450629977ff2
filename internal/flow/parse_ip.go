package flow

import (
	"encoding/binary"

	"github.com/govs/govs/internal/packet"
)

const (
	ipv4MinLen    = 20
	ipv4MF        = 0x2000 // more-fragments flag in the flags/offset word
	ipv4OffMask   = 0x1fff // fragment offset in the flags/offset word
	ipv6HeaderLen = 40
	ipv6FragLen   = 8
	ipv6OffMask   = 0xfff8 // fragment offset in the fragment header's word
	ipv6M         = 0x0001 // more-fragments flag in the same word
)

// parseIPv4 reads the IPv4 header at data[off:] (RFC 791) and, unless the
// packet is a later fragment, its transport header. It returns the transport
// header's offset, or NoOffset.
//
// A header whose IHL or total length does not fit the packet is ignored as a
// whole: none of its fields can be trusted.
func parseIPv4(data []byte, off int, k *Key) int {
	h := data[off:]
	if len(h) < ipv4MinLen {
		return packet.NoOffset
	}
	ihl := int(h[0]&0x0f) * 4
	tot := int(binary.BigEndian.Uint16(h[2:]))
	if ihl < ipv4MinLen || ihl > tot || tot > len(h) {
		return packet.NoOffset
	}
	h = h[:tot] // Ethernet padding is not payload
	k.NwTOS = h[1]
	k.NwTTL = h[8]
	k.NwProto = h[9]
	k.NwSrc = binary.BigEndian.Uint32(h[12:])
	k.NwDst = binary.BigEndian.Uint32(h[16:])
	if frag := binary.BigEndian.Uint16(h[6:]); frag&(ipv4MF|ipv4OffMask) != 0 {
		k.NwFrag = FragAny
		if frag&ipv4OffMask != 0 {
			k.NwFrag |= FragLater
			return packet.NoOffset
		}
	}
	l4 := h[ihl:]
	if k.NwProto == protoICMP {
		parseICMP(l4, k)
	} else {
		parsePorts(l4, k.NwProto, k)
	}
	return off + ihl
}

// parseIPv6 reads the IPv6 header at data[off:] (RFC 8200), its extension
// headers and, unless the packet is a later fragment, its upper-layer
// header. It returns the upper-layer header's offset, or NoOffset.
func parseIPv6(data []byte, off int, k *Key) int {
	h := data[off:]
	if len(h) < ipv6HeaderLen || h[0]>>4 != 6 {
		return packet.NoOffset
	}
	plen := int(binary.BigEndian.Uint16(h[4:]))
	if ipv6HeaderLen+plen > len(h) {
		return packet.NoOffset
	}
	h = h[:ipv6HeaderLen+plen] // Ethernet padding is not payload
	vtcfl := binary.BigEndian.Uint32(h[0:])
	k.NwTOS = uint8(vtcfl >> 20)
	k.IPv6Label = vtcfl & 0xfffff
	k.NwTTL = h[7]
	copy(k.IPv6Src[:], h[8:24])
	copy(k.IPv6Dst[:], h[24:40])

	nh := h[6]
	p := ipv6HeaderLen
	if isIPv6Exthdr(nh) {
		var ok bool
		if p, nh, ok = parseIPv6Exthdrs(h, p, nh, k); !ok {
			k.NwProto = nh
			return packet.NoOffset
		}
	}
	k.NwProto = nh
	l4 := h[p:]
	switch nh {
	case protoICMPv6:
		parseICMPv6(l4, k)
	case protoNoNext:
		return packet.NoOffset
	default:
		parsePorts(l4, nh, k)
	}
	return off + p
}

func isIPv6Exthdr(nh uint8) bool {
	switch nh {
	case protoHopOpts, protoRouting, protoDstOpts, protoFragment, protoAH, protoESP, protoNoNext:
		return true
	}
	return false
}

// Ranks of the extension headers in the order RFC 8200 §4.1 recommends.
// Destination Options appears twice: before a Routing header (options for
// every listed destination) and last (options for the final destination).
const (
	rankHop = 1 + iota
	rankDestFirst
	rankRouting
	rankFrag
	rankAuth
	rankESP
	rankDestLast
)

// parseIPv6Exthdrs walks the extension headers of the IPv6 packet h starting
// at h[p:] with next-header value nh, sets k.IPv6Exthdr and k.NwFrag, and
// returns where the upper-layer header starts and its protocol number. ok is
// false when there is no upper-layer header to parse: a header was
// truncated (nh is then its type), or the packet is a later fragment (nh is
// then protoFragment, as in OVS).
//
// ESP ends the walk (what follows is encrypted) and its header is reported
// as the upper layer. Flags for unexpected repeats and sequencing follow
// OpenFlow 1.3 §7.2.3.7 against the recommended order above.
func parseIPv6Exthdrs(h []byte, p int, nh uint8, k *Key) (next int, proto uint8, ok bool) {
	var (
		seen uint16 // bit per rank
		last int    // highest rank so far
	)
	for {
		var (
			rank int
			flag uint16
			n    int // length of this header
		)
		b := h[p:]
		switch nh {
		case protoHopOpts, protoRouting, protoDstOpts:
			if len(b) < 8 {
				return p, nh, false
			}
			n = (int(b[1]) + 1) * 8
			switch nh {
			case protoHopOpts:
				rank, flag = rankHop, ExthdrHop
			case protoRouting:
				rank, flag = rankRouting, ExthdrRouter
			default:
				rank, flag = rankDestLast, ExthdrDest
				if b[0] == protoRouting {
					rank = rankDestFirst
				}
			}
		case protoFragment:
			n, rank, flag = ipv6FragLen, rankFrag, ExthdrFrag
		case protoAH:
			if len(b) < 8 {
				return p, nh, false
			}
			n, rank, flag = (int(b[1])+2)*4, rankAuth, ExthdrAuth
		case protoESP:
			n, rank, flag = 0, rankESP, ExthdrESP
		case protoNoNext:
			k.IPv6Exthdr |= ExthdrNoNext
			return p, nh, true
		default:
			return p, nh, true
		}
		if len(b) < n {
			return p, nh, false
		}
		k.IPv6Exthdr |= flag
		if seen&(1<<rank) != 0 {
			k.IPv6Exthdr |= ExthdrUnrep
		}
		if rank < last {
			k.IPv6Exthdr |= ExthdrUnseq
		}
		seen |= 1 << rank
		last = max(last, rank)
		if nh == protoESP {
			return p, nh, true
		}
		if nh == protoFragment {
			word := binary.BigEndian.Uint16(b[2:])
			if word&(ipv6OffMask|ipv6M) != 0 {
				k.NwFrag |= FragAny
				if word&ipv6OffMask != 0 {
					k.NwFrag |= FragLater
					return p + n, protoFragment, false
				}
			}
		}
		nh = b[0]
		p += n
	}
}
