package ofp

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Reader splits a byte stream (a controller connection) into OpenFlow
// messages.
type Reader struct {
	r      io.Reader
	maxLen int
	hdr    [HeaderLen]byte
}

// NewReader reads messages from r, refusing any whose header claims more
// than maxLen bytes (0 means MaxMessageLen).
func NewReader(r io.Reader, maxLen int) *Reader {
	if maxLen <= 0 || maxLen > MaxMessageLen {
		maxLen = MaxMessageLen
	}
	return &Reader{r: r, maxLen: maxLen}
}

// ReadMessage returns the next whole message, header included, in a new
// slice the caller owns. A header whose length is below 8 or above the limit
// leaves the stream unsynchronised: the error wraps ErrBadLen and the caller
// should answer it and close the connection.
func (r *Reader) ReadMessage() ([]byte, error) {
	if _, err := io.ReadFull(r.r, r.hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(r.hdr[2:]))
	if n < HeaderLen || n > r.maxLen {
		return r.hdr[:], fmt.Errorf("message length %d: %w", n, ErrBadLen)
	}
	msg := make([]byte, n)
	copy(msg, r.hdr[:])
	if _, err := io.ReadFull(r.r, msg[HeaderLen:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return msg, nil
}
