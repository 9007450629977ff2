package packet

import "encoding/binary"

// TCP is a TCP header (RFC 9293 §3.1):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          Source Port          |       Destination Port        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                        Sequence Number                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Acknowledgment Number                      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Data |       |C|E|U|A|P|R|S|F|                               |
//	| Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           Checksum            |         Urgent Pointer        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type TCP []byte

const (
	tcpSrcPort  = 0
	tcpDstPort  = 2
	tcpSeq      = 4
	tcpAck      = 8
	tcpDataOff  = 12
	tcpFlags    = 13
	tcpWindow   = 14
	tcpChecksum = 16
	tcpUrgent   = 18
)

// TCPMinimumSize is the size of a TCP header without options.
const TCPMinimumSize = 20

// IsValid reports whether b holds a whole TCP header, options included.
func (b TCP) IsValid() bool {
	return len(b) >= TCPMinimumSize && b.DataOffset() >= TCPMinimumSize && b.DataOffset() <= len(b)
}

// SourcePort returns the source port.
func (b TCP) SourcePort() uint16 { return binary.BigEndian.Uint16(b[tcpSrcPort:]) }

// DestinationPort returns the destination port.
func (b TCP) DestinationPort() uint16 { return binary.BigEndian.Uint16(b[tcpDstPort:]) }

// Seq returns the sequence number.
func (b TCP) Seq() uint32 { return binary.BigEndian.Uint32(b[tcpSeq:]) }

// Ack returns the acknowledgment number.
func (b TCP) Ack() uint32 { return binary.BigEndian.Uint32(b[tcpAck:]) }

// DataOffset returns the header length in bytes.
func (b TCP) DataOffset() int { return int(b[tcpDataOff]>>4) * 4 }

// Flags returns the 12 flag bits (NS in bit 8).
func (b TCP) Flags() uint16 { return binary.BigEndian.Uint16(b[tcpDataOff:]) & 0x0fff }

// Window returns the window.
func (b TCP) Window() uint16 { return binary.BigEndian.Uint16(b[tcpWindow:]) }

// Checksum returns the checksum field.
func (b TCP) Checksum() uint16 { return binary.BigEndian.Uint16(b[tcpChecksum:]) }

// SetChecksum sets the checksum field.
func (b TCP) SetChecksum(c uint16) { binary.BigEndian.PutUint16(b[tcpChecksum:], c) }

// SetSourcePort sets the source port, keeping the checksum right.
func (b TCP) SetSourcePort(p uint16) { b.setPort(tcpSrcPort, p) }

// SetDestinationPort sets the destination port, keeping the checksum right.
func (b TCP) SetDestinationPort(p uint16) { b.setPort(tcpDstPort, p) }

func (b TCP) setPort(off int, p uint16) {
	old := binary.BigEndian.Uint16(b[off:])
	binary.BigEndian.PutUint16(b[off:], p)
	b.SetChecksum(ChecksumUpdate16(b.Checksum(), old, p))
}

// UDP is a UDP header (RFC 768):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          Source Port          |       Destination Port        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|            Length             |           Checksum            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// A checksum of 0 means "none" (allowed over IPv4 only), so a computed 0
// is sent as 0xffff.
type UDP []byte

const (
	udpSrcPort  = 0
	udpDstPort  = 2
	udpLength   = 4
	udpChecksum = 6
)

// UDPSize is the size of a UDP header.
const UDPSize = 8

// IsValid reports whether b holds a whole UDP header.
func (b UDP) IsValid() bool { return len(b) >= UDPSize }

// SourcePort returns the source port.
func (b UDP) SourcePort() uint16 { return binary.BigEndian.Uint16(b[udpSrcPort:]) }

// DestinationPort returns the destination port.
func (b UDP) DestinationPort() uint16 { return binary.BigEndian.Uint16(b[udpDstPort:]) }

// Length returns the length field (header and payload).
func (b UDP) Length() uint16 { return binary.BigEndian.Uint16(b[udpLength:]) }

// Checksum returns the checksum field.
func (b UDP) Checksum() uint16 { return binary.BigEndian.Uint16(b[udpChecksum:]) }

// SetChecksum sets the checksum field.
func (b UDP) SetChecksum(c uint16) { binary.BigEndian.PutUint16(b[udpChecksum:], c) }

// UpdateChecksum stores c, an incrementally updated checksum, if one is
// present: a zero (absent) checksum stays zero and a result of zero
// becomes 0xffff (RFC 768).
func (b UDP) UpdateChecksum(c uint16) {
	if b.Checksum() == 0 {
		return
	}
	if c == 0 {
		c = 0xffff
	}
	b.SetChecksum(c)
}

// SetSourcePort sets the source port, keeping the checksum right.
func (b UDP) SetSourcePort(p uint16) { b.setPort(udpSrcPort, p) }

// SetDestinationPort sets the destination port, keeping the checksum right.
func (b UDP) SetDestinationPort(p uint16) { b.setPort(udpDstPort, p) }

func (b UDP) setPort(off int, p uint16) {
	old := binary.BigEndian.Uint16(b[off:])
	binary.BigEndian.PutUint16(b[off:], p)
	b.UpdateChecksum(ChecksumUpdate16(b.Checksum(), old, p))
}

// SCTP is an SCTP common header (RFC 9260 §3.1):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Source Port Number        |     Destination Port Number   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                      Verification Tag                         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                 Checksum (CRC32c, little-endian)              |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The checksum covers the whole SCTP packet and no pseudo-header.
type SCTP []byte

const (
	sctpSrcPort  = 0
	sctpDstPort  = 2
	sctpVTag     = 4
	sctpChecksum = 8
)

// SCTPMinimumSize is the size of the common header.
const SCTPMinimumSize = 12

// IsValid reports whether b holds a whole common header.
func (b SCTP) IsValid() bool { return len(b) >= SCTPMinimumSize }

// SourcePort returns the source port.
func (b SCTP) SourcePort() uint16 { return binary.BigEndian.Uint16(b[sctpSrcPort:]) }

// DestinationPort returns the destination port.
func (b SCTP) DestinationPort() uint16 { return binary.BigEndian.Uint16(b[sctpDstPort:]) }

// VerificationTag returns the verification tag.
func (b SCTP) VerificationTag() uint32 { return binary.BigEndian.Uint32(b[sctpVTag:]) }

// Checksum returns the CRC32c field.
func (b SCTP) Checksum() uint32 { return binary.LittleEndian.Uint32(b[sctpChecksum:]) }

// SetChecksum sets the CRC32c field.
func (b SCTP) SetChecksum(c uint32) { binary.LittleEndian.PutUint32(b[sctpChecksum:], c) }

// SetPorts rewrites both ports, b being the whole SCTP packet. The CRC32c
// is recomputed, but a checksum that was wrong before stays wrong by the
// same error, so a switch never turns a corrupt packet into one that
// looks good.
func (b SCTP) SetPorts(src, dst uint16) {
	before := SCTPChecksum(b)
	binary.BigEndian.PutUint16(b[sctpSrcPort:], src)
	binary.BigEndian.PutUint16(b[sctpDstPort:], dst)
	b.SetChecksum(b.Checksum() ^ before ^ SCTPChecksum(b))
}
