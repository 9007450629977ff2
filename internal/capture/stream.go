package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The record stream, daemon to client, after the capture/stream command's
// reply on the same unixctl connection: a sequence of records, each a
// 24-byte little-endian header
//
//	kind u8 | dir u8 | 0 u16 | length u32 | orig_len u32 | 0 u32 | time_ns i64
//
// followed by length bytes: a packet's first bytes (kind 1), or, once, the
// end of the capture (kind 2): sent, seen, matched, dropped as u64, then a
// reason text. The client ends a capture early by shutting down its
// sending side; the daemon then sends the end record and closes.
const (
	recPacket = 1
	recEnd    = 2
	hdrLen    = 24
	endFixed  = 32
	maxReason = 1024
)

// End is the last record of a capture.
type End struct {
	Sent   uint64 // packet records sent
	Stats         // the tap's counts
	Reason string // why the capture ended
}

// Encoder writes the record stream.
type Encoder struct {
	w   *bufio.Writer
	hdr [hdrLen]byte
}

// NewEncoder returns an encoder writing to w.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{w: bufio.NewWriterSize(w, 64<<10)} }

func (e *Encoder) header(kind uint8, dir Direction, n, orig int, ts int64) error {
	h := e.hdr[:]
	clear(h)
	h[0], h[1] = kind, uint8(dir)
	binary.LittleEndian.PutUint32(h[4:], uint32(n))
	binary.LittleEndian.PutUint32(h[8:], uint32(orig))
	binary.LittleEndian.PutUint64(h[16:], uint64(ts))
	_, err := e.w.Write(h)
	return err
}

// WritePacket writes one packet record.
func (e *Encoder) WritePacket(r Record) error {
	if err := e.header(recPacket, r.Dir, len(r.Data), r.OrigLen, r.TimeNs); err != nil {
		return err
	}
	_, err := e.w.Write(r.Data)
	return err
}

// WriteEnd writes the end record and flushes.
func (e *Encoder) WriteEnd(end End) error {
	reason := end.Reason
	if len(reason) > maxReason {
		reason = reason[:maxReason]
	}
	if err := e.header(recEnd, 0, endFixed+len(reason), 0, 0); err != nil {
		return err
	}
	var b [endFixed]byte
	for i, v := range []uint64{end.Sent, end.Seen, end.Matched, end.Dropped} {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	e.w.Write(b[:])
	e.w.WriteString(reason)
	return e.w.Flush()
}

// Flush writes buffered records out.
func (e *Encoder) Flush() error { return e.w.Flush() }

// Decoder reads the record stream.
type Decoder struct {
	r   *bufio.Reader
	hdr [hdrLen]byte
	buf []byte
}

// NewDecoder returns a decoder reading from r.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: bufio.NewReaderSize(r, 64<<10), buf: make([]byte, maxSlot)}
}

// ErrNoEnd is returned when the stream stops before its end record (the
// daemon went away).
var ErrNoEnd = errors.New("capture stream ended without its end record")

// Next returns the next packet record (its Data valid until the next
// call), or the end record, or an error.
func (d *Decoder) Next() (Record, *End, error) {
	if _, err := io.ReadFull(d.r, d.hdr[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = ErrNoEnd
		}
		return Record{}, nil, err
	}
	h := d.hdr[:]
	n := int(binary.LittleEndian.Uint32(h[4:]))
	switch h[0] {
	case recPacket:
		orig := int(binary.LittleEndian.Uint32(h[8:]))
		if n > maxSlot || n > orig {
			return Record{}, nil, fmt.Errorf("capture stream: packet record of %d bytes (packet %d)", n, orig)
		}
		if _, err := io.ReadFull(d.r, d.buf[:n]); err != nil {
			return Record{}, nil, ErrNoEnd
		}
		return Record{TimeNs: int64(binary.LittleEndian.Uint64(h[16:])), OrigLen: orig,
			Dir: Direction(h[1]), Data: d.buf[:n]}, nil, nil
	case recEnd:
		if n < endFixed || n > endFixed+maxReason {
			return Record{}, nil, fmt.Errorf("capture stream: end record of %d bytes", n)
		}
		if _, err := io.ReadFull(d.r, d.buf[:n]); err != nil {
			return Record{}, nil, ErrNoEnd
		}
		b := d.buf[:n]
		u := func(i int) uint64 { return binary.LittleEndian.Uint64(b[8*i:]) }
		return Record{}, &End{Sent: u(0), Stats: Stats{Seen: u(1), Matched: u(2), Dropped: u(3)},
			Reason: string(b[endFixed:])}, nil
	}
	return Record{}, nil, fmt.Errorf("capture stream: record kind %d", h[0])
}

// Buffered returns how many bytes of the stream are read but not decoded.
func (d *Decoder) Buffered() int { return d.r.Buffered() }
