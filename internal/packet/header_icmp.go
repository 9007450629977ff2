package packet

import "encoding/binary"

// ICMPv4 is the fixed part of an ICMP message (RFC 792):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |     Code      |          Checksum             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Rest of header (by type)                   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The ICMPv4 checksum covers the message only; the ICMPv6 one (ICMPv6,
// same layout) also covers the IPv6 pseudo-header.
type ICMPv4 []byte

const (
	icmpType     = 0
	icmpCode     = 1
	icmpChecksum = 2
)

// ICMPv4MinimumSize is the size of the type, code, checksum and the
// 4-byte rest of header every ICMPv4 message has.
const ICMPv4MinimumSize = 8

// IsValid reports whether b holds a whole fixed part.
func (b ICMPv4) IsValid() bool { return len(b) >= ICMPv4MinimumSize }

// Type returns the message type.
func (b ICMPv4) Type() uint8 { return b[icmpType] }

// Code returns the message code.
func (b ICMPv4) Code() uint8 { return b[icmpCode] }

// Checksum returns the checksum field.
func (b ICMPv4) Checksum() uint16 { return binary.BigEndian.Uint16(b[icmpChecksum:]) }

// SetChecksum sets the checksum field.
func (b ICMPv4) SetChecksum(c uint16) { binary.BigEndian.PutUint16(b[icmpChecksum:], c) }

// SetTypeCode sets type and code, keeping the checksum right.
func (b ICMPv4) SetTypeCode(typ, code uint8) {
	b.SetChecksum(setTypeCode(b, typ, code))
}

func setTypeCode(b []byte, typ, code uint8) uint16 {
	old := binary.BigEndian.Uint16(b[icmpType:])
	b[icmpType], b[icmpCode] = typ, code
	return ChecksumUpdate16(binary.BigEndian.Uint16(b[icmpChecksum:]), old, uint16(typ)<<8|uint16(code))
}

// ICMPv6 is an ICMPv6 message (RFC 4443 §2.1), laid out like ICMPv4. For
// neighbour solicitations and advertisements (RFC 4861 §4.3, §4.4) the
// target address follows 4 reserved/flag bytes, then options:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |     Code      |          Checksum             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Reserved / R|S|O flags                     |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                  Target Address (16 bytes)                    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Option type  |  Length (x8)  |  Link-layer address ...       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type ICMPv6 []byte

const (
	ndTarget  = 8
	ndOptions = 24
)

// ICMPv6MinimumSize is the size of type, code and checksum.
const ICMPv6MinimumSize = 4

// NDMinimumSize is the size of a neighbour solicitation or advertisement
// without options.
const NDMinimumSize = 24

// ICMPv6 types for neighbour discovery.
const (
	ICMPv6NeighborSolicit = 135
	ICMPv6NeighborAdvert  = 136
)

// ND option types carrying link-layer addresses.
const (
	NDOptSourceLinkAddr = 1
	NDOptTargetLinkAddr = 2
)

// IsValid reports whether b holds type, code and checksum.
func (b ICMPv6) IsValid() bool { return len(b) >= ICMPv6MinimumSize }

// Type returns the message type.
func (b ICMPv6) Type() uint8 { return b[icmpType] }

// Code returns the message code.
func (b ICMPv6) Code() uint8 { return b[icmpCode] }

// Checksum returns the checksum field.
func (b ICMPv6) Checksum() uint16 { return binary.BigEndian.Uint16(b[icmpChecksum:]) }

// SetChecksum sets the checksum field.
func (b ICMPv6) SetChecksum(c uint16) { binary.BigEndian.PutUint16(b[icmpChecksum:], c) }

// SetTypeCode sets type and code, keeping the checksum right.
func (b ICMPv6) SetTypeCode(typ, code uint8) { b.SetChecksum(setTypeCode(b, typ, code)) }

// IsND reports whether b is a whole neighbour solicitation or advertisement.
func (b ICMPv6) IsND() bool {
	return len(b) >= NDMinimumSize && b[icmpCode] == 0 &&
		(b[icmpType] == ICMPv6NeighborSolicit || b[icmpType] == ICMPv6NeighborAdvert)
}

// NDTarget returns the target address of an ND message; it aliases b.
func (b ICMPv6) NDTarget() *[16]byte { return (*[16]byte)(b[ndTarget : ndTarget+16]) }

// NDLinkAddr returns the Ethernet address carried by the first ND option
// of type opt (NDOptSourceLinkAddr or NDOptTargetLinkAddr), aliasing b, or
// nil when there is none or the options are malformed.
func (b ICMPv6) NDLinkAddr(opt uint8) []byte {
	for off := ndOptions; off+8 <= len(b); {
		n := int(b[off+1]) * 8
		if n == 0 || off+n > len(b) {
			return nil
		}
		if b[off] == opt && n == 8 {
			return b[off+2 : off+8 : off+8]
		}
		off += n
	}
	return nil
}
