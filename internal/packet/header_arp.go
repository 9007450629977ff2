package packet

import "encoding/binary"

// ARP is an ARP packet for IPv4 over Ethernet (RFC 826), the only kind a
// switch rewrites:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Hardware type         |         Protocol type         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  HW len (6)   | Proto len (4) |            Opcode             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          Sender hardware address (SHA, 6 bytes)               |
//	+                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                               |  Sender protocol address (SPA)|
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  SPA (cont.)                  | Target hardware address (THA) |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|               Target protocol address (TPA)                   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type ARP []byte

const (
	arpHType = 0
	arpPType = 2
	arpHLen  = 4
	arpPLen  = 5
	arpOp    = 6
	arpSHA   = 8
	arpSPA   = 14
	arpTHA   = 18
	arpTPA   = 24
)

// ARPSize is the size of an Ethernet/IPv4 ARP packet.
const ARPSize = 28

// IsValid reports whether a is a whole Ethernet/IPv4 ARP packet.
func (a ARP) IsValid() bool {
	return len(a) >= ARPSize &&
		binary.BigEndian.Uint16(a[arpHType:]) == 1 &&
		binary.BigEndian.Uint16(a[arpPType:]) == EtherTypeIPv4 &&
		a[arpHLen] == 6 && a[arpPLen] == 4
}

// Op returns the opcode (1 request, 2 reply).
func (a ARP) Op() uint16 { return binary.BigEndian.Uint16(a[arpOp:]) }

// SetOp sets the opcode.
func (a ARP) SetOp(op uint16) { binary.BigEndian.PutUint16(a[arpOp:], op) }

// SHA returns the sender hardware address.
func (a ARP) SHA() []byte { return a[arpSHA : arpSHA+6 : arpSHA+6] }

// SPA returns the sender protocol address.
func (a ARP) SPA() []byte { return a[arpSPA : arpSPA+4 : arpSPA+4] }

// THA returns the target hardware address.
func (a ARP) THA() []byte { return a[arpTHA : arpTHA+6 : arpTHA+6] }

// TPA returns the target protocol address.
func (a ARP) TPA() []byte { return a[arpTPA : arpTPA+4 : arpTPA+4] }
