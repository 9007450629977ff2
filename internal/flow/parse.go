package flow

import (
	"encoding/binary"
	"unsafe"

	"github.com/govs/govs/internal/packet"
)

// The parser: packet bytes in, Key out. It reads every header at fixed
// offsets with one length check per header, so a plain TCP/IPv4 packet costs
// a few loads and stores and no allocation. Its behaviour on odd packets
// follows OVS's miniflow_extract, so megaflows and OpenFlow matches mean what
// OVS users expect:
//
//   - A header that is truncated or malformed ends parsing: the key keeps the
//     fields of the headers before it (and the ethertype or protocol number
//     that announced it) and nothing of it or what follows.
//   - 802.3 length frames get EthType EthTypeNone unless an LLC/SNAP header
//     with the Ethernet OUI names a real ethertype.
//   - Up to MaxVLANs tags are kept; a further tag ends parsing with EthType
//     0x8100/0x88a8.
//   - MPLS: up to MaxMPLS label stack entries are kept and nothing behind the
//     stack is parsed (the payload's type is not on the wire).
//   - IPv4/IPv6 padding beyond the IP length is never read as header.
//   - Later fragments carry no L4 fields; an IPv6 later fragment has NwProto
//     44 (the fragment header), as in OVS and the Linux datapath.

// EthTypeNone is Key.EthType of an 802.3 frame that does not carry an
// ethertype in an LLC/SNAP header (OVS's FLOW_DL_TYPE_NONE).
const EthTypeNone = 0x05ff

// Ethertypes the parser looks into.
const (
	ethMin       = 0x0600 // smallest ethertype; below it is an 802.3 length
	ethIPv4      = 0x0800
	ethARP       = 0x0806
	ethRARP      = 0x8035
	ethVLAN      = 0x8100
	ethQinQ      = 0x88a8
	ethIPv6      = 0x86dd
	ethMPLS      = 0x8847
	ethMPLSMcast = 0x8848
)

// IP protocol numbers (IPv6 next-header values) the parser looks into.
const (
	protoHopOpts  = 0
	protoICMP     = 1
	protoTCP      = 6
	protoUDP      = 17
	protoRouting  = 43
	protoFragment = 44
	protoESP      = 50
	protoAH       = 51
	protoICMPv6   = 58
	protoNoNext   = 59
	protoDstOpts  = 60
	protoSCTP     = 132
)

const (
	ethHeaderLen  = 14
	vlanTagLen    = 4
	llcSNAPLen    = 8
	mplsLSELen    = 4
	mplsBOS       = 1 << 8 // bottom-of-stack bit of a label stack entry
	arpEthIPv4Len = 28
)

// Parse fills k from the packet b and records the header offsets in b
// (L3Off, L4Off; packet.NoOffset when absent). Every field of k is reset
// first; k.InPort is set from b.InPort, and callers set the other metadata
// (tunnel, recirculation, registers) afterwards.
func Parse(b *packet.Buffer, k *Key) {
	ParseBatch([]*packet.Buffer{b}, unsafe.Slice(k, 1))
}

// ParseBytes resets k, fills its packet fields from the Ethernet frame data
// and returns the offsets of the network and transport headers
// (packet.NoOffset when absent).
//
// l3Off is set whenever the Ethernet header, VLAN tags and any MPLS stack
// were complete: it is where the header named by k.EthType starts (for MPLS,
// where the stack ends), whatever that ethertype is. l4Off is set when the
// IPv4 or IPv6 header (with its extension headers) was valid and the packet
// is not a later fragment: it is where the header named by k.NwProto starts.
// That header may itself be truncated, in which case k has none of its
// fields; users of l4Off check the length they need.
func ParseBytes(data []byte, k *Key) (l3Off, l4Off int) {
	var b packet.Buffer
	b.Reset(data, 0, len(data))
	Parse(&b, k)
	return int(b.L3Off), int(b.L4Off)
}

// parseGeneral is ParseBytes for a zeroed k: every kind of frame.
func parseGeneral(data []byte, k *Key) (l3Off, l4Off int) {
	if len(data) < ethHeaderLen {
		return packet.NoOffset, packet.NoOffset
	}
	copy(k.EthDst[:], data[0:6])
	copy(k.EthSrc[:], data[6:12])

	off := 12 // the ethertype or TPID being looked at
	typ := binary.BigEndian.Uint16(data[off:])
	for i := 0; i < MaxVLANs && (typ == ethVLAN || typ == ethQinQ); i++ {
		// A tag counts only if the ethertype after it is there too.
		if len(data) < off+vlanTagLen+2 {
			break
		}
		k.VLANs[i] = VLAN{TPID: typ, TCI: binary.BigEndian.Uint16(data[off+2:]) | VLANCFI}
		off += vlanTagLen
		typ = binary.BigEndian.Uint16(data[off:])
	}
	off += 2
	if typ < ethMin {
		typ, off = parseLLC(data, off)
	}
	k.EthType = typ

	l4Off = packet.NoOffset
	switch typ {
	case ethIPv4:
		l4Off = parseIPv4(data, off, k)
	case ethIPv6:
		l4Off = parseIPv6(data, off, k)
	case ethARP, ethRARP:
		parseARP(data[off:], k)
	case ethMPLS, ethMPLSMcast:
		off = parseMPLS(data, off, k)
	}
	// Offsets live in uint16s with NoOffset reserved; only frames longer
	// than 64 KiB could overflow them.
	if off >= packet.NoOffset {
		off = packet.NoOffset
	}
	if l4Off >= packet.NoOffset {
		l4Off = packet.NoOffset
	}
	return off, l4Off
}

// parseLLC reads the 802.2 LLC header of a length frame at data[off:]. Only
// an LLC/SNAP header with the Ethernet OUI (RFC 1042) carries an ethertype;
// it returns that ethertype (or EthTypeNone) and where the payload starts.
func parseLLC(data []byte, off int) (typ uint16, next int) {
	b := data[off:]
	if len(b) < llcSNAPLen || b[0] != 0xaa || b[1] != 0xaa || b[2] != 0x03 ||
		b[3]|b[4]|b[5] != 0 {
		return EthTypeNone, off
	}
	typ = binary.BigEndian.Uint16(b[6:])
	if typ < ethMin {
		typ = EthTypeNone
	}
	return typ, off + llcSNAPLen
}

// parseMPLS keeps the first MaxMPLS entries of the label stack at data[off:]
// and returns where the stack ends (after the bottom-of-stack entry, or at
// the end of a stack that is cut short).
func parseMPLS(data []byte, off int, k *Key) int {
	for i := 0; len(data)-off >= mplsLSELen; i++ {
		lse := binary.BigEndian.Uint32(data[off:])
		if i < MaxMPLS {
			k.MPLS[i] = lse
		}
		off += mplsLSELen
		if lse&mplsBOS != 0 {
			break
		}
	}
	return off
}

// parseARP reads an Ethernet/IPv4 ARP or RARP packet (RFC 826). Other
// hardware or protocol types leave only EthType set.
func parseARP(b []byte, k *Key) {
	if len(b) < arpEthIPv4Len {
		return
	}
	if binary.BigEndian.Uint16(b[0:]) != 1 || binary.BigEndian.Uint16(b[2:]) != ethIPv4 ||
		b[4] != 6 || b[5] != 4 {
		return
	}
	k.ArpOp = binary.BigEndian.Uint16(b[6:])
	copy(k.ArpSHA[:], b[8:14])
	k.NwSrc = binary.BigEndian.Uint32(b[14:])
	copy(k.ArpTHA[:], b[18:24])
	k.NwDst = binary.BigEndian.Uint32(b[24:])
}
