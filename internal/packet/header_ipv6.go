package packet

import "encoding/binary"

// IPv6 is an IPv6 fixed header (RFC 8200 §3):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version| Traffic Class |           Flow Label                  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Payload Length        |  Next Header  |   Hop Limit   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	+                  Source Address (16 bytes)                    +
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	+               Destination Address (16 bytes)                  +
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// No field of the fixed header is covered by a checksum of its own; the
// addresses are part of the transport pseudo-header.
type IPv6 []byte

const (
	ipv6VersTCFlow = 0
	ipv6PayloadLen = 4
	ipv6NextHeader = 6
	ipv6HopLimit   = 7
	ipv6Src        = 8
	ipv6Dst        = 24
)

// IPv6MinimumSize is the size of the fixed header.
const IPv6MinimumSize = 40

// IPv6FlowLabelMask masks the flow label in the first word.
const IPv6FlowLabelMask = 0x000fffff

// IPv6 extension headers the datapath walks over.
const (
	IPv6ExtHopByHop = 0
	IPv6ExtRouting  = 43
	IPv6ExtFragment = 44
	IPv6ExtAuth     = 51
	IPv6ExtDestOpts = 60
)

// IsValid reports whether b starts with a whole version 6 fixed header.
func (b IPv6) IsValid() bool { return len(b) >= IPv6MinimumSize && b[0]>>4 == 6 }

// TrafficClass returns the traffic class (DSCP and ECN).
func (b IPv6) TrafficClass() uint8 {
	return uint8(binary.BigEndian.Uint16(b[ipv6VersTCFlow:]) >> 4)
}

// SetTrafficClass sets the traffic class.
func (b IPv6) SetTrafficClass(tc uint8) {
	w := binary.BigEndian.Uint16(b[ipv6VersTCFlow:])
	binary.BigEndian.PutUint16(b[ipv6VersTCFlow:], w&0xf00f|uint16(tc)<<4)
}

// FlowLabel returns the 20-bit flow label.
func (b IPv6) FlowLabel() uint32 {
	return binary.BigEndian.Uint32(b[ipv6VersTCFlow:]) & IPv6FlowLabelMask
}

// SetFlowLabel sets the flow label (its low 20 bits).
func (b IPv6) SetFlowLabel(l uint32) {
	w := binary.BigEndian.Uint32(b[ipv6VersTCFlow:])
	binary.BigEndian.PutUint32(b[ipv6VersTCFlow:], w&^IPv6FlowLabelMask|l&IPv6FlowLabelMask)
}

// PayloadLength returns the length after the fixed header.
func (b IPv6) PayloadLength() uint16 { return binary.BigEndian.Uint16(b[ipv6PayloadLen:]) }

// NextHeader returns the type of the header after the fixed one.
func (b IPv6) NextHeader() uint8 { return b[ipv6NextHeader] }

// HopLimit returns the hop limit.
func (b IPv6) HopLimit() uint8 { return b[ipv6HopLimit] }

// SetHopLimit sets the hop limit.
func (b IPv6) SetHopLimit(h uint8) { b[ipv6HopLimit] = h }

// Source returns the source address; the array aliases b.
func (b IPv6) Source() *[16]byte { return (*[16]byte)(b[ipv6Src : ipv6Src+16]) }

// Destination returns the destination address; the array aliases b.
func (b IPv6) Destination() *[16]byte { return (*[16]byte)(b[ipv6Dst : ipv6Dst+16]) }

// Upper locates the upper-layer header by walking the extension headers
// (RFC 8200 §4) and returns its protocol number and offset in b. It also
// reports whether a routing header with segments left is present: the
// transport pseudo-header then uses the final destination, not the
// Destination field (RFC 8200 §8.1). ok is false when a header is cut off;
// a later fragment returns IPProtoIPv6Frag with the offset of the fragment
// header, since it carries no upper-layer header.
func (b IPv6) Upper() (proto uint8, off int, routing bool, ok bool) {
	proto, off = b.NextHeader(), IPv6MinimumSize
	for {
		switch proto {
		case IPv6ExtHopByHop, IPv6ExtRouting, IPv6ExtDestOpts:
			if len(b) < off+8 {
				return 0, 0, false, false
			}
			if proto == IPv6ExtRouting && b[off+3] != 0 {
				routing = true
			}
			proto, off = b[off], off+(int(b[off+1])+1)*8
		case IPv6ExtAuth:
			if len(b) < off+8 {
				return 0, 0, false, false
			}
			proto, off = b[off], off+(int(b[off+1])+2)*4
		case IPv6ExtFragment:
			f := IPv6Fragment(b[off:])
			if !f.IsValid() {
				return 0, 0, false, false
			}
			if f.FragmentOffset() != 0 {
				return IPProtoIPv6Frag, off, routing, true
			}
			proto, off = f.NextHeader(), off+IPv6FragmentSize
		default:
			return proto, off, routing, off <= len(b)
		}
	}
}

// IPv6Fragment is an IPv6 fragment extension header (RFC 8200 §4.5):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                         Identification                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type IPv6Fragment []byte

const (
	ipv6FragNextHeader = 0
	ipv6FragOffsetM    = 2
	ipv6FragID         = 4
)

// IPv6FragmentSize is the size of the fragment header.
const IPv6FragmentSize = 8

// IsValid reports whether b holds a whole fragment header.
func (b IPv6Fragment) IsValid() bool { return len(b) >= IPv6FragmentSize }

// NextHeader returns the type of the header after this one.
func (b IPv6Fragment) NextHeader() uint8 { return b[ipv6FragNextHeader] }

// FragmentOffset returns the offset of the fragment in 8-byte units.
func (b IPv6Fragment) FragmentOffset() uint16 {
	return binary.BigEndian.Uint16(b[ipv6FragOffsetM:]) >> 3
}

// More reports whether more fragments follow.
func (b IPv6Fragment) More() bool { return b[ipv6FragOffsetM+1]&1 != 0 }

// ID returns the identification.
func (b IPv6Fragment) ID() uint32 { return binary.BigEndian.Uint32(b[ipv6FragID:]) }
