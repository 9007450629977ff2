// Package capture is a stand-in OpenFlow switch that records what a client
// such as ovs-ofctl sends. It answers just enough (HELLO, FEATURES, config,
// empty multipart/stats replies, barriers, bundle controls, role requests)
// for the client to finish its command, so the recorded messages can become
// the golden corpus of the codec tests. It works on raw bytes on purpose: the
// corpus must not depend on the codec it is used to test.
package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// Wire constants used below. OpenFlow 1.0 and 1.3 share type numbers up to
// PACKET_OUT; after that they diverge.
const (
	ofpHello      = 0
	ofpEchoReq    = 2
	ofpEchoReply  = 3
	ofpVendor     = 4
	ofpFeatReq    = 5
	ofpFeatReply  = 6
	ofpGetCfgReq  = 7
	ofpGetCfgRepl = 8
	ofpSetConfig  = 9

	of10StatsReq     = 16
	of10StatsReply   = 17
	of10BarrierReq   = 18
	of10BarrierReply = 19
	of10QueueCfgReq  = 20

	of13MultipartReq   = 18
	of13MultipartReply = 19
	of13BarrierReq     = 20
	of13BarrierReply   = 21
	of13QueueCfgReq    = 22
	of13RoleReq        = 24
	of13GetAsyncReq    = 26

	niciraVendor = 0x00002320
	onfVendor    = 0x4f4e4600
)

// Conn serves one client connection until it closes, calling record with
// every message the client sends (including HELLO). The switch speaks the
// version of the client's HELLO.
func Conn(c net.Conn, record func(msg []byte)) error {
	var ver uint8
	config := []byte{0, 0, 0, 128}
	for {
		msg, err := read(c)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		record(msg)
		if msg[1] == ofpHello {
			ver = msg[0]
			if ver > 4 {
				ver = 4
			}
		}
		if msg[1] == ofpSetConfig && len(msg) >= 12 {
			config = append(config[:0], msg[8:12]...)
		}
		if msg[1] == ofpGetCfgReq {
			msg = append(msg[:8:8], config...) // reply() echoes the body
		}
		for _, r := range reply(ver, msg) {
			if _, err := c.Write(r); err != nil {
				return err
			}
		}
	}
}

func read(r io.Reader) ([]byte, error) {
	var h [8]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(h[2:]))
	if n < 8 {
		return nil, fmt.Errorf("capture: message length %d", n)
	}
	msg := make([]byte, n)
	copy(msg, h[:])
	_, err := io.ReadFull(r, msg[8:])
	return msg, err
}

func msg(ver, typ uint8, xid []byte, body ...[]byte) []byte {
	b := []byte{ver, typ, 0, 0}
	b = append(b, xid...)
	for _, p := range body {
		b = append(b, p...)
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

// The one port the stand-in switch has: port 1, "p1".
var portMAC = []byte{0x02, 0, 0, 0, 0, 1}

func port10() []byte {
	p := make([]byte, 48)
	binary.BigEndian.PutUint16(p, 1)
	copy(p[2:], portMAC)
	copy(p[8:], "p1")
	binary.BigEndian.PutUint32(p[32:], 0x0c0) // curr: 1GB-FD | copper
	return p
}

func port13() []byte {
	p := make([]byte, 64)
	binary.BigEndian.PutUint32(p, 1)
	copy(p[8:], portMAC)
	copy(p[16:], "p1")
	binary.BigEndian.PutUint32(p[40:], 0x820)   // curr: 1GB-FD | copper
	binary.BigEndian.PutUint32(p[56:], 1000000) // curr_speed
	binary.BigEndian.PutUint32(p[60:], 1000000) // max_speed
	return p
}

func reply(ver uint8, m []byte) [][]byte {
	typ, xid, body := m[1], m[4:8], m[8:]
	switch typ {
	case ofpHello:
		return [][]byte{msg(ver, ofpHello, xid)}
	case ofpEchoReq:
		return [][]byte{msg(ver, ofpEchoReply, xid, body)}
	case ofpFeatReq:
		f := make([]byte, 24)
		binary.BigEndian.PutUint64(f, 0x0000000000000001)
		f[12] = 254
		if ver == 1 {
			return [][]byte{msg(ver, ofpFeatReply, xid, f, port10())}
		}
		return [][]byte{msg(ver, ofpFeatReply, xid, f)}
	case ofpGetCfgReq:
		return [][]byte{msg(ver, ofpGetCfgRepl, xid, body)}
	case ofpVendor:
		return vendorReply(ver, m)
	}
	if ver == 1 {
		switch typ {
		case of10StatsReq:
			return [][]byte{msg(ver, of10StatsReply, xid, statsBody10(body))}
		case of10BarrierReq:
			return [][]byte{msg(ver, of10BarrierReply, xid)}
		case of10QueueCfgReq:
			return [][]byte{msg(ver, of10QueueCfgReq+1, xid, body[:4])}
		}
		return nil
	}
	switch typ {
	case of13MultipartReq:
		return [][]byte{msg(ver, of13MultipartReply, xid, multipartBody13(body))}
	case of13BarrierReq:
		return [][]byte{msg(ver, of13BarrierReply, xid)}
	case of13QueueCfgReq:
		return [][]byte{msg(ver, of13QueueCfgReq+1, xid, body[:8])}
	case of13RoleReq:
		return [][]byte{msg(ver, of13RoleReq+1, xid, body)}
	case of13GetAsyncReq:
		return [][]byte{msg(ver, of13GetAsyncReq+1, xid, make([]byte, 24))}
	}
	return nil
}

func statsBody10(req []byte) []byte {
	if len(req) < 4 {
		return nil
	}
	st := binary.BigEndian.Uint16(req)
	out := []byte{req[0], req[1], 0, 0}
	switch st {
	case 0: // desc
		return append(out, make([]byte, 1056)...)
	case 2: // aggregate
		return append(out, make([]byte, 24)...)
	case 13: // OVS's OFPST10_PORT_DESC
		return append(out, port10()...)
	case 0xffff: // vendor: echo vendor id and subtype
		if len(req) < 16 {
			return out
		}
		out = append(out, req[4:16]...)
		if binary.BigEndian.Uint32(req[8:]) == 1 { // NXST_AGGREGATE
			out = append(out, make([]byte, 24)...)
		}
		return out
	}
	return out
}

func multipartBody13(req []byte) []byte {
	if len(req) < 8 {
		return nil
	}
	mt := binary.BigEndian.Uint16(req)
	out := []byte{req[0], req[1], 0, 0, 0, 0, 0, 0}
	switch mt {
	case 0: // desc
		return append(out, make([]byte, 1056)...)
	case 2: // aggregate
		return append(out, make([]byte, 24)...)
	case 8: // group features
		return append(out, make([]byte, 40)...)
	case 11: // meter features
		return append(out, make([]byte, 16)...)
	case 12: // table features: one table, no properties
		tf := make([]byte, 64+8*8)
		tf[1] = byte(len(tf))
		copy(tf[8:], "t0")
		for i := 0; i < 8; i++ { // the eight required properties, empty
			tf[64+8*i+1] = byte(2 * i)
			tf[64+8*i+3] = 4
		}
		return append(out, tf...)
	case 13: // port desc
		return append(out, port13()...)
	case 0xffff:
		if len(req) < 16 {
			return out
		}
		return append(out, req[8:16]...)
	}
	return out
}

func vendorReply(ver uint8, m []byte) [][]byte {
	if len(m) < 16 {
		return nil
	}
	vendor := binary.BigEndian.Uint32(m[8:])
	sub := binary.BigEndian.Uint32(m[12:])
	xid := m[4:8]
	switch {
	case vendor == onfVendor && sub == 2300 && len(m) >= 24: // ONFT_BUNDLE_CONTROL
		r := append([]byte(nil), m[8:]...)
		binary.BigEndian.PutUint16(r[12:], binary.BigEndian.Uint16(r[12:])+1)
		return [][]byte{msg(ver, ofpVendor, xid, r)}
	case vendor == niciraVendor && sub == 10: // NXT_ROLE_REQUEST -> NXT_ROLE_REPLY
		r := append([]byte(nil), m[8:]...)
		binary.BigEndian.PutUint32(r[4:], 11)
		return [][]byte{msg(ver, ofpVendor, xid, r)}
	}
	return nil
}
