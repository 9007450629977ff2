package odp

import (
	"encoding/binary"

	"github.com/govs/govs/internal/packet"
)

// Execute flow: the datapath walks a megaflow's Actions in order and calls
// Execute for each one on the packet; outputs, userspace, meter,
// recirculation and conntrack it carries out itself (Execute reports them
// as done without touching the packet). Execute
//
//  1. makes a ReadOnly packet writable (a copy in a frame of pool) before
//     the first action that changes bytes;
//  2. finds the header the action works on from b.L3Off (set by
//     flow.Parse) and the header itself: L4 is found from the IP header,
//     so b.L4Off is kept right for others but not trusted here;
//  3. rewrites the bytes, keeping every checksum that covers them right
//     by incremental update (RFC 1624), or by recomputing SCTP's CRC32c;
//  4. after a push or pop, moves L3Off/L4Off to where flow.Parse would
//     put them on the new packet.
//
// Drops: Execute returns false, and the packet must be dropped, for
// OpDrop, an invalid or unknown action, a packet that cannot be made
// writable or given room for a push (no pool frame), and a header that is
// present but malformed for the action (cut short, a bad IPv4 header
// length). An action whose header the packet simply does not have (a port
// rewrite on a later fragment, set(ipv4) on an ARP packet, pop_vlan on an
// untagged frame) is skipped and the packet goes on, as in OVS's
// odp-execute: the megaflow's match makes that rare, and fragments must
// still flow.
//
// Execute never allocates, and it never writes outside the packet's frame.
func Execute(b *packet.Buffer, a *Action, pool *packet.Pool) bool {
	switch a.Op {
	case OpSet:
		return execSet(b, a, pool)
	case OpPushVLAN:
		return pushVLAN(b, uint16(a.Arg), uint16(a.Arg2), pool)
	case OpPopVLAN:
		return popVLAN(b, pool)
	case OpPushMPLS:
		return pushMPLS(b, uint16(a.Arg), a.Arg2, pool)
	case OpPopMPLS:
		return popMPLS(b, uint16(a.Arg), pool)
	case OpTrunc:
		setTrunc(b, a.Arg)
		return true
	case OpOutput, OpUserspace, OpMeter, OpRecirc, OpCT:
		return true
	default:
		return false
	}
}

// minTrunc is the shortest truncation OVS allows: an Ethernet header.
const minTrunc = packet.EthernetMinimumSize

// setTrunc records the truncation length for the outputs that follow.
// Like OVS's cutlen, a later trunc replaces an earlier one.
func setTrunc(b *packet.Buffer, n uint32) {
	switch {
	case n < minTrunc:
		n = minTrunc
	case n > 0xffff:
		n = 0xffff
	}
	b.TruncLen = uint16(n)
}

// OutputLen returns how many bytes of b an output sends: all of them, or
// the length a trunc action set, whichever is less.
func OutputLen(b *packet.Buffer) int {
	if b.TruncLen != 0 && int(b.TruncLen) < b.Len {
		return int(b.TruncLen)
	}
	return b.Len
}

// writable makes b safe to modify in place.
func writable(b *packet.Buffer, pool *packet.Pool) bool {
	if b.Flags&packet.ReadOnly == 0 {
		return true
	}
	return pool != nil && b.MakeWritable(pool) == nil
}

// reserve makes b writable with at least n bytes of headroom. A packet in
// a frame without room moves into a frame of pool; if the old frame was
// itself a copy from pool it goes back there, otherwise its owner (the
// port) still finds it by its own bookkeeping.
func reserve(b *packet.Buffer, n int, pool *packet.Pool) bool {
	if !writable(b, pool) {
		return false
	}
	if b.Headroom() >= n {
		return true
	}
	if pool == nil {
		return false
	}
	var nb packet.Buffer
	if pool.Get(&nb) != nil {
		return false
	}
	if nb.Headroom() < n || !nb.SetLen(b.Len) {
		pool.Put(&nb)
		return false
	}
	copy(nb.Data(), b.Data())
	nb.L3Off, nb.L4Off, nb.TruncLen = b.L3Off, b.L4Off, b.TruncLen
	nb.InPort, nb.Hash, nb.Mark = b.InPort, b.Hash, b.Mark
	nb.Flags = packet.Copied
	if b.Flags&packet.Copied != 0 {
		pool.Put(b)
	}
	*b = nb
	return true
}

// shiftOffsets moves the header offsets by d bytes after a push or pop in
// front of them.
func shiftOffsets(b *packet.Buffer, d int) {
	if b.L3Off != packet.NoOffset {
		b.L3Off = shifted(b.L3Off, d)
	}
	if b.L4Off != packet.NoOffset {
		b.L4Off = shifted(b.L4Off, d)
	}
}

func shifted(off uint16, d int) uint16 {
	n := int(off) + d
	if n < 0 || n >= packet.NoOffset {
		return packet.NoOffset
	}
	return uint16(n)
}

// l3Type returns the ethertype of the header at b.L3Off: the two bytes
// before it hold it whenever L3Off is right after an ethertype (and not
// after an MPLS stack), which is how flow.Parse sets it.
func l3Type(d []byte, l3 uint16) uint16 {
	if l3 == packet.NoOffset || int(l3) < packet.EthernetMinimumSize || int(l3) > len(d) {
		return 0
	}
	return binary.BigEndian.Uint16(d[l3-2:])
}

// l4Offset returns where flow.Parse finds the transport header of the
// network header at d[l3:] of type ethType, or NoOffset.
func l4Offset(d []byte, l3 int, ethType uint16) uint16 {
	switch ethType {
	case packet.EtherTypeIPv4:
		ip := packet.IPv4(d[l3:])
		if len(ip) >= packet.IPv4MinimumSize && ip[0]>>4 == 4 && ip.HeaderLength() >= packet.IPv4MinimumSize &&
			ip.HeaderLength() <= len(ip) && !ip.IsLaterFragment() {
			return shifted(uint16(l3), ip.HeaderLength())
		}
	case packet.EtherTypeIPv6:
		ip := packet.IPv6(d[l3:])
		if !ip.IsValid() {
			break
		}
		if proto, off, _, ok := ip.Upper(); ok && proto != packet.IPProtoIPv6Frag {
			return shifted(uint16(l3), off)
		}
	}
	return packet.NoOffset
}
