package packet

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// FrameSize is the size of a Pool frame: room for Headroom plus a 1518-byte
// frame with VLAN tags, rounded to a power of two like AF_XDP frames.
const FrameSize = 2048

// Pool is a set of fixed-size frames in one anonymous mmap, off the Go heap.
// Ports that have no memory of their own (dummy, TAP, copies made by
// MakeWritable) take frames from a Pool. The free list is a plain []uint32
// of frame indices, so the GC never looks inside. A Pool is not safe for
// concurrent use: each PMD or port owns its own.
type Pool struct {
	mem  []byte
	free []uint32
}

// ErrPoolEmpty is returned by Get when every frame is in use.
var ErrPoolEmpty = errors.New("packet pool empty")

// NewPool maps n frames.
func NewPool(n int) (*Pool, error) {
	mem, err := unix.Mmap(-1, 0, n*FrameSize, unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("mmap packet pool: %w", err)
	}
	p := &Pool{mem: mem, free: make([]uint32, n)}
	for i := range p.free {
		p.free[i] = uint32(n - 1 - i)
	}
	return p, nil
}

// Close unmaps the pool's memory. No Buffer from it may be used afterwards.
func (p *Pool) Close() error {
	if p.mem == nil {
		return nil
	}
	err := unix.Munmap(p.mem)
	p.mem = nil
	return err
}

// Frames returns the total number of frames.
func (p *Pool) Frames() int { return len(p.mem) / FrameSize }

// Available returns the number of free frames.
func (p *Pool) Available() int { return len(p.free) }

// Get points b at a free frame with Headroom bytes of headroom and length 0.
// The frame index is kept in b.Handle for Put.
func (p *Pool) Get(b *Buffer) error {
	n := len(p.free)
	if n == 0 {
		return ErrPoolEmpty
	}
	idx := p.free[n-1]
	p.free = p.free[:n-1]
	off := int(idx) * FrameSize
	b.Reset(p.mem[off:off+FrameSize:off+FrameSize], Headroom, 0)
	b.Handle = uint64(idx)
	return nil
}

// Put returns b's frame to the pool.
func (p *Pool) Put(b *Buffer) {
	p.free = append(p.free, uint32(b.Handle))
	b.frame = nil
}

// MakeWritable copies a ReadOnly packet into a frame from p so it can be
// modified. The caller must Put the frame back when the packet is done
// (Handle and the frame now belong to p). It does nothing for a writable packet.
func (b *Buffer) MakeWritable(p *Pool) error {
	if b.Flags&ReadOnly == 0 {
		return nil
	}
	var nb Buffer
	if err := p.Get(&nb); err != nil {
		return err
	}
	if b.Len > len(nb.frame)-Headroom {
		p.Put(&nb)
		return errors.New("packet larger than pool frame")
	}
	copy(nb.frame[Headroom:], b.Data())
	nb.Len = b.Len
	nb.L3Off, nb.L4Off, nb.InPort, nb.Hash = b.L3Off, b.L4Off, b.InPort, b.Hash
	nb.TruncLen, nb.Mark = b.TruncLen, b.Mark
	nb.Flags = Copied
	*b = nb
	return nil
}
