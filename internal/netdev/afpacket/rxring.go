package afpacket

import (
	"encoding/binary"

	"github.com/govs/govs/internal/packet"
	"golang.org/x/sys/unix"
)

// rxRing is the TPACKET_V3 receive ring: blocks the kernel fills with
// variable-length packets. Only the queue's PMD touches it.
type rxRing struct {
	mem       []byte // the ring's part of the mapping
	blockSize int
	blocks    int

	held int // oldest block not yet given back to the kernel
	cur  int // block being read, or the next one to open
	left int // packets left in cur; 0 means cur is not open
	next int // offset in mem of the next packet header in cur
}

// rxResult is what one walk over the ring produced.
type rxResult struct {
	n, bytes, dropped int
}

// release gives back to the kernel every block the previous receive used
// up. Their packets were handed out and are valid only until now.
func (r *rxRing) release() {
	for r.held != r.cur {
		storeStatus(r.mem, r.held*r.blockSize+blockStatusOffset, unix.TP_STATUS_KERNEL)
		r.held = (r.held + 1) % r.blocks
	}
}

// open makes cur readable if the kernel has retired it to us.
func (r *rxRing) open() bool {
	off := r.cur * r.blockSize
	if loadStatus(r.mem, off+blockStatusOffset)&unix.TP_STATUS_USER == 0 {
		return false
	}
	h := blockHeader(r.mem, off)
	r.left = int(h.Num_pkts)
	r.next = off + int(h.Offset_to_first_pkt)
	return true
}

// fill puts up to packet.BatchSize packets of the ring into b's slots.
func (r *rxRing) fill(b *packet.Batch) rxResult {
	var res rxResult
	opened := 0
	for res.n < packet.BatchSize {
		if r.left == 0 {
			// Opening as many blocks as the ring has would lap held.
			if opened == r.blocks-1 || !r.open() {
				break
			}
			opened++
			if r.left == 0 {
				r.cur = (r.cur + 1) % r.blocks
				continue
			}
		}
		h := frameHeader(r.mem, r.next)
		off := r.next
		end := (r.cur + 1) * r.blockSize
		if h.Next_offset != 0 {
			end = off + int(h.Next_offset)
			r.next = end
		}
		r.left--
		if r.left == 0 {
			r.cur = (r.cur + 1) % r.blocks
		}
		if h.Snaplen < h.Len {
			res.dropped++ // longer than a block (a GSO frame)
			continue
		}
		p := b.Slot(res.n)
		p.Reset(r.mem[off:end:end], int(h.Mac), int(h.Snaplen))
		if h.Status&unix.TP_STATUS_VLAN_VALID != 0 {
			tpid := uint16(0x8100)
			if h.Status&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
				tpid = h.Hv1.Vlan_tpid
			}
			if !insertVLAN(p, tpid, uint16(h.Hv1.Vlan_tci)) {
				res.dropped++
				continue
			}
		}
		res.bytes += p.Len
		res.n++
	}
	b.SetCount(res.n)
	return res
}

// insertVLAN puts back the 802.1Q tag the kernel took out of the frame
// into skb metadata, so the switch sees the packet as it was on the wire.
func insertVLAN(p *packet.Buffer, tpid, tci uint16) bool {
	if p.Len < 12 {
		return false
	}
	if _, ok := p.Push(4); !ok {
		return false
	}
	d := p.Data()
	copy(d[0:12], d[4:16])
	binary.BigEndian.PutUint16(d[12:14], tpid)
	binary.BigEndian.PutUint16(d[14:16], tci)
	return true
}
