package dpif

import (
	"bytes"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/govs/govs/internal/capture"
	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/netdev/dummy"
	"github.com/govs/govs/internal/odp"
	"github.com/govs/govs/internal/packet"
)

// fwdPort is a dummy port with a pretend kernel behind it: forward adds
// to its counters what the kernel would have forwarded while ForwardTo
// has a target.
type fwdPort struct {
	*dummy.Port
	ifindex int

	mu          sync.Mutex
	target      int
	cpus        []int
	calls       int // ForwardTo calls that changed something
	pkts, bytes uint64
	refuse      error
	// inflight frames are counted when forwarding stops: the kernel was
	// still forwarding them when the datapath last read the counters.
	inflight uint64
}

var (
	_ netdev.KernelForwarder = (*fwdPort)(nil)
	_ netdev.Transmitter     = (*fwdPort)(nil)
)

func (f *fwdPort) ForwardTo(ifindex int, cpus []int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ifindex != 0 && f.refuse != nil {
		return f.refuse
	}
	if ifindex == f.target && slices.Equal(cpus, f.cpus) {
		return nil
	}
	if ifindex == 0 {
		f.pkts += f.inflight
		f.bytes += f.inflight * 60
	}
	f.target, f.cpus = ifindex, slices.Clone(cpus)
	f.calls++
	return nil
}

func (f *fwdPort) Forwarded() (uint64, uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pkts, f.bytes
}

func (f *fwdPort) TransmitIfindex() int { return f.ifindex }

// forward pretends the kernel forwarded n frames of size bytes, if it is
// forwarding.
func (f *fwdPort) forward(n, size int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.target != 0 {
		f.pkts += uint64(n)
		f.bytes += uint64(n * size)
	}
}

func (f *fwdPort) state() (target, calls int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.target, f.calls
}

// crossUpcaller sends each port's packets to out[in_port], matching on
// in_port alone (the cross-connect megaflow), or also on eth_type when
// wide is set.
type crossUpcaller struct {
	mu    sync.Mutex
	out   map[uint32][]uint32
	wide  atomic.Bool
	pkts  uint64 // packets Revalidate pushed
	freed uint64 // packets Release pushed
}

func (u *crossUpcaller) translate(k *flow.Key, mask *flow.Mask, acts odp.Actions) odp.Actions {
	*mask = flow.Mask{InPort: ^uint32(0), RecircID: ^uint32(0)} // as ofproto makes them
	if u.wide.Load() {
		mask.EthType = 0xffff
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	acts = acts[:0]
	for _, o := range u.out[k.InPort] {
		acts = append(acts, odp.Output(o))
	}
	return acts
}

func (u *crossUpcaller) set(in uint32, out ...uint32) {
	u.mu.Lock()
	u.out[in] = out
	u.mu.Unlock()
}

func (u *crossUpcaller) Upcall(up *Upcall) error {
	up.Actions = u.translate(&up.Key, &up.Mask, up.Actions)
	up.Ref = 1 // so that deletions are Released with their statistics
	return nil
}

func (u *crossUpcaller) Userspace(*packet.Buffer, *flow.Key, *odp.Action) {}

func (u *crossUpcaller) Revalidate(r *Revalidation) error {
	u.mu.Lock()
	u.pkts += r.Packets
	u.mu.Unlock()
	r.Actions = u.translate(&r.Key, &r.Mask, r.Actions)
	return nil
}

func (u *crossUpcaller) Release(_ uint64, packets, _ uint64, _ int64) {
	u.mu.Lock()
	u.freed += packets
	u.mu.Unlock()
}

func (u *crossUpcaller) counted() uint64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.pkts + u.freed
}

// newOffloadDP returns a started datapath with hw-offload on and ports
// 1..3: fwdPorts with ifindex 100+n, port 1 sending to port 2.
func newOffloadDP(t *testing.T) (*Datapath, *crossUpcaller, []*fwdPort) {
	t.Helper()
	up := &crossUpcaller{out: map[uint32][]uint32{1: {2}}}
	dp, err := New(Config{PMDSleepMax: time.Millisecond, RevalidateInterval: time.Hour}, up)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dp.Close)
	ports := make([]*fwdPort, 4)
	for i := 1; i <= 3; i++ {
		ports[i] = &fwdPort{Port: newPort(t, "f"+string(rune('0'+i)), nil), ifindex: 100 + i}
		if err := dp.AddPort(uint32(i), ports[i]); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(dp.Stop)
	dp.SetOffload(true)
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	return dp, up, ports
}

// sendOne injects a frame on port in and waits for it on port out.
func sendOne(t *testing.T, in, out *fwdPort) {
	t.Helper()
	if err := in.Inject(0, udpFrame(0x0a000002, 1, 80)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the frame out", func() bool { return len(out.Transmitted()) == 1 })
}

func TestOffloadCrossConnect(t *testing.T) {
	dp, up, ports := newOffloadDP(t)
	sendOne(t, ports[1], ports[2])
	// Installed by the upcall; the kernel takes over at the next round.
	if target, _ := ports[1].state(); target != 0 {
		t.Fatalf("forwarding to %d before any revalidation", target)
	}
	dp.Revalidate()
	if target, _ := ports[1].state(); target != 102 {
		t.Fatalf("port 1 forwards to %d, want 102 (port 2)", target)
	}
	if !dp.pmds[0].fwdIdle.Load() {
		t.Error("the PMD polling port 1 does not yield its CPU when idle")
	}
	flows := dp.FlowDump()
	if len(flows) != 1 || !flows[0].Offloaded || flows[0].Packets != 1 {
		t.Fatalf("megaflows %+v", flows)
	}

	// The kernel's counts reach the megaflow, the rule (Revalidate) and
	// both ports.
	ports[1].forward(10, 60)
	if f := dp.FlowDump(); f[0].Packets != 11 || f[0].Bytes != 64+600 || f[0].Used == 0 {
		t.Errorf("megaflow after 10 forwarded: %+v", f[0])
	}
	dp.Revalidate()
	if n := up.counted(); n != 11 {
		t.Errorf("slow path told of %d packets, want 11", n)
	}
	rx, _ := dp.PortStats(1)
	tx, _ := dp.PortStats(2)
	if rx.RxPackets != 11 || tx.TxPackets != 11 || tx.TxBytes != 64+600 {
		t.Errorf("port 1 rx %d, port 2 tx %d packets %d bytes; want 11, 11, 664", rx.RxPackets, tx.TxPackets, tx.TxBytes)
	}

	// A rule change: the forward stops before the megaflow changes, its
	// last packets are counted, and the new output is forwarded.
	up.set(1, 3)
	ports[1].forward(5, 60)
	dp.Revalidate()
	if target, calls := ports[1].state(); target != 103 || calls != 3 {
		t.Errorf("after output 2 -> 3: target %d after %d changes, want 103 after 3 (start, stop, start)", target, calls)
	}
	dp.Revalidate()
	if n := up.counted(); n != 16 {
		t.Errorf("slow path told of %d packets, want 16", n)
	}

	// The target leaves: the forward stops before DelPort returns.
	if err := dp.DelPort(3); err != nil {
		t.Fatal(err)
	}
	if target, _ := ports[1].state(); target != 0 {
		t.Fatalf("port 1 still forwards to %d after port 3 left", target)
	}
	dp.Revalidate()
	if target, _ := ports[1].state(); target != 0 {
		t.Fatalf("port 1 forwards to %d, a port that left", target)
	}
	if dp.pmds[0].fwdIdle.Load() {
		t.Error("the PMD still yields its CPU with no forward left")
	}
}

func TestOffloadStopsOnDelFlowsAndOff(t *testing.T) {
	dp, up, ports := newOffloadDP(t)
	sendOne(t, ports[1], ports[2])
	dp.Revalidate()
	ports[1].forward(7, 100)
	dp.DelFlows()
	if target, _ := ports[1].state(); target != 0 {
		t.Fatal("forwarding after DelFlows")
	}
	// The deleted megaflow's last packets went to the Releaser.
	if n := up.counted(); n != 8 {
		t.Errorf("slow path told of %d packets, want 8", n)
	}

	if err := ports[1].Inject(0, udpFrame(0x0a000002, 1, 80)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a second frame out", func() bool { return len(ports[2].Transmitted()) == 1 })
	dp.Revalidate()
	if target, _ := ports[1].state(); target != 102 {
		t.Fatal("no forward for the reinstalled megaflow")
	}
	dp.SetOffload(false)
	if target, _ := ports[1].state(); target != 0 || dp.Offload() {
		t.Fatal("forwarding after hw-offload=false")
	}
	if f := dp.FlowDump(); len(f) != 1 || f[0].Offloaded {
		t.Fatalf("megaflows %+v", f)
	}
}

// Only a megaflow that sends all of a port, unchanged, to one other
// kernel port is forwarded in the kernel.
func TestOffloadOnlyCrossConnects(t *testing.T) {
	check := func(t *testing.T, dp *Datapath, p *fwdPort, want int) {
		t.Helper()
		dp.Revalidate()
		if target, _ := p.state(); target != want {
			t.Fatalf("forwarding to %d, want %d", target, want)
		}
	}
	t.Run("wider mask", func(t *testing.T) {
		dp, up, ports := newOffloadDP(t)
		up.wide.Store(true)
		sendOne(t, ports[1], ports[2])
		check(t, dp, ports[1], 0)
	})
	t.Run("two outputs", func(t *testing.T) {
		dp, up, ports := newOffloadDP(t)
		up.set(1, 2, 3)
		sendOne(t, ports[1], ports[2])
		check(t, dp, ports[1], 0)
	})
	t.Run("hw-offload off", func(t *testing.T) {
		dp, _, ports := newOffloadDP(t)
		dp.SetOffload(false)
		sendOne(t, ports[1], ports[2])
		check(t, dp, ports[1], 0)
	})
	t.Run("target not a kernel device", func(t *testing.T) {
		dp, up, ports := newOffloadDP(t)
		plain := newPort(t, "plain", nil)
		if err := dp.AddPort(4, plain); err != nil {
			t.Fatal(err)
		}
		up.set(1, 4)
		if err := ports[1].Inject(0, udpFrame(0x0a000002, 1, 80)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the frame out", func() bool { return len(plain.Transmitted()) == 1 })
		check(t, dp, ports[1], 0)
	})
	t.Run("capture", func(t *testing.T) {
		dp, _, ports := newOffloadDP(t)
		sendOne(t, ports[1], ports[2])
		check(t, dp, ports[1], 102)
		tap := capture.NewTap(capture.Both, nil, 64)
		if err := dp.AddTap(2, tap); err != nil {
			t.Fatal(err)
		}
		if target, _ := ports[1].state(); target != 0 {
			t.Fatal("still forwarding in the kernel while port 2 is captured")
		}
		dp.RemoveTap(2, tap)
		if target, _ := ports[1].state(); target != 102 {
			t.Fatal("no forward once the capture ended")
		}
	})
}

// A forward the kernel refuses leaves the PMDs serving the megaflow, is
// logged once, and is not asked for again every round.
func TestOffloadRefused(t *testing.T) {
	dp, _, ports := newOffloadDP(t)
	var logged bytes.Buffer
	dp.cfg.Log = slog.New(slog.NewTextHandler(&logged, nil))
	ports[1].refuse = errors.New("no TCX here")
	sendOne(t, ports[1], ports[2])
	for range 3 {
		dp.Revalidate()
	}
	if f := dp.FlowDump(); len(f) != 1 || f[0].Offloaded {
		t.Fatalf("megaflows %+v", f)
	}
	if n := strings.Count(logged.String(), "no TCX here"); n != 1 {
		t.Errorf("the refusal logged %d times, want once:\n%s", n, logged.String())
	}
	if err := ports[1].Inject(0, udpFrame(0x0a000002, 1, 80)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a frame through the PMD", func() bool { return len(ports[2].Transmitted()) == 1 })
	if dp.pmds[0].fwdIdle.Load() {
		t.Error("the PMD yields its CPU for a forward that does not run")
	}
}

// A forwarded megaflow is in use as long as the kernel forwards its
// packets, and expires like any other once it does not.
func TestOffloadIdleExpiry(t *testing.T) {
	dp, _, ports := newOffloadDP(t)
	sendOne(t, ports[1], ports[2])
	dp.Revalidate()
	dp.tun.maxIdle.Store(int64(20 * time.Millisecond))
	for range 3 {
		time.Sleep(10 * time.Millisecond)
		ports[1].forward(1, 60)
		dp.Revalidate()
	}
	if f := dp.FlowDump(); len(f) != 1 || !f[0].Offloaded {
		t.Fatalf("a megaflow the kernel keeps using expired: %+v", f)
	}
	time.Sleep(30 * time.Millisecond)
	dp.Revalidate()
	if f := dp.FlowDump(); len(f) != 0 {
		t.Fatalf("idle megaflow kept: %+v", f)
	}
	if target, _ := ports[1].state(); target != 0 {
		t.Fatal("forwarding for an expired megaflow")
	}
}

// Frames the kernel forwards up to the moment it stops are counted in the
// statistics of the megaflow that is deleted: it stops first.
func TestOffloadLastPacketsCounted(t *testing.T) {
	dp, up, ports := newOffloadDP(t)
	sendOne(t, ports[1], ports[2])
	dp.Revalidate()
	ports[1].inflight = 3
	up.wide.Store(true) // a narrower mask: the megaflow is deleted
	dp.Revalidate()
	if target, _ := ports[1].state(); target != 0 {
		t.Fatal("forwarding for a deleted megaflow")
	}
	if f := dp.FlowDump(); len(f) != 0 {
		t.Fatalf("megaflows %+v", f)
	}
	if n := up.counted(); n != 1+3 {
		t.Errorf("slow path told of %d packets, want 4", n)
	}
}
