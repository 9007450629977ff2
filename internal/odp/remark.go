package odp

import "github.com/govs/govs/internal/packet"

// RemarkDSCP carries out a DSCP remark meter band on b: it raises the drop
// precedence of an Assured Forwarding codepoint (RFC 2597: AFxy, x the
// class 1-4, y the precedence 1-3, DSCP = x<<3 | y<<1) by prec levels, up
// to the highest. Other codepoints have no drop precedence and stay as
// they are; so do non-IP packets. The IPv4 checksum is kept right. It
// reports false only when a ReadOnly packet could not be copied.
func RemarkDSCP(b *packet.Buffer, prec uint8, pool *packet.Pool) bool {
	if prec == 0 {
		return true
	}
	d := b.Data()
	switch l3Type(d, b.L3Off) {
	case packet.EtherTypeIPv4:
		if ip := packet.IPv4(d[b.L3Off:]); ip.IsValid() {
			if tos, ok := raisePrecedence(ip.TOS(), prec); ok {
				if !writable(b, pool) {
					return false
				}
				packet.IPv4(b.Data()[b.L3Off:]).SetTOS(tos)
			}
		}
	case packet.EtherTypeIPv6:
		if ip := packet.IPv6(d[b.L3Off:]); ip.IsValid() {
			if tc, ok := raisePrecedence(ip.TrafficClass(), prec); ok {
				if !writable(b, pool) {
					return false
				}
				packet.IPv6(b.Data()[b.L3Off:]).SetTrafficClass(tc)
			}
		}
	}
	return true
}

// raisePrecedence returns tos (DSCP and ECN) with its AF drop precedence
// raised by prec, and whether tos holds an AF codepoint that changed.
func raisePrecedence(tos, prec uint8) (uint8, bool) {
	dscp := tos >> 2
	class, dp := dscp>>3, dscp>>1&3
	if class < 1 || class > 4 || dp == 0 || dscp&1 != 0 || dp == 3 {
		return tos, false
	}
	dp = uint8(min(int(dp)+int(prec), 3))
	return (class<<3|dp<<1)<<2 | tos&3, true
}
