package odp

import (
	"encoding/binary"

	"github.com/govs/govs/internal/packet"
)

// VLAN and MPLS headers go between the MAC addresses (and tags) and what
// follows, so pushing one moves the few bytes in front of it into the
// headroom rather than the payload behind it.

// pushVLAN inserts an outermost tag: TPID tpid, TCI tci with DEI clear.
func pushVLAN(b *packet.Buffer, tpid, tci uint16, pool *packet.Pool) bool {
	if b.Len < packet.EthernetMinimumSize || !reserve(b, packet.VLANTagSize, pool) {
		return false
	}
	if _, ok := b.Push(packet.VLANTagSize); !ok {
		return false
	}
	d := b.Data()
	copy(d[0:12], d[packet.VLANTagSize:packet.VLANTagSize+12])
	packet.VLANTag(d[12:]).Encode(tpid, tci&^packet.VLANDEI)
	shiftOffsets(b, packet.VLANTagSize)
	return true
}

// popVLAN removes the outermost tag, if there is one.
func popVLAN(b *packet.Buffer, pool *packet.Pool) bool {
	d := b.Data()
	if len(d) < packet.EthernetMinimumSize+packet.VLANTagSize || !packet.VLANTag(d[12:]).IsValid() {
		return true
	}
	if !writable(b, pool) {
		return false
	}
	d = b.Data()
	copy(d[packet.VLANTagSize:packet.VLANTagSize+12], d[0:12])
	b.Pull(packet.VLANTagSize)
	shiftOffsets(b, -packet.VLANTagSize)
	return true
}

// pushMPLS inserts lse as the outermost label stack entry after the L2
// header (and its tags) and sets the ethertype in front of it to ethType.
// Like flow.Parse on the result, L3Off ends up where the stack ends and
// L4Off is gone: nothing behind an MPLS stack is parsed.
func pushMPLS(b *packet.Buffer, ethType uint16, lse uint32, pool *packet.Pool) bool {
	d := b.Data()
	if len(d) < packet.EthernetMinimumSize {
		return false
	}
	t, n, ok := packet.Ethernet(d).L2Length()
	if !ok || t < 0x600 {
		// Not Ethernet II: there is no ethertype to put MPLS in.
		return false
	}
	if !reserve(b, packet.MPLSSize, pool) {
		return false
	}
	if _, ok := b.Push(packet.MPLSSize); !ok {
		return false
	}
	d = b.Data()
	copy(d[0:n], d[packet.MPLSSize:packet.MPLSSize+n])
	binary.BigEndian.PutUint16(d[n-2:], ethType)
	packet.MPLS(d[n:]).SetLSE(lse)
	shiftOffsets(b, packet.MPLSSize)
	b.L4Off = packet.NoOffset
	return true
}

// popMPLS removes the outermost label stack entry, if the packet is MPLS,
// and sets the ethertype to ethType. Popping the bottom of the stack makes
// the payload the network header again, so L3Off and L4Off are found anew.
func popMPLS(b *packet.Buffer, ethType uint16, pool *packet.Pool) bool {
	d := b.Data()
	if len(d) < packet.EthernetMinimumSize {
		return true
	}
	t, n, ok := packet.Ethernet(d).L2Length()
	if !ok || !packet.IsMPLSType(t) {
		return true
	}
	if len(d) < n+packet.MPLSSize {
		return false
	}
	if !writable(b, pool) {
		return false
	}
	d = b.Data()
	bos := packet.MPLS(d[n:]).BOS()
	copy(d[packet.MPLSSize:packet.MPLSSize+n], d[0:n])
	b.Pull(packet.MPLSSize)
	d = b.Data()
	binary.BigEndian.PutUint16(d[n-2:], ethType)
	if bos {
		b.L3Off = uint16(n)
		b.L4Off = l4Offset(d, n, ethType)
		if packet.IsMPLSType(ethType) {
			b.L3Off = mplsStackEnd(d, n)
		}
		return true
	}
	if packet.IsMPLSType(ethType) {
		shiftOffsets(b, -packet.MPLSSize)
	} else {
		// Labels remain but the ethertype no longer says so: the bytes
		// behind it are opaque, as flow.Parse would see them.
		b.L3Off, b.L4Off = uint16(n), packet.NoOffset
	}
	return true
}

// mplsStackEnd returns where the label stack at d[off:] ends, or NoOffset
// when it is cut short.
func mplsStackEnd(d []byte, off int) uint16 {
	for ; off+packet.MPLSSize <= len(d); off += packet.MPLSSize {
		if packet.MPLS(d[off:]).BOS() {
			return shifted(0, off+packet.MPLSSize)
		}
	}
	return shifted(0, off)
}
