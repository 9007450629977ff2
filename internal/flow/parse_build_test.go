package flow

import (
	"encoding/binary"
	"fmt"
	"reflect"
)

// Hand-built packets for the table tests. Each builder returns one header
// with its payload appended, so a test case reads outermost header first.

var (
	testDst = [6]byte{0x02, 0, 0, 0, 0, 0x02}
	testSrc = [6]byte{0x02, 0, 0, 0, 0, 0x01}
)

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// eth is an Ethernet header with testDst/testSrc and ethertype (or 802.3
// length) typ, followed by payload.
func eth(typ uint16, payload ...[]byte) []byte {
	return cat(testDst[:], testSrc[:], be16(typ), cat(payload...))
}

// tag is a VLAN tag: the TCI and then the inner ethertype.
func tag(tci, inner uint16, payload ...[]byte) []byte {
	return cat(be16(tci), be16(inner), cat(payload...))
}

func lse(label uint32, tc uint8, bos bool, ttl uint8) []byte {
	v := label<<12 | uint32(tc)<<9 | uint32(ttl)
	if bos {
		v |= mplsBOS
	}
	return be32(v)
}

func arp(htype, ptype uint16, op uint16, sha [6]byte, spa uint32, tha [6]byte, tpa uint32) []byte {
	return cat(be16(htype), be16(ptype), []byte{6, 4}, be16(op), sha[:], be32(spa), tha[:], be32(tpa))
}

// ipv4Opts describes the IPv4 header fields a case varies.
type ipv4Opts struct {
	tos, ttl uint8
	frag     uint16 // flags and fragment offset word
	options  []byte // must be a multiple of 4 bytes
	ihl      int    // overrides the computed IHL (in 4-byte words) when non-zero
	totLen   int    // overrides the computed total length when non-zero
}

func ipv4(proto uint8, src, dst uint32, o ipv4Opts, payload ...[]byte) []byte {
	p := cat(payload...)
	hl := 20 + len(o.options)
	ihl := hl / 4
	if o.ihl != 0 {
		ihl = o.ihl
	}
	tot := hl + len(p)
	if o.totLen != 0 {
		tot = o.totLen
	}
	h := cat([]byte{0x40 | byte(ihl), o.tos}, be16(uint16(tot)), be16(0x1234), be16(o.frag),
		[]byte{o.ttl, proto, 0, 0}, be32(src), be32(dst), o.options)
	return cat(h, p)
}

var (
	testIP6Src = [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}
	testIP6Dst = [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 2}
)

// ipv6 is an IPv6 header with traffic class 0xb9, flow label 0x12345, hop
// limit 64 and the test addresses.
func ipv6(nh uint8, payload ...[]byte) []byte {
	p := cat(payload...)
	return cat(be32(6<<28|0xb9<<20|0x12345), be16(uint16(len(p))), []byte{nh, 64},
		testIP6Src[:], testIP6Dst[:], p)
}

// opts6 is a Hop-by-Hop, Routing or Destination Options header of n 8-byte
// units with next header nh.
func opts6(nh uint8, units int, payload ...[]byte) []byte {
	h := make([]byte, units*8)
	h[0], h[1] = nh, byte(units-1)
	if units > 0 {
		h[2] = 1 // PadN covering the rest
		h[3] = byte(units*8 - 4)
	}
	return cat(h, cat(payload...))
}

func frag6(nh uint8, offset uint16, more bool, payload ...[]byte) []byte {
	w := offset << 3
	if more {
		w |= 1
	}
	return cat([]byte{nh, 0}, be16(w), be32(0xabcdef01), cat(payload...))
}

// ah6 is an Authentication Header with a 12-byte ICV (24 bytes in all).
func ah6(nh uint8, payload ...[]byte) []byte {
	return cat([]byte{nh, 4, 0, 0}, be32(0x100), be32(1), make([]byte, 12), cat(payload...))
}

func tcp(sport, dport uint16, flags uint16, payload ...[]byte) []byte {
	return cat(be16(sport), be16(dport), be32(1), be32(2), be16(5<<12|flags), be16(1024),
		be16(0), be16(0), cat(payload...))
}

func udp(sport, dport uint16, payload ...[]byte) []byte {
	p := cat(payload...)
	return cat(be16(sport), be16(dport), be16(uint16(8+len(p))), be16(0), p)
}

func sctp(sport, dport uint16) []byte {
	return cat(be16(sport), be16(dport), be32(7), be32(0))
}

func icmp(typ, code uint8) []byte { return []byte{typ, code, 0, 0, 0, 1, 0, 1} }

// icmp6 is an ICMPv6 message: type, code, checksum, then body.
func icmp6(typ, code uint8, body ...[]byte) []byte {
	return cat([]byte{typ, code, 0, 0}, cat(body...))
}

// nd is a neighbour solicitation or advertisement body (reserved/flags,
// target) followed by options.
func nd(target [16]byte, opts ...[]byte) []byte {
	return cat(be32(0x60000000), target[:], cat(opts...))
}

// ndOpt is a link-layer address option claiming a length of units (an
// option claiming 0 still takes 8 bytes).
func ndOpt(typ uint8, units int, mac [6]byte) []byte {
	b := make([]byte, max(units, 1)*8)
	b[0], b[1] = typ, byte(units)
	copy(b[2:], mac[:])
	return b
}

// keyDiff describes how got differs from want, field by field.
func keyDiff(got, want *Key) string {
	if got.Equal(want) {
		return ""
	}
	var s string
	gv, wv := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	for i := range gv.NumField() {
		f := gv.Type().Field(i)
		if f.Name == "_" {
			continue
		}
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		if !reflect.DeepEqual(g, w) {
			s += fmt.Sprintf("\n\t%s: got %#v, want %#v", f.Name, g, w)
		}
	}
	if s == "" {
		s = "\n\tblank fields differ"
	}
	return s
}
