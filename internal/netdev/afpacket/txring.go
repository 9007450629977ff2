package afpacket

import (
	"github.com/govs/govs/internal/packet"
	"golang.org/x/sys/unix"
)

// txDataOffset is where a TX frame's packet starts: right after the
// tpacket3_hdr, TPACKET_ALIGN'd (the kernel's default when
// PACKET_TX_HAS_OFF is not set).
const txDataOffset = 48

// txRing is the TPACKET_V3 transmit ring: fixed-size frames we fill and the
// kernel sends. The kernel walks the ring in the same order we fill it, so
// one head index is enough. Used by one PMD at a time (see Port.TxQueues).
type txRing struct {
	mem       []byte
	frameSize int
	frames    int
	head      int
}

// txResult is what one Send put into the ring.
type txResult struct {
	queued, bytes, dropped int
}

// fill copies the packets of b into free frames and marks them for sending.
// Packets that do not fit a frame, or find the ring full, are dropped.
func (r *txRing) fill(b *packet.Batch) txResult {
	var res txResult
	max := r.frameSize - txDataOffset
	for i, p := range b.Pkts {
		if p.Len > max {
			res.dropped++
			continue
		}
		off := r.head * r.frameSize
		st := loadStatus(r.mem, off+statusOffset)
		if st != unix.TP_STATUS_AVAILABLE && st != unix.TP_STATUS_WRONG_FORMAT {
			res.dropped += len(b.Pkts) - i // the kernel has not sent these frames yet
			break
		}
		copy(r.mem[off+txDataOffset:], p.Data())
		h := frameHeader(r.mem, off)
		h.Len = uint32(p.Len)
		h.Snaplen = uint32(p.Len)
		h.Next_offset = 0
		storeStatus(r.mem, off+statusOffset, unix.TP_STATUS_SEND_REQUEST)
		r.head++
		if r.head == r.frames {
			r.head = 0
		}
		res.queued++
		res.bytes += p.Len
	}
	return res
}
