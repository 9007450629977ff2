package ofp

import "encoding/binary"

// Action is one decoded action of any version; its concrete types live in
// of13, of10 and nx. AppendAction appends it exactly as decoded.
type Action interface {
	AppendAction(b []byte) []byte
}

// Pad8 is how many zero bytes bring n up to a multiple of 8.
func Pad8(n int) int { return (8 - n%8) % 8 }

// AllZero reports whether b is all zero bytes (padding checks).
func AllZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// AppendActions appends an action list, each action as decoded.
func AppendActions(b []byte, acts []Action) []byte {
	for _, a := range acts {
		b = a.AppendAction(b)
	}
	return b
}

// DecodeActions splits an action list (any version) into its TLVs — type,
// then a length that is at least 8, a multiple of 8 and within the list —
// and decodes each with decode, which gets the whole TLV. The list is
// counted first and allocated once; errors are reported in list order.
func DecodeActions(b []byte, decode func(typ uint16, tlv []byte) (Action, error)) ([]Action, error) {
	n := 0
	for rest := b; len(rest) >= 8; n++ {
		l := int(binary.BigEndian.Uint16(rest[2:]))
		if l < 8 || l%8 != 0 || l > len(rest) {
			break // reported below, in order
		}
		rest = rest[l:]
	}
	var out []Action
	if n > 0 {
		out = make([]Action, 0, n)
	}
	for len(b) > 0 {
		if len(b) < 8 {
			return nil, ErrBadActionLen
		}
		typ := binary.BigEndian.Uint16(b)
		l := int(binary.BigEndian.Uint16(b[2:]))
		if l < 8 || l%8 != 0 || l > len(b) {
			return nil, ErrBadActionLen
		}
		a, err := decode(typ, b[:l:l])
		if err != nil {
			return nil, err
		}
		out = append(out, a)
		b = b[l:]
	}
	return out, nil
}
