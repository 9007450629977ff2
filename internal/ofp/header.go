package ofp

import "encoding/binary"

// Versions on the wire.
const (
	Version10 uint8 = 0x01
	Version13 uint8 = 0x04
)

// HeaderLen is the size of ofp_header.
const HeaderLen = 8

// Message types that keep their number in every version.
const (
	TypeHello        uint8 = 0
	TypeError        uint8 = 1
	TypeEchoRequest  uint8 = 2
	TypeEchoReply    uint8 = 3
	TypeExperimenter uint8 = 4 // OFPT_VENDOR in OpenFlow 1.0
)

// Header is ofp_header.
type Header struct {
	Version uint8
	Type    uint8
	Length  uint16
	Xid     uint32
}

// ParseHeader reads the header at the start of msg and checks that Length
// covers the header and fits in msg.
func ParseHeader(msg []byte) (Header, error) {
	if len(msg) < HeaderLen {
		return Header{}, ErrBadLen
	}
	h := Header{
		Version: msg[0],
		Type:    msg[1],
		Length:  binary.BigEndian.Uint16(msg[2:]),
		Xid:     binary.BigEndian.Uint32(msg[4:]),
	}
	if int(h.Length) < HeaderLen || int(h.Length) > len(msg) {
		return h, ErrBadLen
	}
	return h, nil
}

// AppendHeader appends an ofp_header whose length EndMessage fills in once
// the body is appended; it returns the header's offset in b.
func AppendHeader(b []byte, version, typ uint8, xid uint32) ([]byte, int) {
	start := len(b)
	b = append(b, version, typ, 0, 0)
	return binary.BigEndian.AppendUint32(b, xid), start
}

// EndMessage sets the length of the message that starts at b[start:].
// Messages longer than 65535 bytes cannot be expressed; callers split
// multipart replies before that (MaxMessageLen).
func EndMessage(b []byte, start int) []byte {
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return b
}

// MaxMessageLen is the largest message ofp_header.length can describe.
const MaxMessageLen = 0xffff

// Message is any decoded message of any version.
type Message interface {
	// AppendTo appends the whole message, header included.
	AppendTo(b []byte) []byte
	// MsgType is the header's type.
	MsgType() uint8
	// XID is the header's transaction id.
	XID() uint32
}

// Decoder is a message that decodes itself from its whole wire form.
type Decoder interface {
	Message
	Decode(msg []byte) error
}

// DecodeMessage decodes one whole message of the given version: newMessage
// makes the empty message for a type (nil: not a type of that version).
// HELLO is accepted with any version, as version negotiation needs. The
// result aliases msg; errors are *Error values for ErrorReply.
func DecodeMessage(msg []byte, version uint8, newMessage func(typ uint8) Decoder) (Message, error) {
	h, err := ParseHeader(msg)
	if err != nil {
		return nil, err
	}
	if h.Version != version && h.Type != TypeHello {
		return nil, ErrBadVersion
	}
	m := newMessage(h.Type)
	if m == nil {
		return nil, ErrBadType
	}
	if err := m.Decode(msg); err != nil {
		return nil, err
	}
	return m, nil
}
