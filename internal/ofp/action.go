package ofp

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
