// Package vhosttest is a vhost-user front-end written for tests: it plays
// the part of QEMU or DPDK's virtio-user, with guest memory in a memfd,
// rings it lays out itself, and direct access to descriptors so tests can
// also build the broken chains a hostile guest would.
package vhosttest

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/govs/govs/internal/vhost"
	"golang.org/x/sys/unix"
)

// Guest address spaces of the one memory region.
const (
	GPABase = 0x4000_0000      // guest-physical address of Mem[0]
	UVABase = 0x7f00_0000_0000 // front-end user address of Mem[0]
)

// Descriptor flags.
const (
	DescNext     = 1
	DescWrite    = 2
	DescIndirect = 4
)

// Frontend is one connection to a back-end.
type Frontend struct {
	Conn     *net.UnixConn
	Mem      []byte
	memFD    int
	next     int // bump allocator in Mem
	Features uint64
	Proto    uint64
	Queues   map[int]*Queue
}

// Queue is one virtqueue laid out in Mem.
type Queue struct {
	f                          *Frontend
	Index                      int
	Num                        uint16
	DescOff, AvailOff, UsedOff int
	Kick, Call                 int // eventfds
	nextAvail                  uint16
	lastUsed                   uint16
	nextDesc                   uint16
}

// New wraps c with memSize bytes of guest memory.
func New(c *net.UnixConn, memSize int) (*Frontend, error) {
	fd, err := unix.MemfdCreate("vhosttest", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if err := unix.Ftruncate(fd, int64(memSize)); err != nil {
		unix.Close(fd)
		return nil, err
	}
	mem, err := unix.Mmap(fd, 0, memSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &Frontend{Conn: c, Mem: mem, memFD: fd, next: 4096, Queues: map[int]*Queue{}}, nil
}

// Dial connects to a back-end listening at path.
func Dial(path string, memSize int) (*Frontend, error) {
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	f, err := New(c, memSize)
	if err != nil {
		c.Close()
	}
	return f, err
}

// Close disconnects and frees the guest memory.
func (f *Frontend) Close() {
	f.Conn.Close()
	for _, q := range f.Queues {
		unix.Close(q.Kick)
		unix.Close(q.Call)
	}
	unix.Munmap(f.Mem)
	unix.Close(f.memFD)
}

// Truncate shrinks the guest memory's file to size bytes, as a hostile or
// broken front-end could after SET_MEM_TABLE: the back-end's mapping
// past size then faults (SIGBUS), and so does Mem's.
func (f *Frontend) Truncate(size int) error {
	return unix.Ftruncate(f.memFD, int64(size))
}

// Alloc returns the offset of n zeroed bytes of guest memory aligned to align.
func (f *Frontend) Alloc(n, align int) int {
	off := (f.next + align - 1) &^ (align - 1)
	if off+n > len(f.Mem) {
		panic("vhosttest: guest memory exhausted")
	}
	f.next = off + n
	clear(f.Mem[off : off+n])
	return off
}

// Send writes one request with optional fds.
func (f *Frontend) Send(req vhost.Request, flags uint32, payload []byte, fds ...int) error {
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	_, _, err := f.Conn.WriteMsgUnix(vhost.EncodeMessage(req, 1|flags, payload), oob, nil)
	return err
}

// Reply reads one reply and returns its payload.
func (f *Frontend) Reply(req vhost.Request) ([]byte, error) {
	f.Conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer f.Conn.SetReadDeadline(time.Time{})
	var h [12]byte
	if _, err := io.ReadFull(f.Conn, h[:]); err != nil {
		return nil, err
	}
	if got := vhost.Request(binary.LittleEndian.Uint32(h[:])); got != req {
		return nil, fmt.Errorf("reply to %v, want %v", got, req)
	}
	p := make([]byte, binary.LittleEndian.Uint32(h[8:]))
	_, err := io.ReadFull(f.Conn, p)
	return p, err
}

// Call sends a request and reads its reply.
func (f *Frontend) Call(req vhost.Request, payload []byte) ([]byte, error) {
	if err := f.Send(req, 0, payload); err != nil {
		return nil, err
	}
	return f.Reply(req)
}

// Ack sends a request asking for REPLY_ACK and returns the back-end's
// verdict (needs ProtoReplyAck negotiated).
func (f *Frontend) Ack(req vhost.Request, payload []byte, fds ...int) (uint64, error) {
	if err := f.Send(req, 1<<3, payload, fds...); err != nil {
		return 0, err
	}
	p, err := f.Reply(req)
	if err != nil {
		return 0, err
	}
	if len(p) != 8 {
		return 0, fmt.Errorf("ack of %d bytes", len(p))
	}
	return binary.LittleEndian.Uint64(p), nil
}

// U64 encodes a u64 payload.
func U64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// State encodes a vring state payload.
func State(idx, num uint32) []byte {
	b := binary.LittleEndian.AppendUint32(nil, idx)
	return binary.LittleEndian.AppendUint32(b, num)
}

// Negotiate does what QEMU does first: owner, features (offered ∩ want),
// protocol features (offered ∩ proto), and the memory table.
func (f *Frontend) Negotiate(want, proto uint64) error {
	if err := f.Send(vhost.ReqSetOwner, 0, nil); err != nil {
		return err
	}
	p, err := f.Call(vhost.ReqGetFeatures, nil)
	if err != nil {
		return err
	}
	f.Features = binary.LittleEndian.Uint64(p) & want
	if f.Features&vhost.FeatProtocolFeatures != 0 {
		if p, err = f.Call(vhost.ReqGetProtocolFeatures, nil); err != nil {
			return err
		}
		f.Proto = binary.LittleEndian.Uint64(p) & proto
		if err := f.Send(vhost.ReqSetProtocolFeatures, 0, U64(f.Proto)); err != nil {
			return err
		}
	}
	if err := f.Send(vhost.ReqSetFeatures, 0, U64(f.Features)); err != nil {
		return err
	}
	return f.SendMemTable()
}

// MemTablePayload is the SET_MEM_TABLE payload for Mem as one region.
func (f *Frontend) MemTablePayload() []byte {
	b := binary.LittleEndian.AppendUint32(nil, 1)
	b = binary.LittleEndian.AppendUint32(b, 0)
	for _, v := range []uint64{GPABase, uint64(len(f.Mem)), UVABase, 0} {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

// SendMemTable sends SET_MEM_TABLE for Mem.
func (f *Frontend) SendMemTable() error {
	return f.Send(vhost.ReqSetMemTable, 0, f.MemTablePayload(), f.memFD)
}

// SetupQueue lays out virtqueue idx with num entries and sends its
// configuration: NUM, BASE, ADDR, CALL, KICK and (with protocol features)
// ENABLE.
func (f *Frontend) SetupQueue(idx int, num uint16) (*Queue, error) {
	q := &Queue{f: f, Index: idx, Num: num}
	q.DescOff = f.Alloc(16*int(num), 16)
	q.AvailOff = f.Alloc(8+2*int(num), 4)
	q.UsedOff = f.Alloc(8+8*int(num), 4)
	var err error
	if q.Kick, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		return nil, err
	}
	if q.Call, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		return nil, err
	}
	f.Queues[idx] = q
	addr := binary.LittleEndian.AppendUint32(nil, uint32(idx))
	addr = binary.LittleEndian.AppendUint32(addr, 0)
	for _, off := range []int{q.DescOff, q.UsedOff, q.AvailOff} {
		addr = binary.LittleEndian.AppendUint64(addr, UVABase+uint64(off))
	}
	addr = binary.LittleEndian.AppendUint64(addr, 0)
	steps := []func() error{
		func() error { return f.Send(vhost.ReqSetVringNum, 0, State(uint32(idx), uint32(num))) },
		func() error { return f.Send(vhost.ReqSetVringBase, 0, State(uint32(idx), 0)) },
		func() error { return f.Send(vhost.ReqSetVringAddr, 0, addr) },
		func() error { return f.Send(vhost.ReqSetVringCall, 0, U64(uint64(idx)), q.Call) },
		func() error { return f.Send(vhost.ReqSetVringKick, 0, U64(uint64(idx)), q.Kick) },
	}
	if f.Features&vhost.FeatProtocolFeatures != 0 {
		steps = append(steps, func() error { return f.Send(vhost.ReqSetVringEnable, 0, State(uint32(idx), 1)) })
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// Start negotiates and sets up pairs queue pairs of num entries.
func (f *Frontend) Start(want, proto uint64, pairs int, num uint16) error {
	if err := f.Negotiate(want, proto); err != nil {
		return err
	}
	for i := range 2 * pairs {
		if _, err := f.SetupQueue(i, num); err != nil {
			return err
		}
	}
	// GET_QUEUE_NUM has a reply: once it arrives, everything before it
	// has been applied.
	_, err := f.Call(vhost.ReqGetQueueNum, nil)
	return err
}

// Sync waits until the back-end has processed every message sent so far.
func (f *Frontend) Sync() error {
	_, err := f.Call(vhost.ReqGetQueueNum, nil)
	return err
}

// GPA returns the guest-physical address of Mem[off].
func GPA(off int) uint64 { return GPABase + uint64(off) }

// Desc is a raw descriptor.
type Desc struct {
	Addr  uint64
	Len   uint32
	Flags uint16
	Next  uint16
}

// WriteDesc writes d at entry i of the table at offset tableOff.
func (f *Frontend) WriteDesc(tableOff, i int, d Desc) {
	b := f.Mem[tableOff+16*i:]
	binary.LittleEndian.PutUint64(b, d.Addr)
	binary.LittleEndian.PutUint32(b[8:], d.Len)
	binary.LittleEndian.PutUint16(b[12:], d.Flags)
	binary.LittleEndian.PutUint16(b[14:], d.Next)
}

func (f *Frontend) word(off int) *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Pointer(&f.Mem[off]))
}

// AllocDescs reserves n consecutive ring descriptors (wrapping) and
// returns the first index.
func (q *Queue) AllocDescs(n int) uint16 {
	id := q.nextDesc
	q.nextDesc = uint16((int(q.nextDesc) + n) % int(q.Num))
	return id
}

// WriteDesc writes ring descriptor i.
func (q *Queue) WriteDesc(i uint16, d Desc) { q.f.WriteDesc(q.DescOff, int(i), d) }

// Publish puts head on the avail ring and publishes avail->idx.
func (q *Queue) Publish(heads ...uint16) {
	for _, h := range heads {
		binary.LittleEndian.PutUint16(q.f.Mem[q.AvailOff+4+2*int(q.nextAvail%q.Num):], h)
		q.nextAvail++
	}
	w := q.f.word(q.AvailOff)
	w.Store(uint32(q.nextAvail)<<16 | w.Load()&0xffff)
}

// SetAvailIdx stores a raw avail->idx (for tests of hostile guests).
func (q *Queue) SetAvailIdx(idx uint16) {
	w := q.f.word(q.AvailOff)
	w.Store(uint32(idx)<<16 | w.Load()&0xffff)
}

// SetAvailFlags sets avail->flags (VRING_AVAIL_F_NO_INTERRUPT = 1).
func (q *Queue) SetAvailFlags(flags uint16) {
	w := q.f.word(q.AvailOff)
	w.Store(w.Load()&0xffff0000 | uint32(flags))
}

// SetUsedEvent sets used_event (with VIRTIO_F_RING_EVENT_IDX).
func (q *Queue) SetUsedEvent(v uint16) {
	binary.LittleEndian.PutUint16(q.f.Mem[q.AvailOff+4+2*int(q.Num):], v)
}

// UsedFlags returns used->flags.
func (q *Queue) UsedFlags() uint16 { return uint16(q.f.word(q.UsedOff).Load()) }

// UsedIdx returns used->idx.
func (q *Queue) UsedIdx() uint16 { return uint16(q.f.word(q.UsedOff).Load() >> 16) }

// Used is one used-ring entry.
type Used struct {
	ID  uint16
	Len uint32
}

// TakeUsed returns the used entries published since the last call.
func (q *Queue) TakeUsed() []Used {
	idx := q.UsedIdx()
	var u []Used
	for ; q.lastUsed != idx; q.lastUsed++ {
		e := q.f.Mem[q.UsedOff+4+8*int(q.lastUsed%q.Num):]
		u = append(u, Used{uint16(binary.LittleEndian.Uint32(e)), binary.LittleEndian.Uint32(e[4:])})
	}
	return u
}

// Calls returns how many interrupts the back-end raised since the last
// call (reads the call eventfd).
func (q *Queue) Calls() uint64 {
	var b [8]byte
	if n, err := unix.Read(q.Call, b[:]); err != nil || n != 8 {
		return 0
	}
	return binary.LittleEndian.Uint64(b[:])
}

// HdrLen is the virtio_net_hdr size the tests negotiate (VERSION_1).
const HdrLen = 12

// PostTx transmits pkt from the guest: a zeroed header and the packet in
// one descriptor. It returns the head.
func (q *Queue) PostTx(pkt []byte) uint16 {
	off := q.f.Alloc(HdrLen+len(pkt), 8)
	copy(q.f.Mem[off+HdrLen:], pkt)
	h := q.AllocDescs(1)
	q.WriteDesc(h, Desc{Addr: GPA(off), Len: uint32(HdrLen + len(pkt))})
	q.Publish(h)
	return h
}

// PostRx gives the back-end n receive buffers of size bytes each, one
// descriptor per buffer, and returns their heads.
func (q *Queue) PostRx(n, size int) []uint16 {
	heads := make([]uint16, n)
	for i := range n {
		off := q.f.Alloc(size, 8)
		h := q.AllocDescs(1)
		q.WriteDesc(h, Desc{Addr: GPA(off), Len: uint32(size), Flags: DescWrite})
		heads[i] = h
	}
	q.Publish(heads...)
	return heads
}

// DescBytes returns the buffer of ring descriptor id, cut to n bytes.
func (q *Queue) DescBytes(id uint16, n uint32) []byte {
	b := q.f.Mem[q.DescOff+16*int(id):]
	addr := binary.LittleEndian.Uint64(b)
	off := int(addr - GPABase)
	return q.f.Mem[off : off+int(n)]
}
