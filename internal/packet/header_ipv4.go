package packet

import "encoding/binary"

// IPv4 is an IPv4 header (RFC 791 §3.1):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version|  IHL  |Type of Service|          Total Length         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Identification        |Flags|      Fragment Offset    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Time to Live |    Protocol   |         Header Checksum       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                       Source Address                          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Destination Address                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Options                    |    Padding    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type IPv4 []byte

const (
	ipv4VersIHL  = 0
	ipv4TOS      = 1
	ipv4TotalLen = 2
	ipv4ID       = 4
	ipv4FlagsOff = 6
	ipv4TTL      = 8
	ipv4Protocol = 9
	ipv4Checksum = 10
	ipv4Src      = 12
	ipv4Dst      = 16
)

// IPv4MinimumSize is the size of an IPv4 header without options.
const IPv4MinimumSize = 20

// IPv4 fragment field parts.
const (
	IPv4MoreFragments  = 0x2000
	IPv4DontFragment   = 0x4000
	IPv4FragOffsetMask = 0x1fff
)

// IP protocol numbers govs looks into.
const (
	IPProtoICMP     = 1
	IPProtoTCP      = 6
	IPProtoUDP      = 17
	IPProtoIPv6Frag = 44
	IPProtoICMPv6   = 58
	IPProtoSCTP     = 132
)

// IsValid reports whether b starts with a whole IPv4 header (options
// included) whose total length fits in b. The accessors may be used only
// when it does.
func (b IPv4) IsValid() bool {
	if len(b) < IPv4MinimumSize || b[ipv4VersIHL]>>4 != 4 {
		return false
	}
	hl := b.HeaderLength()
	tl := int(b.TotalLength())
	return hl >= IPv4MinimumSize && hl <= tl && tl <= len(b)
}

// HeaderLength returns the header length in bytes, options included.
func (b IPv4) HeaderLength() int { return int(b[ipv4VersIHL]&0xf) * 4 }

// TOS returns the type of service byte (DSCP and ECN).
func (b IPv4) TOS() uint8 { return b[ipv4TOS] }

// TotalLength returns the datagram length, header included.
func (b IPv4) TotalLength() uint16 { return binary.BigEndian.Uint16(b[ipv4TotalLen:]) }

// ID returns the identification field.
func (b IPv4) ID() uint16 { return binary.BigEndian.Uint16(b[ipv4ID:]) }

// Flags returns the flags and fragment offset word.
func (b IPv4) Flags() uint16 { return binary.BigEndian.Uint16(b[ipv4FlagsOff:]) }

// IsLaterFragment reports whether the datagram is a fragment other than the
// first one (it carries no transport header).
func (b IPv4) IsLaterFragment() bool { return b.Flags()&IPv4FragOffsetMask != 0 }

// TTL returns the time to live.
func (b IPv4) TTL() uint8 { return b[ipv4TTL] }

// Protocol returns the transport protocol number.
func (b IPv4) Protocol() uint8 { return b[ipv4Protocol] }

// Checksum returns the header checksum field.
func (b IPv4) Checksum() uint16 { return binary.BigEndian.Uint16(b[ipv4Checksum:]) }

// Source returns the source address.
func (b IPv4) Source() [4]byte { return [4]byte(b[ipv4Src : ipv4Src+4]) }

// Destination returns the destination address.
func (b IPv4) Destination() [4]byte { return [4]byte(b[ipv4Dst : ipv4Dst+4]) }

// Payload returns the bytes after the header, up to the total length.
func (b IPv4) Payload() []byte { return b[b.HeaderLength():b.TotalLength()] }

// SetChecksum sets the header checksum field.
func (b IPv4) SetChecksum(c uint16) { binary.BigEndian.PutUint16(b[ipv4Checksum:], c) }

// The setters below keep the header checksum right (RFC 1624), so a
// rewrite costs a few additions instead of a pass over the header.

// SetTOS sets the type of service byte.
func (b IPv4) SetTOS(tos uint8) {
	old := binary.BigEndian.Uint16(b[ipv4VersIHL:])
	b[ipv4TOS] = tos
	b.SetChecksum(ChecksumUpdate16(b.Checksum(), old, binary.BigEndian.Uint16(b[ipv4VersIHL:])))
}

// SetTTL sets the time to live.
func (b IPv4) SetTTL(ttl uint8) {
	old := binary.BigEndian.Uint16(b[ipv4TTL:])
	b[ipv4TTL] = ttl
	b.SetChecksum(ChecksumUpdate16(b.Checksum(), old, binary.BigEndian.Uint16(b[ipv4TTL:])))
}

// SetSource sets the source address.
func (b IPv4) SetSource(a [4]byte) { b.setAddr(ipv4Src, a) }

// SetDestination sets the destination address.
func (b IPv4) SetDestination(a [4]byte) { b.setAddr(ipv4Dst, a) }

func (b IPv4) setAddr(off int, a [4]byte) {
	old := binary.BigEndian.Uint32(b[off:])
	copy(b[off:off+4], a[:])
	b.SetChecksum(ChecksumUpdate32(b.Checksum(), old, binary.BigEndian.Uint32(a[:])))
}

// CalculateChecksum returns the checksum the header should carry.
func (b IPv4) CalculateChecksum() uint16 {
	hl := b.HeaderLength()
	s := Checksum(b[:ipv4Checksum], 0)
	return ^Checksum(b[ipv4Checksum+2:hl], s)
}

// IPv4Fields describes an IPv4 header for Encode.
type IPv4Fields struct {
	TOS         uint8
	TotalLength uint16
	ID          uint16
	Flags       uint16 // flags and fragment offset
	TTL         uint8
	Protocol    uint8
	Src, Dst    [4]byte
}

// Encode writes a 20-byte header with its checksum.
func (b IPv4) Encode(f *IPv4Fields) {
	b[ipv4VersIHL] = 0x45
	b[ipv4TOS] = f.TOS
	binary.BigEndian.PutUint16(b[ipv4TotalLen:], f.TotalLength)
	binary.BigEndian.PutUint16(b[ipv4ID:], f.ID)
	binary.BigEndian.PutUint16(b[ipv4FlagsOff:], f.Flags)
	b[ipv4TTL] = f.TTL
	b[ipv4Protocol] = f.Protocol
	copy(b[ipv4Src:], f.Src[:])
	copy(b[ipv4Dst:], f.Dst[:])
	b.SetChecksum(0)
	b.SetChecksum(b.CalculateChecksum())
}
