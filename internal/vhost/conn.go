package vhost

import (
	"errors"
	"fmt"
	"io"
	"net"

	"golang.org/x/sys/unix"
)

// Socket errors.
var (
	ErrTooManyFDs = errors.New("vhost-user: too many file descriptors in one message")
	errCtrunc     = errors.New("vhost-user: control message truncated")
)

// message is one request as read from the socket. fds are ours to close;
// a handler that keeps one sets its slot to -1.
type message struct {
	Header
	payload []byte
	fds     []int
}

func (m *message) closeFDs() {
	for i, fd := range m.fds {
		if fd >= 0 {
			unix.Close(fd)
			m.fds[i] = -1
		}
	}
}

// takeFD hands over the message's only fd, or -1 when it carries none.
func (m *message) takeFD() int {
	if len(m.fds) == 0 {
		return -1
	}
	fd := m.fds[0]
	m.fds[0] = -1
	return fd
}

// reader reads messages, keeping its buffers between them. Ancillary data
// (SCM_RIGHTS) may come with any of the reads of a message; fds from all
// of them are collected.
type reader struct {
	c   *net.UnixConn
	buf [headerSize + maxPayload]byte
	oob []byte
}

func newReader(c *net.UnixConn) *reader {
	return &reader{c: c, oob: make([]byte, unix.CmsgSpace(4*maxFDs))}
}

func (r *reader) read() (*message, error) {
	m := &message{}
	if err := r.fill(m, r.buf[:headerSize]); err != nil {
		m.closeFDs()
		return nil, err
	}
	var err error
	if m.Header, err = ParseHeader(r.buf[:headerSize]); err != nil {
		m.closeFDs()
		return nil, err
	}
	p := r.buf[headerSize : headerSize+int(m.Size)]
	if err := r.fill(m, p); err != nil {
		m.closeFDs()
		return nil, err
	}
	m.payload = p
	if len(m.fds) > maxFDs {
		m.closeFDs()
		return nil, ErrTooManyFDs
	}
	return m, nil
}

func (r *reader) fill(m *message, b []byte) error {
	for got := 0; got < len(b); {
		n, oobn, flags, _, err := r.c.ReadMsgUnix(b[got:], r.oob)
		if oobn > 0 {
			m.fds = appendRights(m.fds, r.oob[:oobn])
		}
		if flags&unix.MSG_CTRUNC != 0 {
			return errCtrunc
		}
		if err != nil {
			if errors.Is(err, io.EOF) && got > 0 {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		if n == 0 {
			return io.EOF // a stream socket reads 0 bytes only at its end
		}
		got += n
	}
	return nil
}

func appendRights(fds []int, oob []byte) []int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return fds
	}
	for _, cm := range msgs {
		if rights, err := unix.ParseUnixRights(&cm); err == nil {
			fds = append(fds, rights...)
		}
	}
	return fds
}

// writeReply sends a reply to req with payload p.
func writeReply(c *net.UnixConn, req Request, p []byte) error {
	if _, err := c.Write(EncodeMessage(req, flagVersion|flagReply, p)); err != nil {
		return fmt.Errorf("reply to %v: %w", req, err)
	}
	return nil
}
