package packet

import "encoding/binary"

// Ethertypes govs parses or pushes.
const (
	EtherTypeIPv4      = 0x0800
	EtherTypeARP       = 0x0806
	EtherTypeRARP      = 0x8035
	EtherTypeVLAN      = 0x8100 // 802.1Q customer tag
	EtherTypeQinQ      = 0x88a8 // 802.1ad service tag
	EtherTypeIPv6      = 0x86dd
	EtherTypeMPLS      = 0x8847
	EtherTypeMPLSMcast = 0x8848
)

// IsVLANType reports whether ethertype t introduces a VLAN tag.
func IsVLANType(t uint16) bool {
	return t == EtherTypeVLAN || t == EtherTypeQinQ
}

// IsMPLSType reports whether ethertype t introduces an MPLS label stack.
func IsMPLSType(t uint16) bool { return t == EtherTypeMPLS || t == EtherTypeMPLSMcast }

// Ethernet is an Ethernet II header:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                  Destination address (6 bytes)                |
//	+                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                               |                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//	|                    Source address (6 bytes)                   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           EtherType           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// A VLAN tag, when present, sits where EtherType is, and the EtherType
// follows it.
type Ethernet []byte

const (
	ethDst  = 0
	ethSrc  = 6
	ethType = 12
)

// EthernetMinimumSize is the size of an untagged Ethernet header.
const EthernetMinimumSize = 14

// IsValid reports whether e holds a whole untagged header; the accessors
// may be used only when it does.
func (e Ethernet) IsValid() bool { return len(e) >= EthernetMinimumSize }

// Destination returns the destination MAC address.
func (e Ethernet) Destination() [6]byte { return [6]byte(e[ethDst : ethDst+6]) }

// Source returns the source MAC address.
func (e Ethernet) Source() [6]byte { return [6]byte(e[ethSrc : ethSrc+6]) }

// SetDestination sets the destination MAC address.
func (e Ethernet) SetDestination(a [6]byte) { copy(e[ethDst:], a[:]) }

// SetSource sets the source MAC address.
func (e Ethernet) SetSource(a [6]byte) { copy(e[ethSrc:], a[:]) }

// Type returns the outer EtherType (a TPID if the frame is tagged).
func (e Ethernet) Type() uint16 { return binary.BigEndian.Uint16(e[ethType:]) }

// SetType sets the outer EtherType.
func (e Ethernet) SetType(t uint16) { binary.BigEndian.PutUint16(e[ethType:], t) }

// L2Length walks the VLAN tags after the MAC addresses and returns the
// innermost EtherType and the length of the L2 header including it (where
// the MPLS stack or the network header starts). ok is false when a tag or
// the EtherType is cut off.
func (e Ethernet) L2Length() (etherType uint16, n int, ok bool) {
	n = ethType
	for {
		if len(e) < n+2 {
			return 0, 0, false
		}
		t := binary.BigEndian.Uint16(e[n:])
		if !IsVLANType(t) {
			return t, n + 2, true
		}
		n += VLANTagSize
	}
}

// VLANTag is an 802.1Q/802.1ad tag as it sits in a frame, its TPID
// followed by its TCI:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|             TPID              | PCP |D|         VID           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type VLANTag []byte

const (
	vlanTPID = 0
	vlanTCI  = 2
)

// VLANTagSize is the size of a VLAN tag.
const VLANTagSize = 4

// VLAN TCI parts.
const (
	VLANVIDMask  = 0x0fff
	VLANDEI      = 0x1000
	VLANPCPShift = 13
)

// IsValid reports whether v holds a whole tag with a VLAN TPID.
func (v VLANTag) IsValid() bool { return len(v) >= VLANTagSize && IsVLANType(v.TPID()) }

// TPID returns the tag protocol identifier.
func (v VLANTag) TPID() uint16 { return binary.BigEndian.Uint16(v[vlanTPID:]) }

// TCI returns the tag control information (PCP, DEI, VID).
func (v VLANTag) TCI() uint16 { return binary.BigEndian.Uint16(v[vlanTCI:]) }

// VID returns the VLAN id.
func (v VLANTag) VID() uint16 { return v.TCI() & VLANVIDMask }

// PCP returns the priority code point.
func (v VLANTag) PCP() uint8 { return uint8(v.TCI() >> VLANPCPShift) }

// SetTCI sets the tag control information.
func (v VLANTag) SetTCI(tci uint16) { binary.BigEndian.PutUint16(v[vlanTCI:], tci) }

// Encode writes a tag.
func (v VLANTag) Encode(tpid, tci uint16) {
	binary.BigEndian.PutUint16(v[vlanTPID:], tpid)
	binary.BigEndian.PutUint16(v[vlanTCI:], tci)
}

// MPLS is one MPLS label stack entry (RFC 3032 §2.1):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                Label                  | TC  |S|      TTL      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type MPLS []byte

// MPLSSize is the size of a label stack entry.
const MPLSSize = 4

// Label stack entry parts.
const (
	MPLSLabelShift = 12
	MPLSTCShift    = 9
	MPLSBOS        = 1 << 8
	MPLSTTLMask    = 0xff
)

// IsValid reports whether m holds a whole entry.
func (m MPLS) IsValid() bool { return len(m) >= MPLSSize }

// LSE returns the whole entry.
func (m MPLS) LSE() uint32 { return binary.BigEndian.Uint32(m) }

// SetLSE sets the whole entry.
func (m MPLS) SetLSE(lse uint32) { binary.BigEndian.PutUint32(m, lse) }

// Label returns the 20-bit label.
func (m MPLS) Label() uint32 { return m.LSE() >> MPLSLabelShift }

// TC returns the 3-bit traffic class.
func (m MPLS) TC() uint8 { return uint8(m.LSE()>>MPLSTCShift) & 7 }

// BOS reports whether this is the bottom of the stack.
func (m MPLS) BOS() bool { return m.LSE()&MPLSBOS != 0 }

// TTL returns the time to live.
func (m MPLS) TTL() uint8 { return uint8(m.LSE()) }
