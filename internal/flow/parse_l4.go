package flow

import "encoding/binary"

const (
	tcpHeaderLen  = 20
	tcpFlagsMask  = 0x0fff // NS, CWR, ..., FIN and the 3 reserved bits
	udpHeaderLen  = 8
	sctpHeaderLen = 12
	icmpHeaderLen = 8

	icmp6HeaderLen = 8 // type, code, checksum and the 4-byte message body start
	ndMsgLen       = 24
	ndOptUnit      = 8 // ND option lengths count 8-byte units
	ndOptSLL       = 1
	ndOptTLL       = 2
	icmp6NS        = 135
	icmp6NA        = 136
)

// parsePorts reads the ports of a TCP, UDP or SCTP header, and TCP's flags.
// A header shorter than its fixed part leaves them zero.
func parsePorts(b []byte, proto uint8, k *Key) {
	switch proto {
	case protoTCP:
		if len(b) < tcpHeaderLen {
			return
		}
		k.TCPFlags = binary.BigEndian.Uint16(b[12:]) & tcpFlagsMask
	case protoUDP:
		if len(b) < udpHeaderLen {
			return
		}
	case protoSCTP:
		if len(b) < sctpHeaderLen {
			return
		}
	default:
		return
	}
	k.TpSrc = binary.BigEndian.Uint16(b[0:])
	k.TpDst = binary.BigEndian.Uint16(b[2:])
}

// parseICMP keeps an ICMP message's type and code in TpSrc and TpDst.
func parseICMP(b []byte, k *Key) {
	if len(b) < icmpHeaderLen {
		return
	}
	k.TpSrc = uint16(b[0])
	k.TpDst = uint16(b[1])
}

// parseICMPv6 keeps an ICMPv6 message's type and code in TpSrc and TpDst
// and, for neighbour solicitations and advertisements (RFC 4861 §4.3, §4.4),
// the target address and the link-layer address options: SLL in ArpSHA,
// TLL in ArpTHA.
//
// Options are all-or-nothing, as in OVS: an option of length zero or running
// past the packet, or a second SLL or TLL option, makes the option list
// malformed, and then neither address is kept (the target still is).
func parseICMPv6(b []byte, k *Key) {
	if len(b) < icmp6HeaderLen {
		return
	}
	typ, code := b[0], b[1]
	k.TpSrc, k.TpDst = uint16(typ), uint16(code)
	if code != 0 || (typ != icmp6NS && typ != icmp6NA) || len(b) < ndMsgLen {
		return
	}
	copy(k.NdTarget[:], b[8:24])

	var sll, tll []byte
	for opts := b[ndMsgLen:]; len(opts) >= ndOptUnit; {
		n := int(opts[1]) * ndOptUnit
		if n == 0 || n > len(opts) {
			return
		}
		if n == ndOptUnit { // an Ethernet address option
			switch opts[0] {
			case ndOptSLL:
				if sll != nil {
					return
				}
				sll = opts[2:8]
			case ndOptTLL:
				if tll != nil {
					return
				}
				tll = opts[2:8]
			}
		}
		opts = opts[n:]
	}
	copy(k.ArpSHA[:], sll)
	copy(k.ArpTHA[:], tll)
}
