package ofproto

import (
	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
)

// copy_ttl_out and copy_ttl_in (OF1.3.5 §5.12) move a TTL between the
// outermost label and the header under it: the next label, or the IP
// header under a one-label stack. OVS does not implement either (its
// ovs-ofctl says "unknown action"); govs accepts them, so it carries them
// out. The datapath key of a labelled packet stops at the stack, so the IP
// header is read from the upcall's packet (revealUnderStack) and the
// megaflow is not installed.

// copyTTLOut copies the TTL inwards-to-outwards: from the next-to-outermost
// header to the outermost label.
func (c *xlateCtx) copyTTLOut() {
	c.mplsExact()
	k := &c.key
	switch n := mplsCount(k); {
	case n >= 2:
		k.MPLS[0] = k.MPLS[0]&^mplsTTLMask | k.MPLS[1]&mplsTTLMask
	case n == 1 && c.ipUnderLabel():
		c.wc.NwTTL = 0xff
		k.MPLS[0] = k.MPLS[0]&^mplsTTLMask | uint32(k.NwTTL)
	}
}

// copyTTLIn copies the outermost label's TTL to the next header. The IP
// header under a label is out of reach of a datapath set action, so the
// datapath pops the label, sets the TTL and pushes the label back.
func (c *xlateCtx) copyTTLIn() {
	c.mplsExact()
	k := &c.key
	switch n := mplsCount(k); {
	case n >= 2:
		k.MPLS[1] = k.MPLS[1]&^mplsTTLMask | k.MPLS[0]&mplsTTLMask
	case n == 1 && c.ipUnderLabel():
		c.commit()
		ttl := uint8(k.MPLS[0] & mplsTTLMask)
		f := odp.FieldIPv4TTL
		if c.mplsInner == flow.EthTypeIPv6 {
			f = odp.FieldIPv6HopLimit
		}
		c.acts = append(c.acts, odp.PopMPLS(c.mplsInner), odp.Set(f, []byte{ttl}), odp.PushMPLS(k.EthType, k.MPLS[0]))
		k.NwTTL, c.base.NwTTL = ttl, ttl
		// Written, so a group bucket's copy sets it back; but already
		// committed.
		c.markWritten(&flow.Mask{NwTTL: 0xff})
		c.dirty.NwTTL = 0
	}
}

// ipUnderLabel reports whether an IP header with a known TTL is under the
// packet's one label. Without the packet (revalidation) translation stops.
func (c *xlateCtx) ipUnderLabel() bool {
	if c.revealUnderStack() {
		return true
	}
	if c.l3Hidden && c.pkt == nil {
		c.note("copy_ttl: the header under the label is not in the key and there is no packet: translation stops")
		c.exit = true
	}
	return false
}
