// Package flow defines the flow key: the fixed-size, pointer-free summary of
// one packet's headers and metadata that every cache and table in govs is
// keyed on, and the parser that fills it from packet bytes.
//
// A Key doubles as a mask: a Mask is a Key whose set bits say which bits of a
// key a megaflow or an OpenFlow match depends on. Because Key is a flat
// struct of plain integers with no padding, it can be viewed as an array of
// 64-bit words (Words); hashing and comparing masked keys work on those
// words, and tables of keys are never scanned by the garbage collector.
//
// Field overloading follows OVS's struct flow so that people who know OVS
// can read it:
//
//   - NwSrc/NwDst hold the IPv4 addresses, or ARP's SPA/TPA.
//   - ArpSHA/ArpTHA hold ARP's SHA/THA, or IPv6 ND's SLL/TLL option.
//   - TpSrc/TpDst hold TCP/UDP/SCTP ports, or the ICMP/ICMPv6 type and code.
//   - VLANs[i].TCI has VLANCFI set when that tag is present, so a match on
//     "no VLAN" (TCI == 0) differs from "VLAN 0" (TCI == VLANCFI).
//   - EthType is the innermost ethertype, after every VLAN tag (OVS dl_type);
//     for MPLS packets it is the MPLS ethertype and MPLS holds the labels.
//
// All multi-byte integer fields hold host-order values (an IPv4 address
// 10.0.0.1 is 0x0a000001); byte-array fields hold wire-order bytes.
package flow

import "unsafe"

// VLANCFI marks a VLAN tag as present in VLAN.TCI (OVS's VLAN_CFI): real
// packets carry DEI there, which govs, like OVS, does not keep.
const VLANCFI = 0x1000

// Fragment bits of Key.NwFrag (OVS's FLOW_NW_FRAG_*).
const (
	FragAny   = 1 << 0 // the packet is a fragment
	FragLater = 1 << 1 // ... and not the first one
)

// TCP flags kept in Key.TCPFlags (low 12 bits of the TCP header's flags).
const (
	TCPFin = 1 << 0
	TCPSyn = 1 << 1
	TCPRst = 1 << 2
	TCPPsh = 1 << 3
	TCPAck = 1 << 4
	TCPUrg = 1 << 5
	TCPEce = 1 << 6
	TCPCwr = 1 << 7
	TCPNs  = 1 << 8
)

// IPv6 extension header flags (OXM IPV6_EXTHDR, OF1.3 §7.2.3.7).
const (
	ExthdrNoNext = 1 << 0 // "no next header" encountered
	ExthdrESP    = 1 << 1
	ExthdrAuth   = 1 << 2
	ExthdrDest   = 1 << 3
	ExthdrFrag   = 1 << 4
	ExthdrRouter = 1 << 5
	ExthdrHop    = 1 << 6
	ExthdrUnrep  = 1 << 7 // unexpected repeats
	ExthdrUnseq  = 1 << 8 // unexpected sequencing
)

// Tunnel flags (Key.TunFlags).
const (
	TunFlagOAM     = 1 << 0
	TunFlagCsum    = 1 << 1
	TunFlagKey     = 1 << 2
	TunFlagDontFrg = 1 << 3
)

// MaxVLANs is how many VLAN tags (802.1Q/802.1ad) the key keeps.
const MaxVLANs = 2

// MaxMPLS is how many MPLS label stack entries the key keeps.
const MaxMPLS = 3

// NumRegs is the number of 32-bit registers (NXM reg0..reg15).
const NumRegs = 16

// VLAN is one VLAN tag: its TPID (0x8100 or 0x88a8) and its TCI with
// VLANCFI set when the tag is present.
type VLAN struct {
	TPID uint16
	TCI  uint16
}

// Key is the flow key. See the package documentation for the conventions.
// Its layout has no padding (key_test.go checks this), so Words views it
// exactly.
type Key struct {
	// Pipeline metadata: set by the datapath and the OpenFlow pipeline,
	// not read from the packet.
	Metadata uint64 // OpenFlow metadata
	TunID    uint64 // tunnel key (VNI, GRE key)
	InPort   uint32 // datapath (odp) port number the packet came in on
	RecircID uint32 // recirculation id (0: first pass)
	PktMark  uint32 // skb mark / pkt_mark
	DpHash   uint32 // datapath hash (select groups, bonds)
	Regs     [NumRegs]uint32

	// Tunnel metadata of a decapsulated packet.
	TunSrc     uint32 // outer IPv4 source
	TunDst     uint32 // outer IPv4 destination
	TunIPv6Src [16]byte
	TunIPv6Dst [16]byte
	TunFlags   uint16
	TunTpSrc   uint16
	TunTpDst   uint16
	TunTOS     uint8
	TunTTL     uint8

	// Conntrack state, reserved for the conntrack issue.
	CtState   uint32
	CtMark    uint32
	CtLabel   [16]byte
	CtNwSrc   uint32
	CtNwDst   uint32
	CtZone    uint16
	CtTpSrc   uint16
	CtTpDst   uint16
	CtNwProto uint8
	NwFrag    uint8 // FragAny | FragLater

	// L2.
	EthDst  [6]byte
	EthSrc  [6]byte
	EthType uint16 // innermost ethertype
	ArpOp   uint16 // ARP opcode (only when EthType is ARP/RARP)
	VLANs   [MaxVLANs]VLAN
	MPLS    [MaxMPLS]uint32 // label stack entries, outermost first
	PbbISID uint32          // PBB I-SID (24 bits)

	// L3.
	NwSrc     uint32 // IPv4 source, or ARP SPA
	NwDst     uint32 // IPv4 destination, or ARP TPA
	IPv6Src   [16]byte
	IPv6Dst   [16]byte
	IPv6Label uint32 // flow label (20 bits)
	NwProto   uint8  // IP protocol / IPv6 last next-header
	NwTOS     uint8  // DSCP (high 6 bits) and ECN (low 2 bits)
	NwTTL     uint8  // IPv4 TTL / IPv6 hop limit
	_         [1]byte

	// ARP and IPv6 neighbour discovery.
	ArpSHA     [6]byte // ARP SHA, or ND source link-layer address
	ArpTHA     [6]byte // ARP THA, or ND target link-layer address
	IPv6Exthdr uint16
	TCPFlags   uint16
	NdTarget   [16]byte

	// L4.
	TpSrc uint16 // source port, or ICMP type
	TpDst uint16 // destination port, or ICMP code
	_     [4]byte
}

// Mask is a Key used as a bit mask: a set bit means "this bit matters".
type Mask = Key

// KeyWords is the size of a Key in 64-bit words.
const KeyWords = int(unsafe.Sizeof(Key{}) / 8)

// Where Parse writes. Parse sets InPort, which lies in word InPortWord
// (with RecircID), and the packet's header fields, which all lie in words
// ParsedWordsStart to KeyWords-1 (NwFrag is the first of them); every other
// word holds pipeline metadata, which Parse zeroes. A cache of keys fresh
// from Parse (the datapath's EMC) compares only these words.
const (
	InPortWord       = int(unsafe.Offsetof(Key{}.InPort) / 8)
	ParsedWordsStart = int(unsafe.Offsetof(Key{}.NwFrag) / 8)
)

// ParsedWords is the number of words from ParsedWordsStart to the end.
const ParsedWords = KeyWords - ParsedWordsStart

// Parsed views the words of k from ParsedWordsStart on. The view aliases k.
func (k *Key) Parsed() *[ParsedWords]uint64 {
	return (*[ParsedWords]uint64)(unsafe.Add(unsafe.Pointer(k), ParsedWordsStart*8))
}

// OnlyParsed reports whether every word of k outside InPortWord and the
// parsed words is zero, as in a key fresh from Parse.
func (k *Key) OnlyParsed() bool {
	w := k.Words()
	for i := range ParsedWordsStart {
		if i != InPortWord && w[i] != 0 {
			return false
		}
	}
	return true
}

// Words views k as an array of 64-bit words. The view aliases k.
func (k *Key) Words() *[KeyWords]uint64 {
	return (*[KeyWords]uint64)(unsafe.Pointer(k))
}

// Bytes views k as bytes. The view aliases k.
func (k *Key) Bytes() *[KeyWords * 8]byte {
	return (*[KeyWords * 8]byte)(unsafe.Pointer(k))
}

// Equal reports whether a and b are equal in every bit, padding included.
func (k *Key) Equal(o *Key) bool { return *k.Words() == *o.Words() }

// Reset zeroes k.
func (k *Key) Reset() { *k = Key{} }

// MaskFrom sets k to src & m.
func (k *Key) MaskFrom(src *Key, m *Mask) {
	d, s, mw := k.Words(), src.Words(), m.Words()
	for i := range d {
		d[i] = s[i] & mw[i]
	}
}

// Or sets every bit of m that is set in o (used to accumulate wildcards).
func (k *Key) Or(o *Key) {
	d, s := k.Words(), o.Words()
	for i := range d {
		d[i] |= s[i]
	}
}

// Within reports whether every bit set in k is also set in outer (for
// masks: k is no wider than outer).
func (k *Key) Within(outer *Key) bool {
	kw, ow := k.Words(), outer.Words()
	for i := range kw {
		if kw[i]&^ow[i] != 0 {
			return false
		}
	}
	return true
}

// IsZero reports whether every bit of k is zero.
func (k *Key) IsZero() bool { return *k.Words() == [KeyWords]uint64{} }

// Exact returns a mask with every bit of every field set, except padding,
// which must stay zero in masks so masked keys never depend on it.
func Exact() Mask {
	var m Mask
	w := m.Words()
	for i := range w {
		w[i] = ^uint64(0)
	}
	clearPadding(&m)
	return m
}

func clearPadding(m *Mask) {
	b := m.Bytes()
	for _, p := range paddingRanges {
		for i := p[0]; i < p[1]; i++ {
			b[i] = 0
		}
	}
}

// paddingRanges lists the byte ranges of Key's blank fields.
var paddingRanges = [][2]uintptr{
	{unsafe.Offsetof(Key{}.NwTTL) + 1, unsafe.Offsetof(Key{}.ArpSHA)},
	{unsafe.Offsetof(Key{}.TpDst) + 2, unsafe.Sizeof(Key{})},
}
