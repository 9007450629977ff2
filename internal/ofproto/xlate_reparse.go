package ofproto

import (
	"encoding/binary"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/packet"
)

// Headers under a popped MPLS stack. The datapath parses a labelled
// packet no further than its stack, so after the pipeline pops the bottom
// label the L3 and L4 fields are unknown (l3Hidden) and a rule or action
// that needs them cannot be translated from the key. OVS recirculates:
// the datapath pops, and the packet comes back re-parsed. govs re-parses
// the packet of the upcall itself: translation goes on with the inner
// headers, and the megaflow is not installed (its key could not tell
// packets with different inner headers apart), so every such packet
// takes this path. Without a packet (revalidation, a trace of a flow)
// translation still stops where it needs the hidden headers.

// exposeInner is called when a pop_mpls of the bottom label gives the
// packet ethertype ethType: it reads the headers under the stack from the
// packet, if translation has it.
func (c *xlateCtx) exposeInner(ethType uint16) {
	if !c.l3Hidden {
		return
	}
	// What follows may depend on headers the key does not hold: with the
	// packet translation reads them, without it (revalidation) it stops
	// short. Either way no megaflow stands for this translation, and a
	// revalidated one is deleted rather than cut down to the pop.
	c.noInstall = true
	var k flow.Key
	if !c.parseInner(ethType, &k) {
		return
	}
	copyL3(&c.key, &k)
	copyL3(&c.base, &k)
	c.l3Hidden = false
	c.note("pop_mpls: headers under the stack read from the packet; no megaflow installed")
}

// revealUnderStack reads the IP header under the label stack from the
// packet while the stack stays on: copy_ttl_in and copy_ttl_out need its
// TTL. The packet is then in the state a push_mpls onto an IP packet
// leaves (mplsInner says what the stack covers). It reports whether the
// headers under the stack are known now. Only IP is recognised: MPLS does
// not say what it carries, and IP says it with its version.
func (c *xlateCtx) revealUnderStack() bool {
	if !c.l3Hidden {
		return isIP(c.mplsInner)
	}
	c.noInstall = true
	if c.pkt == nil {
		return false
	}
	payload, ok := c.underStack()
	if !ok || len(payload) == 0 {
		return false
	}
	var ethType uint16
	switch payload[0] >> 4 {
	case 4:
		ethType = flow.EthTypeIPv4
	case 6:
		ethType = flow.EthTypeIPv6
	default:
		return false
	}
	var k flow.Key
	if !c.parseInner(ethType, &k) {
		return false
	}
	copyL3(&c.key, &k)
	copyL3(&c.base, &k)
	c.l3Hidden, c.mplsInner = false, ethType
	c.note("copy_ttl: headers under the stack read from the packet; no megaflow installed")
	return true
}

// underStack splits the upcall's packet at the end of its label stack.
func (c *xlateCtx) underStack() (payload []byte, ok bool) {
	if c.pkt == nil {
		return nil, false
	}
	var k flow.Key
	end, _ := flow.ParseBytes(c.pkt, &k)
	if !isMPLS(k.EthType) || end == packet.NoOffset || end < 4 || end > len(c.pkt) ||
		binary.BigEndian.Uint32(c.pkt[end-4:])&mplsBOS == 0 {
		return nil, false // a stack cut short: nothing under it
	}
	return c.pkt[end:], true
}

// parseInner parses what the packet's stack covers as the payload of an
// Ethernet frame of type ethType (the frame the datapath's pop_mpls
// leaves, minus any tags) into k.
func (c *xlateCtx) parseInner(ethType uint16, k *flow.Key) bool {
	payload, ok := c.underStack()
	if !ok {
		return false
	}
	c.scratch = append(c.scratch[:0], c.pkt[:12]...)
	c.scratch = binary.BigEndian.AppendUint16(c.scratch, ethType)
	c.scratch = append(c.scratch, payload...)
	flow.ParseBytes(c.scratch, k)
	return true
}

// copyL3 copies the fields above L2 (IP, ARP, ND, L4) from src to dst.
func copyL3(dst, src *flow.Key) {
	dst.NwFrag, dst.ArpOp = src.NwFrag, src.ArpOp
	dst.NwSrc, dst.NwDst, dst.IPv6Src, dst.IPv6Dst, dst.IPv6Label = src.NwSrc, src.NwDst, src.IPv6Src, src.IPv6Dst, src.IPv6Label
	dst.NwProto, dst.NwTOS, dst.NwTTL = src.NwProto, src.NwTOS, src.NwTTL
	dst.ArpSHA, dst.ArpTHA, dst.IPv6Exthdr, dst.TCPFlags, dst.NdTarget = src.ArpSHA, src.ArpTHA, src.IPv6Exthdr, src.TCPFlags, src.NdTarget
	dst.TpSrc, dst.TpDst = src.TpSrc, src.TpDst
}
