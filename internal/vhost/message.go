package vhost

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Request is a vhost-user message type (front-end to back-end).
type Request uint32

// Requests, numbered as in QEMU's docs/interop/vhost-user.rst.
const (
	ReqGetFeatures         Request = 1
	ReqSetFeatures         Request = 2
	ReqSetOwner            Request = 3
	ReqResetOwner          Request = 4
	ReqSetMemTable         Request = 5
	ReqSetLogBase          Request = 6
	ReqSetLogFD            Request = 7
	ReqSetVringNum         Request = 8
	ReqSetVringAddr        Request = 9
	ReqSetVringBase        Request = 10
	ReqGetVringBase        Request = 11
	ReqSetVringKick        Request = 12
	ReqSetVringCall        Request = 13
	ReqSetVringErr         Request = 14
	ReqGetProtocolFeatures Request = 15
	ReqSetProtocolFeatures Request = 16
	ReqGetQueueNum         Request = 17
	ReqSetVringEnable      Request = 18
	ReqSendRARP            Request = 19
	ReqNetSetMTU           Request = 20
	ReqSetSlaveReqFD       Request = 21
	ReqGetConfig           Request = 24
	ReqSetConfig           Request = 25
)

var requestNames = map[Request]string{
	ReqGetFeatures: "GET_FEATURES", ReqSetFeatures: "SET_FEATURES",
	ReqSetOwner: "SET_OWNER", ReqResetOwner: "RESET_OWNER",
	ReqSetMemTable: "SET_MEM_TABLE", ReqSetLogBase: "SET_LOG_BASE",
	ReqSetLogFD: "SET_LOG_FD", ReqSetVringNum: "SET_VRING_NUM",
	ReqSetVringAddr: "SET_VRING_ADDR", ReqSetVringBase: "SET_VRING_BASE",
	ReqGetVringBase: "GET_VRING_BASE", ReqSetVringKick: "SET_VRING_KICK",
	ReqSetVringCall: "SET_VRING_CALL", ReqSetVringErr: "SET_VRING_ERR",
	ReqGetProtocolFeatures: "GET_PROTOCOL_FEATURES", ReqSetProtocolFeatures: "SET_PROTOCOL_FEATURES",
	ReqGetQueueNum: "GET_QUEUE_NUM", ReqSetVringEnable: "SET_VRING_ENABLE",
	ReqSendRARP: "SEND_RARP", ReqNetSetMTU: "NET_SET_MTU",
	ReqSetSlaveReqFD: "SET_BACKEND_REQ_FD", ReqGetConfig: "GET_CONFIG", ReqSetConfig: "SET_CONFIG",
}

func (r Request) String() string {
	if s, ok := requestNames[r]; ok {
		return s
	}
	return fmt.Sprintf("request(%d)", uint32(r))
}

// Virtio and vhost feature bits (VIRTIO 1.1 §5.1.3, §6; vhost-user.rst).
const (
	FeatNetMTU           = 1 << 3
	FeatNetMrgRxbuf      = 1 << 15
	FeatNetMQ            = 1 << 22
	FeatAnyLayout        = 1 << 27
	FeatRingIndirectDesc = 1 << 28
	FeatRingEventIdx     = 1 << 29
	FeatProtocolFeatures = 1 << 30
	FeatVersion1         = 1 << 32
	FeatInOrder          = 1 << 35
	featLogAll           = 1 << 26
)

// Protocol feature bits (vhost-user.rst, "Protocol features").
const (
	ProtoMQ       = 1 << 0
	ProtoReplyAck = 1 << 3
	ProtoMTU      = 1 << 4
)

// Header layout: request u32, flags u32, size u32 (little-endian).
const (
	headerSize     = 12
	flagVersion    = 0x1
	flagVersionMsk = 0x3
	flagReply      = 1 << 2
	flagNeedReply  = 1 << 3

	// maxPayload bounds what we read for one message: the largest payload
	// we accept is a memory table of maxRegions regions (8 + 8*32 bytes)
	// or a config space access; anything longer is malformed.
	maxPayload = 8 + maxRegions*memRegionSize
	maxRegions = 8
	// maxFDs is the most descriptors one message may carry (one per
	// memory region).
	maxFDs = maxRegions

	memRegionSize = 32
	vringAddrSize = 40
	vringFDNoFD   = 1 << 8
	vringFDIdxMsk = 0xff
)

// Errors of the message layer. Each resets the connection.
var (
	ErrBadVersion     = errors.New("vhost-user: bad message version")
	ErrPayloadTooBig  = errors.New("vhost-user: payload too large")
	ErrBadPayloadSize = errors.New("vhost-user: bad payload size")
	ErrBadRegions     = errors.New("vhost-user: bad memory region count")
)

// Header is a decoded message header.
type Header struct {
	Request Request
	Flags   uint32
	Size    uint32
}

// NeedReply reports whether the front-end asked for a REPLY_ACK.
func (h Header) NeedReply() bool { return h.Flags&flagNeedReply != 0 }

// ParseHeader decodes and checks the fixed header at the start of b.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < headerSize {
		return Header{}, ErrBadPayloadSize
	}
	h := Header{
		Request: Request(binary.LittleEndian.Uint32(b[0:])),
		Flags:   binary.LittleEndian.Uint32(b[4:]),
		Size:    binary.LittleEndian.Uint32(b[8:]),
	}
	if h.Flags&flagVersionMsk != flagVersion {
		return h, ErrBadVersion
	}
	if h.Size > maxPayload {
		return h, ErrPayloadTooBig
	}
	return h, nil
}

// payloadSizes gives, per request, the payload size it must carry; a
// request not listed carries none. SET_MEM_TABLE and the config requests
// are variable and checked by their decoders.
var payloadSizes = map[Request]int{
	ReqGetFeatures: 0, ReqSetFeatures: 8, ReqSetOwner: 0, ReqResetOwner: 0,
	ReqSetLogBase: 16, ReqSetLogFD: 0, ReqSetVringNum: 8, ReqSetVringAddr: vringAddrSize,
	ReqSetVringBase: 8, ReqGetVringBase: 8, ReqSetVringKick: 8, ReqSetVringCall: 8,
	ReqSetVringErr: 8, ReqGetProtocolFeatures: 0, ReqSetProtocolFeatures: 8,
	ReqGetQueueNum: 0, ReqSetVringEnable: 8, ReqSendRARP: 8, ReqNetSetMTU: 8,
	ReqSetSlaveReqFD: 0,
}

// checkPayload reports whether a payload of n bytes is acceptable for req.
// Front-ends differ in what they put in payload-less messages (QEMU sends
// GET_FEATURES with size 0, some send 8), so an empty-payload request also
// accepts 8 bytes, which are ignored.
func checkPayload(req Request, n int) error {
	switch req {
	case ReqSetMemTable:
		if n < 8 {
			return ErrBadPayloadSize
		}
		return nil
	case ReqGetConfig, ReqSetConfig:
		if n < configHeaderSize {
			return ErrBadPayloadSize
		}
		return nil
	}
	want, ok := payloadSizes[req]
	if !ok {
		return nil // unknown requests are refused by the device, not here
	}
	if n == want || (want == 0 && n == 8) {
		return nil
	}
	return ErrBadPayloadSize
}

func u64(p []byte) uint64 { return binary.LittleEndian.Uint64(p) }

// VringState is the payload of SET_VRING_NUM/BASE/ENABLE and GET_VRING_BASE.
type VringState struct{ Index, Num uint32 }

func parseVringState(p []byte) VringState {
	return VringState{binary.LittleEndian.Uint32(p), binary.LittleEndian.Uint32(p[4:])}
}

func (s VringState) bytes() []byte {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint32(b, s.Index)
	binary.LittleEndian.PutUint32(b[4:], s.Num)
	return b
}

// VringAddr is the payload of SET_VRING_ADDR: front-end user addresses.
type VringAddr struct {
	Index, Flags           uint32
	Desc, Used, Avail, Log uint64
}

func parseVringAddr(p []byte) VringAddr {
	return VringAddr{
		Index: binary.LittleEndian.Uint32(p), Flags: binary.LittleEndian.Uint32(p[4:]),
		Desc: u64(p[8:]), Used: u64(p[16:]), Avail: u64(p[24:]), Log: u64(p[32:]),
	}
}

// VringFD is the payload of SET_VRING_KICK/CALL/ERR.
type VringFD struct {
	Index uint32
	NoFD  bool // polling requested (kick) or no notifications (call)
}

func parseVringFD(p []byte) VringFD {
	v := u64(p)
	return VringFD{Index: uint32(v & vringFDIdxMsk), NoFD: v&vringFDNoFD != 0}
}

// MemRegion is one region of SET_MEM_TABLE.
type MemRegion struct {
	GuestPhys, Size, UserAddr, MmapOffset uint64
}

// parseMemTable decodes a SET_MEM_TABLE payload: nregions u32, padding
// u32, then the regions. Front-ends send either exactly nregions regions
// or the whole 8-slot array.
func parseMemTable(p []byte) ([]MemRegion, error) {
	n := int(binary.LittleEndian.Uint32(p))
	if n == 0 || n > maxRegions {
		return nil, ErrBadRegions
	}
	if len(p) < 8+n*memRegionSize {
		return nil, ErrBadPayloadSize
	}
	regs := make([]MemRegion, n)
	for i := range regs {
		r := p[8+i*memRegionSize:]
		regs[i] = MemRegion{u64(r), u64(r[8:]), u64(r[16:]), u64(r[24:])}
	}
	return regs, nil
}

// Config space access (GET_CONFIG/SET_CONFIG): offset, size, flags, data.
const configHeaderSize = 12

// EncodeMessage builds a message with the given header fields and payload.
// Front-end test helpers use it; the device uses it for replies.
func EncodeMessage(req Request, flags uint32, payload []byte) []byte {
	b := make([]byte, headerSize+len(payload))
	binary.LittleEndian.PutUint32(b, uint32(req))
	binary.LittleEndian.PutUint32(b[4:], flags)
	binary.LittleEndian.PutUint32(b[8:], uint32(len(payload)))
	copy(b[headerSize:], payload)
	return b
}

func u64Bytes(v uint64) []byte {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, v)
	return b
}
