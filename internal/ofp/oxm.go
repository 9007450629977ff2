package ofp

import (
	"encoding/binary"
	"slices"
)

// OXM and NXM classes.
const (
	ClassNXM0          uint16 = 0x0000 // NXM_OF_*
	ClassNXM1          uint16 = 0x0001 // NXM_NX_*
	ClassOpenFlowBasic uint16 = 0x8000
	ClassPacketRegs    uint16 = 0x8001
	ClassExperimenter  uint16 = 0xffff
)

// OXM is one OXM or NXM TLV (they share a layout: class, field, hasmask,
// length). Value and Mask are kept as sent; an experimenter TLV's 4-byte
// experimenter id is the start of Value. Mask is nil when HasMask is false.
type OXM struct {
	Class   uint16
	Field   uint8
	HasMask bool
	Value   []byte
	Mask    []byte
}

// Header is the TLV's 32-bit header (NXM_HEADER / OXM_HEADER).
func (o *OXM) Header() uint32 {
	n := len(o.Value) + len(o.Mask)
	h := uint32(o.Class)<<16 | uint32(o.Field)<<9 | uint32(n)
	if o.HasMask {
		h |= 1 << 8
	}
	return h
}

// Len is the TLV's size on the wire.
func (o *OXM) Len() int { return 4 + len(o.Value) + len(o.Mask) }

// Append appends the TLV.
func (o *OXM) Append(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, o.Header())
	b = append(b, o.Value...)
	return append(b, o.Mask...)
}

// HeaderFields splits a TLV header as used by NX actions that name a field
// without a value (reg_move, output_reg): class, field, hasmask, length.
func HeaderFields(h uint32) (class uint16, field uint8, hasMask bool, length uint8) {
	return uint16(h >> 16), uint8(h>>9) & 0x7f, h&(1<<8) != 0, uint8(h)
}

// DecodeOXM decodes the TLV at the start of b and returns it with its size.
// A masked TLV must have an even payload, split into value and mask.
func DecodeOXM(b []byte) (OXM, int, error) {
	if len(b) < 4 {
		return OXM{}, 0, ErrBadMatchLen
	}
	class, field, hasMask, n := HeaderFields(binary.BigEndian.Uint32(b))
	size := 4 + int(n)
	if n == 0 || len(b) < size || (hasMask && n%2 != 0) {
		return OXM{}, 0, ErrBadMatchLen
	}
	o := OXM{Class: class, Field: field, HasMask: hasMask}
	p := b[4:size:size]
	if hasMask {
		o.Value, o.Mask = p[:n/2:n/2], p[n/2:]
	} else {
		o.Value = p
	}
	return o, size, nil
}

// DecodeOXMs decodes a sequence of TLVs filling b exactly, keeping order.
// It counts them first, so the list is one allocation.
func DecodeOXMs(b []byte) ([]OXM, error) { return AppendDecodedOXMs(nil, b) }

// AppendDecodedOXMs is DecodeOXMs appending to dst: a decoder that parses
// message after message into one struct reuses its list.
func AppendDecodedOXMs(dst []OXM, b []byte) ([]OXM, error) {
	n := 0
	for rest := b; len(rest) > 0; n++ {
		_, size, err := DecodeOXM(rest)
		if err != nil {
			return nil, err
		}
		rest = rest[size:]
	}
	if n == 0 {
		return dst, nil
	}
	dst = slices.Grow(dst, n)
	for len(b) > 0 {
		o, size, err := DecodeOXM(b)
		if err != nil {
			return nil, err
		}
		dst = append(dst, o)
		b = b[size:]
	}
	return dst, nil
}

// AppendOXMs appends TLVs in order.
func AppendOXMs(b []byte, oxms []OXM) []byte {
	for i := range oxms {
		b = oxms[i].Append(b)
	}
	return b
}

// OXMsLen is the size of oxms on the wire.
func OXMsLen(oxms []OXM) int {
	n := 0
	for i := range oxms {
		n += oxms[i].Len()
	}
	return n
}
