package ofagent

import (
	"encoding/binary"
	"fmt"

	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/of13"
)

// HELLO negotiation (OF1.3.5 §6.3.1): both sides send HELLO; with version
// bitmaps on both sides the highest common bit wins, otherwise the lower
// of the two header versions, which must then be one we speak.

const helloElemVersionBitmap = 1

var errHelloIncompatible = &ofp.Error{Type: ofp.ETHelloFailed, Code: 0} // OFPHFC_INCOMPATIBLE

// helloMsg is our HELLO: the highest version in the header and a bitmap
// of all of them.
func helloMsg(versions []uint8) []byte {
	var bitmap uint32
	high := uint8(0)
	for _, v := range versions {
		bitmap |= 1 << v
		high = max(high, v)
	}
	h := of13.Hello{Elements: []of13.HelloElement{{Type: helloElemVersionBitmap, Data: binary.BigEndian.AppendUint32(nil, bitmap)}}}
	b := h.AppendTo(nil)
	b[0] = high
	return b
}

// negotiate picks the version for a peer's HELLO, or 0.
func negotiate(ours []uint8, msg []byte) uint8 {
	peer := msg[0]
	if peer == 0 {
		return 0
	}
	var mine uint32
	high := uint8(0)
	for _, v := range ours {
		mine |= 1 << v
		high = max(high, v)
	}
	var h of13.Hello
	if peer >= ofp.Version13 && h.Decode(msg) == nil {
		for _, e := range h.Elements {
			if e.Type != helloElemVersionBitmap || len(e.Data) < 4 {
				continue
			}
			common := binary.BigEndian.Uint32(e.Data) & mine
			for v := uint8(31); v > 0; v-- {
				if common&(1<<v) != 0 {
					return v
				}
			}
			return 0
		}
	}
	v := min(peer, high)
	if mine&(1<<v) == 0 {
		return 0
	}
	return v
}

// hello handles the peer's first message.
func (c *ofconn) hello(msg []byte) error {
	if msg[1] != ofp.TypeHello {
		c.sendError(errHelloIncompatible, msg)
		return fmt.Errorf("first message is type %d, not HELLO", msg[1])
	}
	v := negotiate(c.a.opts.Versions, msg)
	if v == 0 {
		e := ofp.ErrorReply(nil, max(msg[0], ofp.Version10), 0, errHelloIncompatible, msg)
		c.send(e)
		return fmt.Errorf("no common OpenFlow version with peer (version %d)", msg[0])
	}
	c.mu.Lock()
	c.version = v
	c.mu.Unlock()
	return nil
}

func echoRequest(version uint8) []byte {
	b, start := ofp.AppendHeader(nil, version, ofp.TypeEchoRequest, 0)
	return ofp.EndMessage(b, start)
}

// echoReply answers an echo request with its payload.
func echoReply(msg []byte) []byte {
	b := append([]byte(nil), msg...)
	b[1] = ofp.TypeEchoReply
	return b
}
