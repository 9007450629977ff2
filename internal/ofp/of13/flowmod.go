package of13

import (
	"encoding/binary"

	"github.com/govs/govs/internal/ofp"
)

// flowModMatchOff is where a flow-mod's match starts in its body, after
// the fixed fields.
const flowModMatchOff = 40

// DecodeHead is Decode but for the instruction list, which it returns
// undecoded (a sub-slice of msg) and leaves m.Instructions nil. A caller
// that met the same instruction bytes before (a bundle whose flows share
// their actions) need not decode and convert them again. Every error
// Decode gives for the header, the fixed fields or the match, DecodeHead
// gives; DecodeInstructions gives the rest.
func (m *FlowMod) DecodeHead(msg []byte) (insts []byte, err error) {
	h, err := ofp.ParseHeader(msg)
	if err != nil {
		return nil, err
	}
	m.Xid = h.Xid
	body := msg[ofp.HeaderLen:h.Length]
	// Parse the body up to the match's padded end, so that the generated
	// parser's instruction list is empty. A match length Parse would
	// refuse leaves the whole body to it, for the same error.
	end := len(body)
	if len(body) >= flowModMatchOff+4 {
		n := int(binary.BigEndian.Uint16(body[flowModMatchOff+2:]))
		if e := flowModMatchOff + n + ofp.Pad8(n); n >= 4 && e <= len(body) {
			end = e
		}
	}
	n, err := m.Parse(body[:end])
	if err != nil {
		return nil, err
	}
	if n != end {
		return nil, errBadLen
	}
	return body[end:], nil
}
