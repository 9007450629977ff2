package afxdp

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// UMEM geometry. Each socket has its own UMEM: the first half of the frames
// circulate through the fill and RX rings, the second half through the TX
// and completion rings. FrameSize is a power of two (aligned chunk mode).
// The kernel leaves XDP_PACKET_HEADROOM (256 bytes, more than
// packet.Headroom) before received data.
const (
	FrameSize  = 4096
	ringSize   = 2048 // entries in each of the four rings
	rxFrames   = ringSize
	txFrames   = ringSize
	umemFrames = rxFrames + txFrames
)

// xsk is one AF_XDP socket bound to one queue of a device, with its UMEM.
type xsk struct {
	fd       int
	umem     []byte
	zeroCopy bool

	fill fillQueue
	comp completionQueue
	rx   rxRing
	tx   txRing
}

// newXSK creates the socket and its rings and binds it to queue qid of
// ifindex. zeroCopy asks for XDP_ZEROCOPY, else XDP_COPY.
func newXSK(ifindex, qid int, zeroCopy bool) (*xsk, error) {
	fd, err := unix.Socket(unix.AF_XDP, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("af_xdp socket: %w", err)
	}
	s := &xsk{fd: fd, zeroCopy: zeroCopy}
	if err := s.setup(ifindex, qid); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *xsk) setup(ifindex, qid int) error {
	var err error
	s.umem, err = unix.Mmap(-1, 0, umemFrames*FrameSize, unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
	if err != nil {
		return fmt.Errorf("mmap umem: %w", err)
	}
	reg := unix.XDPUmemReg{
		Addr: uint64(sliceAddr(s.umem)),
		Len:  uint64(len(s.umem)),
		Size: FrameSize,
	}
	if err := setUmemReg(s.fd, &reg); err != nil {
		return fmt.Errorf("register umem: %w", err)
	}
	for _, o := range []struct {
		name string
		opt  int
	}{
		{"fill", unix.XDP_UMEM_FILL_RING},
		{"completion", unix.XDP_UMEM_COMPLETION_RING},
		{"rx", unix.XDP_RX_RING},
		{"tx", unix.XDP_TX_RING},
	} {
		if err := unix.SetsockoptInt(s.fd, unix.SOL_XDP, o.opt, ringSize); err != nil {
			return fmt.Errorf("size %s ring: %w", o.name, err)
		}
	}
	off, err := mmapOffsets(s.fd)
	if err != nil {
		return fmt.Errorf("ring offsets: %w", err)
	}
	if s.fill.ring, err = mapRing(s.fd, unix.XDP_UMEM_PGOFF_FILL_RING, off.Fr, ringSize, 8); err != nil {
		return err
	}
	if s.comp.ring, err = mapRing(s.fd, unix.XDP_UMEM_PGOFF_COMPLETION_RING, off.Cr, ringSize, 8); err != nil {
		return err
	}
	if s.rx.ring, err = mapRing(s.fd, unix.XDP_PGOFF_RX_RING, off.Rx, ringSize, 16); err != nil {
		return err
	}
	if s.tx.ring, err = mapRing(s.fd, unix.XDP_PGOFF_TX_RING, off.Tx, ringSize, 16); err != nil {
		return err
	}
	// Every receive frame starts on the fill ring.
	addrs := make([]uint64, rxFrames)
	for i := range addrs {
		addrs[i] = uint64(i * FrameSize)
	}
	s.fill.put(addrs)

	flags := uint16(unix.XDP_USE_NEED_WAKEUP | unix.XDP_COPY)
	if s.zeroCopy {
		flags = unix.XDP_USE_NEED_WAKEUP | unix.XDP_ZEROCOPY
	}
	sa := &unix.SockaddrXDP{Flags: flags, Ifindex: uint32(ifindex), QueueID: uint32(qid)}
	// A socket closed on this queue a moment ago (a port reopened by a
	// reconfiguration) holds it until the kernel releases its buffer
	// pool, in a workqueue: until then bind says EBUSY.
	err = unix.Bind(s.fd, sa)
	for end := time.Now().Add(bindBusyWait); errors.Is(err, unix.EBUSY) && time.Now().Before(end); {
		time.Sleep(bindBusyPoll)
		err = unix.Bind(s.fd, sa)
	}
	if err != nil {
		mode := "copy"
		if s.zeroCopy {
			mode = "zero-copy"
		}
		return fmt.Errorf("bind af_xdp socket to queue %d (%s): %w", qid, mode, err)
	}
	return nil
}

// How long newXSK waits for a queue a closed socket still holds: the
// kernel's workqueue usually runs within milliseconds. A queue that
// another live socket holds stays busy, and the error comes after this.
const (
	bindBusyWait = time.Second
	bindBusyPoll = 2 * time.Millisecond
)

// txFrameAddrs returns the UMEM addresses of the transmit frames.
func txFrameAddrs() []uint64 {
	a := make([]uint64, 0, txFrames)
	for i := rxFrames; i < umemFrames; i++ {
		a = append(a, uint64(i*FrameSize))
	}
	return a
}

// frame returns the UMEM frame holding address addr, and addr's offset in it.
func (s *xsk) frame(addr uint64) ([]byte, int) {
	base := addr &^ (FrameSize - 1)
	return s.umem[base : base+FrameSize : base+FrameSize], int(addr - base)
}

func (s *xsk) close() error {
	err := errors.Join(s.fill.unmap(), s.comp.unmap(), s.rx.unmap(), s.tx.unmap())
	if s.fd >= 0 {
		err = errors.Join(err, unix.Close(s.fd))
		s.fd = -1
	}
	if s.umem != nil {
		err = errors.Join(err, unix.Munmap(s.umem))
		s.umem = nil
	}
	return err
}

// maxTxLen is the longest packet a transmit frame holds.
const maxTxLen = FrameSize
