package vhost

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Errors of the protocol state machine. Each ends the connection, except
// a refusedError.
var (
	ErrBadVringIndex  = errors.New("vhost-user: vring index out of range")
	ErrFeatures       = errors.New("vhost-user: features not offered")
	ErrNoMemTable     = errors.New("vhost-user: ring set up before SET_MEM_TABLE")
	ErrUnknownRequest = errors.New("vhost-user: unknown or unnegotiated request")
	ErrBadMTU         = errors.New("vhost-user: MTU out of range")
	ErrMissingFD      = errors.New("vhost-user: file descriptor missing")
)

// refusedError is a request we decline without dropping the front-end
// (dirty logging for live migration, the back-end request channel): it is
// answered with a failed REPLY_ACK when one was asked for.
type refusedError struct{ req Request }

func (e *refusedError) Error() string { return fmt.Sprintf("vhost-user: %v not supported", e.req) }

// offeredFeatures returns the virtio features we offer. VIRTIO_F_IN_ORDER
// holds because both rings use buffers in the order they were made
// available: RxQueue returns a batch's chains, drops included, in ring
// order at the next Recv, and the transmit side fills chains in ring
// order (TestUsedInAvailOrder). DPDK's virtio PMD has cheaper paths for
// it.
func (d *Device) offeredFeatures() uint64 {
	f := uint64(FeatVersion1 | FeatNetMrgRxbuf | FeatRingEventIdx | FeatRingIndirectDesc |
		FeatProtocolFeatures | FeatAnyLayout | FeatInOrder)
	if d.cfg.QueuePairs > 1 {
		f |= FeatNetMQ
	}
	if d.cfg.MTU > 0 {
		f |= FeatNetMTU
	}
	return f
}

const offeredProtocol = ProtoMQ | ProtoReplyAck | ProtoMTU

// handle applies one message with d.mu held; a non-nil reply is sent back.
func (d *Device) handle(m *message) ([]byte, error) {
	if err := checkPayload(m.Request, len(m.payload)); err != nil {
		return nil, err
	}
	p := m.payload
	switch m.Request {
	case ReqGetFeatures:
		return u64Bytes(d.offeredFeatures()), nil
	case ReqSetFeatures:
		f := u64(p)
		if f&^d.offeredFeatures() != 0 {
			return nil, fmt.Errorf("%#x: %w", f&^d.offeredFeatures(), ErrFeatures)
		}
		return nil, d.reconfigureLocked(func() { d.features = f })
	case ReqGetProtocolFeatures:
		return u64Bytes(offeredProtocol), nil
	case ReqSetProtocolFeatures:
		f := u64(p)
		if f&^offeredProtocol != 0 {
			return nil, fmt.Errorf("protocol %#x: %w", f&^offeredProtocol, ErrFeatures)
		}
		d.proto = f
		return nil, nil
	case ReqGetQueueNum:
		return u64Bytes(uint64(d.cfg.QueuePairs)), nil
	case ReqSetOwner, ReqSendRARP:
		return nil, nil
	case ReqResetOwner:
		d.resetLocked()
		return nil, nil
	case ReqSetMemTable:
		return nil, d.setMemTable(m)
	case ReqNetSetMTU:
		if d.proto&ProtoMTU == 0 {
			return nil, ErrUnknownRequest
		}
		mtu := u64(p)
		if mtu < 68 || mtu > 65535 {
			return nil, ErrBadMTU
		}
		d.mtu = int(mtu)
		return nil, nil
	case ReqSetLogBase, ReqSetLogFD, ReqSetSlaveReqFD:
		return nil, &refusedError{m.Request}
	case ReqSetVringNum, ReqSetVringAddr, ReqSetVringBase, ReqGetVringBase,
		ReqSetVringKick, ReqSetVringCall, ReqSetVringErr, ReqSetVringEnable:
		return d.handleVring(m)
	}
	return nil, ErrUnknownRequest
}

func (d *Device) setMemTable(m *message) error {
	regs, err := parseMemTable(m.payload)
	if err != nil {
		return err
	}
	t, err := mapMemTable(regs, m.fds)
	if err != nil {
		return err
	}
	t.register(d)
	return d.reconfigureLocked(func() {
		d.retireMemLocked()
		d.mem = t
	})
}

func (d *Device) handleVring(m *message) ([]byte, error) {
	p := m.payload
	var idx uint32
	switch m.Request {
	case ReqSetVringKick, ReqSetVringCall, ReqSetVringErr:
		idx = parseVringFD(p).Index
	default:
		idx = parseVringState(p).Index // SET_VRING_ADDR starts with the index too
	}
	if idx >= uint32(len(d.rings)) {
		return nil, fmt.Errorf("%d: %w", idx, ErrBadVringIndex)
	}
	i := int(idx)
	rc := &d.rings[i]
	switch m.Request {
	case ReqSetVringNum:
		n := parseVringState(p).Num
		if n == 0 || n > maxQueueSize || n&(n-1) != 0 {
			return nil, ErrBadQueueSize
		}
		d.stopRingLocked(i)
		rc.num = n
	case ReqSetVringAddr:
		d.stopRingLocked(i)
		rc.addr, rc.addrSet = parseVringAddr(p), true
	case ReqSetVringBase:
		d.stopRingLocked(i)
		d.vring(i).lastAvail = uint16(parseVringState(p).Num)
	case ReqGetVringBase:
		d.stopRingLocked(i)
		rc.started = false
		if rc.kickFD >= 0 {
			unix.Close(rc.kickFD)
			rc.kickFD = -1
		}
		st := VringState{Index: idx, Num: uint32(d.vring(i).lastAvail)}
		d.publishLocked()
		return st.bytes(), nil
	case ReqSetVringKick, ReqSetVringCall, ReqSetVringErr:
		fd := -1
		if !parseVringFD(p).NoFD {
			if fd = m.takeFD(); fd < 0 {
				return nil, ErrMissingFD
			}
		}
		slot := &rc.errFD
		switch m.Request {
		case ReqSetVringKick:
			slot = &rc.kickFD
			rc.started = true
		case ReqSetVringCall:
			slot = &rc.callFD
			d.stopRingLocked(i) // the PMD may be writing the old fd
		}
		if *slot >= 0 {
			unix.Close(*slot)
		}
		*slot = fd
	case ReqSetVringEnable:
		rc.enabled = parseVringState(p).Num != 0
		if !rc.enabled {
			d.stopRingLocked(i)
		}
	}
	return nil, d.updateRingLocked(i)
}
