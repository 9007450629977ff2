package dpif

import (
	"sync/atomic"
	"testing"

	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/netdev/dummy"
	"github.com/govs/govs/internal/packet"
	"github.com/govs/govs/internal/race"
	"github.com/govs/govs/internal/vhost/memfault"
	"golang.org/x/sys/unix"
)

// guestPort is a port whose one receive queue hands out packets in place
// in "guest memory" (an mmapped memfd), as a vhost-user port does, until
// the memory's owner is told of a fault.
type guestPort struct {
	*dummy.Port
	q *guestRxq
}

func (p *guestPort) RxQueues() []netdev.RxQueue { return []netdev.RxQueue{p.q} }

type guestRxq struct {
	mem     []byte
	off     int // of the packet in mem
	n       int // its length
	armed   atomic.Bool
	faulted atomic.Int32
}

func (q *guestRxq) ID() int { return 0 }

func (q *guestRxq) Recv(b *packet.Batch) (int, error) {
	b.Clear()
	if !q.armed.Load() || q.faulted.Load() > 0 {
		return 0, nil
	}
	s := b.Slot(0)
	s.Reset(q.mem[q.off:q.off+q.n], 0, q.n)
	s.Flags = packet.ReadOnly
	b.SetCount(1)
	return 1, nil
}

// MemoryFault implements memfault.Owner.
func (q *guestRxq) MemoryFault(off uintptr) { q.faulted.Add(1) }

// TestGuestMemoryFaultInBatch: a packet received in place whose memory
// is truncated faults when the PMD parses it, or when another port's
// Send copies it. The PMD tells the memory's owner, drops the batch and
// keeps forwarding.
func TestGuestMemoryFaultInBatch(t *testing.T) {
	const page = 4096
	for _, tc := range []struct {
		name    string
		off, n  int
		dropped bool // the packet is not transmitted at all
	}{
		{"parse", page + 64, 64, true},    // all of it past the end
		{"output", page - 60, 200, false}, // headers before the end, the rest past it
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd, err := unix.MemfdCreate("h8guest", unix.MFD_CLOEXEC)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)
			if err := unix.Ftruncate(fd, 4*page); err != nil {
				t.Fatal(err)
			}
			mem, err := unix.Mmap(fd, 0, 4*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Munmap(mem)
			copy(mem[tc.off:], udpFrame(0x0a000002, 1, 80)) // to port 2
			q := &guestRxq{mem: mem, off: tc.off, n: tc.n}
			memfault.Register(mem, q)
			defer memfault.Unregister(mem)

			up := &testUpcaller{}
			dp, ports := newTestDP(t, testCfg, up, 3, nil)
			gp := &guestPort{Port: newPort(t, "g4", nil), q: q}
			if err := dp.AddPort(4, gp); err != nil {
				t.Fatal(err)
			}
			if err := dp.Start(); err != nil {
				t.Fatal(err)
			}
			// The PMDs stop before the memory is unregistered and unmapped
			// (deferred calls run last-in first).
			defer dp.Stop()
			if err := unix.Ftruncate(fd, page); err != nil {
				t.Fatal(err)
			}
			q.armed.Store(true)
			waitFor(t, "the fault", func() bool { return q.faulted.Load() > 0 })
			ports[1].Inject(0, udpFrame(0x0a000003, 2, 80)) // to port 3
			waitFor(t, "forwarding after the fault", func() bool { return len(ports[3].Transmitted()) == 1 })
			if got := len(ports[2].Transmitted()); got != 0 {
				t.Errorf("port 2 sent %d packets from broken memory", got)
			}
		})
	}
}

// TestProcessGuardedZeroAllocs: the containment adds no allocation to a
// batch's processing (TestSteadyStateZeroAllocs checks the rest).
func TestProcessGuardedZeroAllocs(t *testing.T) {
	race.SkipAllocs(t)
	dp, _ := newTestDP(t, Config{}, &testUpcaller{}, 2, map[string]string{"tx_capture": "false"})
	pool, _ := packet.NewPool(8)
	defer pool.Close()
	b := rxBatch(t, pool, [][]byte{udpFrame(0x0a000002, 7, 80)})
	guarded := func() { dp.pmds[0].processGuarded(dp.snap.Load(), 1, b) }
	guarded()
	if n := testing.AllocsPerRun(200, guarded); n != 0 {
		t.Fatalf("%v allocations per batch", n)
	}
}
