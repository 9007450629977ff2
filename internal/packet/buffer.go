// Package packet holds packets in flight: Buffer (one packet, a view into
// memory that lives off the Go heap), Batch (up to BatchSize of them, the unit
// every stage of the datapath works on), Pool (mmap'd frames for ports that
// have no memory of their own), header views and checksum helpers.
//
// Ownership: a receive queue fills a caller's Batch with Buffers that point
// into the queue's own memory (an AF_XDP UMEM frame, a TPACKET ring block, a
// guest's virtio buffer, a Pool frame). They stay valid until the next
// receive call on that queue; a transmit copies the bytes into the
// destination's memory, so a packet is copied once, at output.
package packet

// BatchSize is the number of packets processed together (OVS's
// NETDEV_MAX_BURST). It never changes.
const BatchSize = 32

// Headroom is the space kept before the packet data in frames a port owns,
// so pushing VLAN/MPLS headers or tunnel encapsulation does not move data.
const Headroom = 128

// Buffer flags.
const (
	// ReadOnly: the bytes belong to someone who must not see them change
	// (a guest's transmit buffer). Modifying actions copy first (MakeWritable).
	ReadOnly uint16 = 1 << iota
	// Copied: MakeWritable moved the packet into a frame of the PMD's own
	// Pool; whoever runs the batch returns that frame when it is done.
	Copied
)

// Buffer is one packet: frame[Off : Off+Len] are its bytes. A Buffer holds no
// memory of its own; it is a descriptor that ports, the parser and action
// executors pass around and reuse.
type Buffer struct {
	frame []byte // the whole frame, headroom and tailroom included
	Off   int    // start of the packet in frame
	Len   int    // packet length
	Flags uint16

	// Offsets of the headers from the start of the packet, set by the
	// flow parser (NoOffset when absent).
	L3Off uint16 // network header (after VLAN/MPLS)
	L4Off uint16 // transport header

	// TruncLen, set by the datapath trunc action (odp.OpTrunc), is the
	// most bytes the following outputs send; 0 = the whole packet. The
	// datapath clears it after each output, as OVS resets cutlen.
	TruncLen uint16

	InPort uint32 // datapath port the packet came in on
	Hash   uint32 // flow hash (RSS from the port, else computed); 0 = none
	Mark   uint32 // pkt_mark (skb mark), set by odp.FieldPktMark

	// Handle lets the owning port find its frame again (UMEM address,
	// descriptor index). Only the owner interprets it.
	Handle uint64
}

// NoOffset marks an absent header offset.
const NoOffset = 0xffff

// Reset points b at frame[off:off+n] and clears the per-packet state.
func (b *Buffer) Reset(frame []byte, off, n int) {
	*b = Buffer{frame: frame, Off: off, Len: n, L3Off: NoOffset, L4Off: NoOffset}
}

// Data returns the packet bytes.
func (b *Buffer) Data() []byte { return b.frame[b.Off : b.Off+b.Len : b.Off+b.Len] }

// Frame returns the whole frame the packet lives in.
func (b *Buffer) Frame() []byte { return b.frame }

// Headroom returns how many bytes can be pushed in front of the packet.
func (b *Buffer) Headroom() int { return b.Off }

// Tailroom returns how many bytes the packet can grow at its end.
func (b *Buffer) Tailroom() int { return len(b.frame) - b.Off - b.Len }

// Push grows the packet by n bytes at its front and returns the new bytes.
// It reports false when there is no headroom (the caller copies to a bigger
// frame or drops the packet).
func (b *Buffer) Push(n int) ([]byte, bool) {
	if n > b.Off || b.Flags&ReadOnly != 0 {
		return nil, false
	}
	b.Off -= n
	b.Len += n
	return b.frame[b.Off : b.Off+n], true
}

// Pull removes n bytes from the packet's front.
func (b *Buffer) Pull(n int) bool {
	if n > b.Len {
		return false
	}
	b.Off += n
	b.Len -= n
	return true
}

// SetLen truncates or extends the packet within its frame.
func (b *Buffer) SetLen(n int) bool {
	if n < 0 || b.Off+n > len(b.frame) {
		return false
	}
	b.Len = n
	return true
}

// Batch is up to BatchSize packets. Pkts points at the Buffers in bufs, so a
// batch can be filtered (drops removed) by rewriting Pkts without copying
// Buffers. A Batch is allocated once per PMD or port and reused.
type Batch struct {
	Pkts []*Buffer
	bufs [BatchSize]Buffer
}

// NewBatch returns an empty batch.
func NewBatch() *Batch {
	b := &Batch{}
	b.Pkts = make([]*Buffer, 0, BatchSize)
	return b
}

// Slot returns the i-th buffer slot of the batch's storage, for receive
// queues that fill the batch: fill Slot(i) and then call SetCount.
func (b *Batch) Slot(i int) *Buffer { return &b.bufs[i] }

// SetCount makes Pkts the first n slots.
func (b *Batch) SetCount(n int) {
	b.Pkts = b.Pkts[:n]
	for i := range n {
		b.Pkts[i] = &b.bufs[i]
	}
}

// Len returns the number of packets.
func (b *Batch) Len() int { return len(b.Pkts) }

// Clear empties the batch.
func (b *Batch) Clear() { b.Pkts = b.Pkts[:0] }

// Add appends p (a buffer owned elsewhere) and reports whether it fitted.
func (b *Batch) Add(p *Buffer) bool {
	if len(b.Pkts) == BatchSize {
		return false
	}
	b.Pkts = append(b.Pkts, p)
	return true
}
