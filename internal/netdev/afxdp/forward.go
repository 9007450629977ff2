package afxdp

// Kernel forwarding (the datapath's hw-offload): netdev.KernelForwarder.
//
// While a port forwards, XDP stops redirecting to our sockets, so frames
// enter the kernel stack, and a TCX ingress program on the same device
// counts each one in a per-CPU array and returns bpf_redirect(target, 0):
// the frame leaves on the target device's egress without reaching user
// space. How XDP stops depends on the device (see steer.go): on a veth, and
// in generic mode, the program comes off altogether, because any XDP
// program there costs a copy of every frame; elsewhere (a NIC's driver may
// reset its queues when a program comes or goes) the link's program is
// swapped for one that returns XDP_PASS. The order of the switches is what
// keeps frames from being lost or seen twice:
//
//   - start: attach TC first (it sees nothing while XDP still redirects to
//     the sockets), then take XDP off;
//   - stop: put the redirect back first, wait until no frame that got past
//     XDP can still be on its way to TC (an RCU grace period, and on the
//     devices that steer, the backlog queues emptied), then detach TC.
//
// A new target is a new TC program swapped into the TCX link in place.
// The counters map lives as long as the port, so Forwarded is monotonic
// across stop and start.
//
// Optionally the kernel's share of the work is moved to given CPUs (the
// switch's): the device's NAPI processing is made threaded and its kthreads
// ("napi/<dev>-<id>") pinned there, and where XDP comes off, RPS steers the
// device's receive there; whatever was changed is put back when forwarding
// stops.

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/govs/govs/internal/netdev"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

var (
	_ netdev.KernelForwarder = (*Port)(nil)
	_ netdev.Transmitter     = (*Port)(nil)
)

// ForwardTo implements netdev.KernelForwarder.
func (p *Port) ForwardTo(ifindex int, cpus []int) error {
	if err := p.fwd.forwardTo(ifindex, cpus); err != nil {
		return fmt.Errorf("%s: forward to ifindex %d: %w", p.Name(), ifindex, err)
	}
	return nil
}

// Forwarded implements netdev.KernelForwarder.
func (p *Port) Forwarded() (packets, bytes uint64) {
	c := p.fwd.forwarded()
	return c.Packets, c.Bytes
}

// TransmitIfindex implements netdev.Transmitter: Send writes to the TX rings
// of sockets bound to the device, so frames leave on its egress.
func (p *Port) TransmitIfindex() int { return p.Index() }

// Offsets in struct __sk_buff (uapi/linux/bpf.h) the TC program reads.
const (
	skbLen         = 0
	skbVLANPresent = 20
	skbGSOSegs     = 164
)

// fwdCounters is the value of the counters map, one per possible CPU. The
// layout is the TC program's: packets at offset 0, bytes at 8.
type fwdCounters struct {
	Packets, Bytes uint64
}

// forwarder is a port's kernel forwarding state.
type forwarder struct {
	dev     string // the port's device
	ifindex int
	red     *redirect
	native  bool // red is attached in driver mode
	// detachXDP: XDP comes off while forwarding, rather than being
	// swapped for the pass program (see steer.go).
	detachXDP bool
	groWanted bool   // GRO was on before XDP was attached (veth, native)
	groOn     bool   // GRO was turned on to take XDP off (steer.go)
	runDir    string // where persist keeps what is changed (saved.go)

	mu         sync.Mutex // serialises forwardTo, status and close
	closed     bool
	pass       *ebpf.Program // the XDP_PASS program, loaded on first use
	tc         *ebpf.Program // the TC program for target, while forwarding
	tcx        link.Link     // its link, nil unless forwarding
	target     int           // ifindex forwarded to, 0 if not forwarding
	targetName string
	cpus       []int // sorted, where the kernel's work goes (nil: untouched)
	napi       napiState
	rps        rpsState // with detachXDP

	// statsMu guards the counters map against close, so forwarded never
	// waits for a forwardTo (which can take milliseconds).
	statsMu  sync.Mutex
	counters *ebpf.Map     // created on first use, closed by close
	percpu   []fwdCounters // lookup buffer, one per possible CPU
	last     fwdCounters   // the last totals read
}

// newForwarder is called before red is attached to the device.
func newForwarder(dev string, ifindex int, red *redirect, native bool, runDir string) *forwarder {
	f := &forwarder{dev: dev, ifindex: ifindex, red: red, native: native, runDir: runDir}
	f.detachXDP, f.groWanted = detachesXDP(dev, native)
	return f
}

// forwardTo implements Port.ForwardTo. NAPI is set before forwarding
// starts, so a failure there leaves forwarding as it was (and NAPI as
// found); a failure to start forwarding puts NAPI back unless the port
// still forwards to its previous target. Stopping forwarding comes before
// putting NAPI back, so an error from the latter leaves forwarding off.
func (f *forwarder) forwardTo(ifindex int, cpus []int) error {
	if ifindex < 0 {
		return errors.New("negative ifindex")
	}
	want, err := normalCPUs(cpus)
	if err != nil {
		return err
	}
	if ifindex == 0 {
		want = nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return net.ErrClosed
	}
	if ifindex == f.target && slices.Equal(want, f.cpus) {
		return nil
	}
	// Best effort: an error here must not turn a forward that started
	// into one the caller thinks failed. Without the file, only a govs
	// that dies before it stops the forward leaves settings behind.
	defer f.persist()
	if ifindex == 0 {
		if err := f.stop(); err != nil {
			return err
		}
		return f.setNAPI(nil)
	}
	name := ""
	if ifindex != f.target {
		// bpf_redirect to a missing device drops every frame: refuse it
		// here, where the caller can still hear about it.
		l, err := netlink.LinkByIndex(ifindex)
		if err != nil {
			return fmt.Errorf("target device: %w", err)
		}
		name = l.Attrs().Name
	}
	// NAPI first: if that fails, forwarding has not changed yet.
	if err := f.setNAPI(want); err != nil {
		return err
	}
	if ifindex == f.target {
		return nil
	}
	if err := f.start(ifindex); err != nil {
		if f.target == 0 {
			// Not forwarding after all: NAPI goes back as it was.
			err = errors.Join(err, f.setNAPI(nil))
		}
		return err
	}
	f.targetName = name
	return nil
}

// start forwards to target, from not forwarding or from another target.
// On error nothing has changed.
func (f *forwarder) start(target int) error {
	if err := f.prepare(); err != nil {
		return err
	}
	prog, err := f.loadTC(target)
	if err != nil {
		return err
	}
	if f.tcx != nil {
		// Already forwarding: the kernel swaps the program in place, each
		// frame goes to the old target or the new one.
		if err := f.tcx.Update(prog); err != nil {
			prog.Close()
			return fmt.Errorf("replace tc program: %w", err)
		}
		f.tc.Close()
		f.tc, f.target = prog, target
		return nil
	}
	// Head: what this port receives is forwarded before any other TCX
	// program could take it. XDP still redirects everything to the
	// sockets, so the program runs for nothing yet.
	l, err := link.AttachTCX(link.TCXOptions{
		Interface: f.ifindex,
		Program:   prog,
		Attach:    ebpf.AttachTCXIngress,
		Anchor:    link.Head(),
	})
	if err != nil {
		prog.Close()
		return fmt.Errorf("attach tc program: %w", err)
	}
	if err := f.xdpOff(); err != nil {
		l.Close()
		prog.Close()
		return err
	}
	f.tcx, f.tc, f.target = l, prog, target
	return nil
}

// stop returns frames to the sockets. On error the port still forwards.
func (f *forwarder) stop() error {
	if f.tcx == nil {
		return nil
	}
	if err := f.xdpOn(); err != nil {
		return err
	}
	// A frame that got past XDP just before it came back may not have
	// reached TC yet: closing the link now would drop it into the
	// device's own stack. Where XDP passed it, both run in one NAPI poll,
	// inside an RCU read-side section, so a grace period sees it through;
	// where there was no program, the frame may also wait in a CPU's
	// backlog queue after that.
	synchronizeRCU()
	if f.detachXDP {
		f.drain()
	}
	return f.detach()
}

// detach closes the TC program and its link; the kernel removes the
// program before close returns (the link has no other reference).
func (f *forwarder) detach() error {
	err := f.tcx.Close()
	f.tc.Close()
	f.tcx, f.tc, f.target, f.targetName = nil, nil, 0, ""
	if err != nil {
		return fmt.Errorf("detach tc program: %w", err)
	}
	return nil
}

// prepare creates what lives as long as the port: the counters and, if
// XDP is swapped rather than detached, the XDP_PASS program.
func (f *forwarder) prepare() error {
	if f.pass == nil && !f.detachXDP {
		p, err := newPass()
		if err != nil {
			return err
		}
		f.pass = p
	}
	f.statsMu.Lock()
	defer f.statsMu.Unlock()
	if f.counters != nil {
		return nil
	}
	n, err := ebpf.PossibleCPU()
	if err != nil {
		return err
	}
	m, err := ebpf.NewMap(&ebpf.MapSpec{
		Name:       "govs_fwd_stats",
		Type:       ebpf.PerCPUArray,
		KeySize:    4,
		ValueSize:  16,
		MaxEntries: 1,
	})
	if err != nil {
		return fmt.Errorf("create counters map: %w", err)
	}
	f.counters, f.percpu = m, make([]fwdCounters, n)
	return nil
}

// loadTC loads the TC ingress program that forwards to target:
//
//	r6 = skb
//	c = counters[0]
//	if c != NULL {
//		c->packets += skb->gso_segs ?: 1
//		c->bytes += skb->len + 4*skb->vlan_present
//	}
//	return bpf_redirect(target, 0)
//
// A GRO aggregate counts as the packets it was made of, as it would have
// reached the sockets. At TC ingress the Ethernet header is back in
// skb->len but a VLAN tag the stack took out of the frame is not, hence
// the 4: the byte count is the frame's as received. No atomics are needed:
// the counters are per CPU and TC runs with bottom halves disabled.
func (f *forwarder) loadTC(target int) (*ebpf.Program, error) {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "govs_fwd",
		Type: ebpf.SchedCLS,
		Instructions: asm.Instructions{
			asm.Mov.Reg(asm.R6, asm.R1),
			asm.StoreImm(asm.RFP, -4, 0, asm.Word),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -4),
			asm.LoadMapPtr(asm.R1, f.counters.FD()),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "redirect"),

			asm.LoadMem(asm.R1, asm.R6, skbGSOSegs, asm.Word),
			asm.JNE.Imm(asm.R1, 0, "packets"),
			asm.Mov.Imm(asm.R1, 1),
			asm.LoadMem(asm.R2, asm.R0, 0, asm.DWord).WithSymbol("packets"),
			asm.Add.Reg(asm.R2, asm.R1),
			asm.StoreMem(asm.R0, 0, asm.R2, asm.DWord),

			asm.LoadMem(asm.R1, asm.R6, skbLen, asm.Word),
			asm.LoadMem(asm.R2, asm.R6, skbVLANPresent, asm.Word),
			asm.LSh.Imm(asm.R2, 2),
			asm.Add.Reg(asm.R1, asm.R2),
			asm.LoadMem(asm.R2, asm.R0, 8, asm.DWord),
			asm.Add.Reg(asm.R2, asm.R1),
			asm.StoreMem(asm.R0, 8, asm.R2, asm.DWord),

			asm.Mov.Imm(asm.R1, int32(target)).WithSymbol("redirect"),
			asm.Mov.Imm(asm.R2, 0),
			asm.FnRedirect.Call(),
			asm.Return(),
		},
		License: "Dual BSD/GPL",
	})
	if err != nil {
		return nil, fmt.Errorf("load tc program: %w", err)
	}
	return prog, nil
}

// setNAPI moves the kernel's receive work on the device to cpus (sorted):
// NAPI threads pinned there and, where XDP comes off, RPS steering there.
// With cpus nil it puts back what was changed. On error everything is put
// back too.
func (f *forwarder) setNAPI(cpus []int) error {
	if slices.Equal(cpus, f.cpus) {
		return nil
	}
	if cpus == nil {
		f.cpus = nil
		return errors.Join(f.napi.restore(f.dev), f.rps.restore())
	}
	err := f.napi.pin(f.dev, cpus)
	if err == nil && f.detachXDP {
		err = f.rps.steer(f.dev, cpus)
	}
	if err != nil {
		f.cpus = nil
		return errors.Join(err, f.napi.restore(f.dev), f.rps.restore())
	}
	f.cpus = cpus
	return nil
}

func (f *forwarder) forwarded() fwdCounters {
	f.statsMu.Lock()
	defer f.statsMu.Unlock()
	if f.counters == nil {
		return f.last
	}
	if err := f.counters.Lookup(uint32(0), f.percpu); err != nil {
		return f.last
	}
	var t fwdCounters
	for _, c := range f.percpu {
		t.Packets += c.Packets
		t.Bytes += c.Bytes
	}
	// Each CPU's counters only grow, so the sum does too; max makes sure
	// of it whatever the order the CPUs were read in.
	f.last.Packets = max(f.last.Packets, t.Packets)
	f.last.Bytes = max(f.last.Bytes, t.Bytes)
	return f.last
}

// status returns the target's name, "" when not forwarding.
func (f *forwarder) status() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.target == 0 {
		return ""
	}
	if f.targetName != "" {
		return f.targetName
	}
	return strconv.Itoa(f.target)
}

// close stops forwarding and releases everything; forwarded keeps
// answering with the last totals. Port.Close detaches XDP afterwards.
func (f *forwarder) close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	// A full stop, though the sockets close next: on a veth the program
	// coming back keeps the NAPI whose threaded setting is put back
	// below (without it, writing threaded fails).
	err := f.stop()
	if err != nil {
		// XDP did not come back; the port is going away, so TC and
		// what was turned on for it go anyway.
		err = errors.Join(err, f.detach(), f.groOff())
	}
	err = errors.Join(err, f.setNAPI(nil), f.persist())
	f.forwarded()
	f.statsMu.Lock()
	if f.counters != nil {
		err = errors.Join(err, f.counters.Close())
		f.counters = nil
	}
	f.statsMu.Unlock()
	if f.pass != nil {
		err = errors.Join(err, f.pass.Close())
		f.pass = nil
	}
	return err
}

// normalCPUs returns cpus sorted without duplicates, nil if empty.
func normalCPUs(cpus []int) ([]int, error) {
	if len(cpus) == 0 {
		return nil, nil
	}
	var set unix.CPUSet
	maxCPU := len(set) * 64
	for _, c := range cpus {
		if c < 0 || c >= maxCPU {
			return nil, fmt.Errorf("invalid cpu %d", c)
		}
	}
	s := slices.Clone(cpus)
	slices.Sort(s)
	return slices.Compact(s), nil
}

// synchronizeRCU waits for an RCU grace period: every NAPI poll running
// when it is called has finished when it returns. membarrier's
// MEMBARRIER_CMD_GLOBAL is exactly synchronize_rcu() (with consolidated
// RCU, which also waits for bottom-half-disabled sections) on a kernel
// with more than one CPU online; with one there is no other CPU to wait
// for. nohz_full kernels refuse it: a NAPI poll is microseconds, a
// sleep far longer does.
func synchronizeRCU() {
	const membarrierCmdGlobal = 1
	if _, _, e := unix.Syscall(unix.SYS_MEMBARRIER, membarrierCmdGlobal, 0, 0); e != 0 {
		time.Sleep(10 * time.Millisecond)
	}
}

// napiState is what pinning changed, to put it back.
type napiState struct {
	threaded string              // the threaded value we replaced, "" if untouched
	affinity map[int]unix.CPUSet // the affinity of threads found running
}

// napiWait bounds the wait for the kthreads of a device we just made
// threaded. The kernel creates them before the write returns; the wait is
// for kernels that do not.
const napiWait = 100 * time.Millisecond

// pin makes dev's NAPI threaded and its threads run on cpus. A device
// without NAPI (veth in generic XDP mode) or a kernel without threaded
// NAPI (< 5.12) is left alone: forwarding works, wherever the kernel
// runs it.
func (n *napiState) pin(dev string, cpus []int) error {
	path := filepath.Join("/sys/class/net", dev, "threaded")
	cur, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	created := false
	// Anything but 0 is threaded already ("2" is threaded busy polling).
	if v := strings.TrimSpace(string(cur)); v == "0" {
		if err := os.WriteFile(path, []byte("1"), 0); err != nil {
			if errors.Is(err, unix.EOPNOTSUPP) {
				return nil // no NAPI instance on the device
			}
			return err
		}
		n.threaded, created = v, true
	}
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	deadline := time.Now().Add(napiWait)
	pids, err := napiThreads(dev)
	for err == nil && len(pids) == 0 && created && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		pids, err = napiThreads(dev)
	}
	if err != nil {
		return err
	}
	for _, pid := range pids {
		// Threads that exist only because we made the device threaded
		// go away when we put the value back; the others get their
		// affinity back.
		if n.threaded == "" {
			if _, ok := n.affinity[pid]; !ok {
				var old unix.CPUSet
				if err := unix.SchedGetaffinity(pid, &old); err != nil {
					if errors.Is(err, unix.ESRCH) {
						continue
					}
					return fmt.Errorf("affinity of napi thread %d: %w", pid, err)
				}
				if n.affinity == nil {
					n.affinity = map[int]unix.CPUSet{}
				}
				n.affinity[pid] = old
			}
		}
		if err := unix.SchedSetaffinity(pid, &set); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("pin napi thread %d to cpus %v: %w", pid, cpus, err)
		}
	}
	return nil
}

// restore puts back what pin changed, as far as it can.
func (n *napiState) restore(dev string) error {
	var errs []error
	for pid, set := range n.affinity {
		// The pid may have been reused since: only a NAPI thread of dev
		// gets an affinity back.
		if !isNAPIThread(pid, dev) {
			continue
		}
		if err := unix.SchedSetaffinity(pid, &set); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("restore affinity of napi thread %d: %w", pid, err))
		}
	}
	n.affinity = nil
	if n.threaded != "" {
		path := filepath.Join("/sys/class/net", dev, "threaded")
		if err := os.WriteFile(path, []byte(n.threaded), 0); err != nil {
			errs = append(errs, err)
		}
		n.threaded = ""
	}
	return errors.Join(errs...)
}

// napiThreads returns the pids of dev's NAPI kthreads.
func napiThreads(dev string) ([]int, error) {
	d, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range d {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if isNAPIThread(pid, dev) {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// commLen is TASK_COMM_LEN without its NUL: what /proc/<pid>/comm shows
// at most on kernels that cut kthreads' names there (6.18 shows them
// whole).
const commLen = 15

// isNAPIThread reports whether pid is a kthread (a child of kthreadd)
// named "napi/<dev>-<napi id>", or a name cut to commLen bytes that
// starts so.
func isNAPIThread(pid int, dev string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil || !napiComm(strings.TrimSuffix(string(b), "\n"), dev) {
		return false
	}
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state ppid ...: comm may hold spaces and parentheses,
	// the last ')' ends it.
	i := strings.LastIndexByte(string(st), ')')
	if i < 0 {
		return false
	}
	f := strings.Fields(string(st[i+1:]))
	return len(f) > 1 && f[1] == "2"
}

// napiComm reports whether comm names one of dev's NAPI threads.
func napiComm(comm, dev string) bool {
	prefix := "napi/" + dev + "-"
	if id, ok := strings.CutPrefix(comm, prefix); ok {
		_, err := strconv.ParseUint(id, 10, 32)
		return err == nil || (len(comm) == commLen && id == "")
	}
	// Cut inside the device name or right after it.
	return len(comm) == commLen && strings.HasPrefix(prefix, comm)
}
