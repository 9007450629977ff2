package vhost

import (
	"encoding/binary"
	"runtime/debug"
	"sync/atomic"

	"github.com/govs/govs/internal/packet"
)

// txRing transmits to the guest: the guest's receive ring of one queue
// pair (virtqueue 2*pair).
//
// Transmit flow, per Send:
//
//  1. Per packet: take avail chains (one, or with MRG_RXBUF as many as the
//     packet needs), write a zeroed virtio_net_hdr with num_buffers, copy
//     the packet after it, and write the used entries.
//  2. When the guest has no buffers left, the rest of the batch is dropped
//     and counted (a guest that does not keep up must not stall the PMD).
//  3. One used->idx store for the batch, at most one interrupt.
type txRing struct {
	dev  *Device
	gate gate
	ring vring

	hdrLen int
	mrg    bool

	packets, bytes, dropped, errors atomic.Uint64
}

// numBuffersOff is where virtio_net_hdr_mrg_rxbuf keeps num_buffers.
const numBuffersOff = 10

// send is Device.Send for one ring.
func (t *txRing) send(b *packet.Batch) int {
	if !t.gate.enter() {
		t.dropped.Add(uint64(b.Len()))
		return 0
	}
	sent, nbytes, errs, used, err := t.fill(b)
	if err == errForeignFault && used > 0 {
		// The packets before the one that faulted are in this guest's
		// buffers: hand them over.
		if !t.dev.touchGuest(func() { t.ring.publishUsed(used) }) {
			sent, nbytes = 0, 0
		}
	}
	t.gate.leave()
	if err != nil && err != errForeignFault {
		t.dev.fault(err)
	}
	t.packets.Add(uint64(sent))
	t.bytes.Add(uint64(nbytes))
	if d := b.Len() - sent; d > 0 {
		t.dropped.Add(uint64(d))
	}
	if errs > 0 {
		t.errors.Add(uint64(errs))
	}
	return sent
}

// fill is send inside the gate: it copies b's packets into the guest's
// buffers and publishes them. A guest memory fault (fault.go) ends it: in
// this guest's memory (ErrGuestMemoryFault) with nothing sent, in the
// memory of the guest a packet came from (errForeignFault) with the
// packets before that one sent but not published (used entries).
func (t *txRing) fill(b *packet.Batch) (sent, nbytes, errs int, used uint16, err error) {
	r := &t.ring
	start := r.lastAvail // of the packet being copied
	defer func(pof bool) {
		debug.SetPanicOnFault(pof)
		if p := recover(); p != nil {
			if err = t.dev.recovered(p); err == ErrGuestMemoryFault {
				sent, nbytes = 0, 0
			}
			r.lastAvail = start
		}
	}(debug.SetPanicOnFault(true))
	avail := r.availIdx()
	if avail-r.lastAvail > r.num {
		return 0, 0, 0, 0, ErrAvailRunaway
	}
	if k := min(avail-r.lastAvail, uint16(b.Len())); k > 1 {
		r.prefetchHeads(k)
		r.prefetchBuffers(k)
	}
	for _, p := range b.Pkts {
		data := p.Data()
		if p.TruncLen != 0 && int(p.TruncLen) < len(data) {
			data = data[:p.TruncLen]
		}
		start = r.lastAvail
		k, ok := t.put(data, avail, used)
		if !ok {
			if k < 0 {
				errs++
				continue
			}
			break // out of guest buffers
		}
		used += uint16(k)
		sent++
		nbytes += len(data)
	}
	if used > 0 {
		r.publishUsed(used)
	}
	return sent, nbytes, errs, 0, nil
}

// put copies one packet into the guest's buffers, after the used entries
// already written for this batch, and returns the number of chains it
// used. It returns (0, false) when the guest has too few buffers, and
// (-1, false) for a packet that can never fit or a malformed chain (which
// also breaks the device).
func (t *txRing) put(data []byte, avail, usedSoFar uint16) (int, bool) {
	r := &t.ring
	if r.lastAvail != avail && t.putSingle(data, usedSoFar) {
		return 1, true
	}
	var hdr [12]byte
	hdr2 := hdr[:t.hdrLen]
	var numBuf []byte // where num_buffers goes, in guest memory
	src := data
	chains := 0
	for first := true; first || len(src) > 0; first = false {
		if r.lastAvail == avail {
			r.lastAvail -= uint16(chains)
			return 0, false
		}
		if chains > 0 && !t.mrg {
			r.lastAvail -= uint16(chains)
			return -1, false // without MRG_RXBUF a packet must fit one chain
		}
		head := r.availEntry(r.lastAvail)
		r.lastAvail++
		chains++
		var c chain
		if err := c.start(r, head); err != nil {
			return t.fail(err, chains)
		}
		written := 0
		for {
			seg, write, ok, err := c.next()
			if err != nil {
				return t.fail(err, chains)
			}
			if !ok {
				break
			}
			if !write {
				return t.fail(ErrDirection, chains)
			}
			if first && written == 0 {
				if len(seg) < len(hdr2) {
					// The header must not straddle buffers.
					r.lastAvail -= uint16(chains)
					return -1, false
				}
				copy(seg, hdr2)
				numBuf = seg[numBuffersOff:len(hdr2)]
				seg = seg[len(hdr2):]
				written = len(hdr2)
			}
			m := copy(seg, src)
			src = src[m:]
			written += m
			if len(src) == 0 {
				break
			}
		}
		r.putUsed(usedSoFar+uint16(chains-1), head, uint32(written))
	}
	if len(numBuf) == 2 {
		binary.LittleEndian.PutUint16(numBuf, uint16(chains))
	}
	return chains, true
}

// putSingle is put for what a guest posts most: a chain of one
// device-writable descriptor with room for the header and the packet. It
// reports false, having changed nothing, for anything else, valid or not:
// put's chain walk handles, checks and reports it. The descriptor is read
// once.
func (t *txRing) putSingle(data []byte, usedSoFar uint16) bool {
	r := &t.ring
	head := r.availEntry(r.lastAvail)
	if head >= r.num {
		return false
	}
	d := r.desc[int(head)*descSize : int(head)*descSize+descSize]
	n := binary.LittleEndian.Uint32(d[8:])
	size := t.hdrLen + len(data)
	if binary.LittleEndian.Uint16(d[12:])&(descFNext|descFWrite|descFIndirect) != descFWrite ||
		uint64(n) < uint64(size) {
		return false
	}
	b, ok := r.mem.gpa(binary.LittleEndian.Uint64(d), uint32(size))
	if !ok {
		return false
	}
	clear(b[:t.hdrLen])
	if t.hdrLen >= numBuffersOff+2 {
		binary.LittleEndian.PutUint16(b[numBuffersOff:], 1)
	}
	copy(b[t.hdrLen:], data)
	r.lastAvail++
	r.putUsed(usedSoFar, head, uint32(size))
	return true
}

func (t *txRing) fail(err error, chains int) (int, bool) {
	t.ring.lastAvail -= uint16(chains)
	t.dev.fault(err)
	return -1, false
}
