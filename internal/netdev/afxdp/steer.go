package afxdp

// How XDP gets out of the way of kernel forwarding, and where the kernel
// then does the work.
//
// Any XDP program on a veth, even one that only returns XDP_PASS, makes
// veth receive through its NAPI ring and copy each frame into a page of
// its own first (the sender's skb rarely has the headroom and ownership
// XDP needs); in generic mode the stack does the same copy. That copy and
// its frees were the largest share of a forwarded frame's cost
// (docs/perf/veth.md). So on those devices the program comes off while
// the port forwards, and goes back on when it stops. A NIC's driver in
// native mode may reset its queues when a program comes or goes, so there
// the program is swapped in place instead (forward.go).
//
// With no program, veth delivers a frame on the sender's CPU, through
// netif_rx and that CPU's backlog. RPS (the device's rps_cpus) moves that
// backlog to the switch's CPUs, as threaded NAPI does for the other
// devices. A frame that the sender queued there before the program came
// back is still forwarded by TC when it is processed, so stopping waits
// for those queues to empty (drain) before TC goes.
//
// Taking the program off a veth in native mode would also take its NAPI
// away, and veth frees what the NAPI ring holds then: frames lost. Unless
// GRO is on: veth then keeps its NAPI, which passes what the ring holds
// on to the stack, and TC. So GRO is turned on before the program comes
// off, and back off once it is on again (with a program attached, veth
// keeps NAPI whatever GRO says).

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/govs/govs/internal/netdev/linux"
)

// detachesXDP reports whether dev's XDP program comes off while it
// forwards: in generic mode, and on veth. It also reports whether GRO is
// on, which must be asked before the program is attached: attaching one
// to a veth turns GRO on, whatever the user asked for.
func detachesXDP(dev string, native bool) (detach, gro bool) {
	if !native {
		return true, false
	}
	if drv, err := linux.Driver(dev); err != nil || drv != "veth" {
		return false, false
	}
	gro, _ = linux.GRO(dev)
	return true, gro
}

// xdpOff stops XDP from redirecting to the sockets: frames go on into the
// stack, where TC forwards them.
func (f *forwarder) xdpOff() error {
	if f.detachXDP {
		if f.native && !f.groWanted && !f.groOn {
			if err := linux.SetGRO(f.dev, true); err != nil {
				return err
			}
			f.groOn = true
		}
		if err := f.red.detach(); err != nil {
			return errors.Join(fmt.Errorf("detach xdp program: %w", err), f.groOff())
		}
		return nil
	}
	if err := f.red.swap(f.pass); err != nil {
		return fmt.Errorf("switch xdp program to pass: %w", err)
	}
	return nil
}

// xdpOn gives frames back to the sockets.
func (f *forwarder) xdpOn() error {
	if f.detachXDP {
		if err := f.red.attach(f.ifindex, f.native); err != nil {
			return fmt.Errorf("reattach xdp program: %w", err)
		}
		return f.groOff()
	}
	if err := f.red.swap(f.red.prog); err != nil {
		return fmt.Errorf("switch xdp program back to redirect: %w", err)
	}
	return nil
}

// groOff turns GRO back off if xdpOff turned it on. With the program
// attached again, veth keeps its NAPI: GRO is then as the user had it.
func (f *forwarder) groOff() error {
	if !f.groOn {
		return nil
	}
	f.groOn = false
	return linux.SetGRO(f.dev, false)
}

// Drain bounds: the wait ends when no CPU's backlog holds a frame and
// TC's counters have stood still for drainQuiet, or after drainMax
// whatever they do (other traffic may keep a backlog busy; frames of a
// queue without a socket keep reaching TC).
const (
	drainPoll  = time.Millisecond
	drainQuiet = 2 * time.Millisecond
	drainMax   = 100 * time.Millisecond
)

// drain waits until the frames queued in the CPUs' backlogs before XDP
// came back have been through TC: after the grace period in stop, only
// they still reach it. A frame taken off a backlog may still be on its
// way to TC when the queue shows empty; it is in a softirq, so a last
// grace period sees it through.
func (f *forwarder) drain() {
	last := f.forwarded().Packets
	quiet := time.Now()
	for end := quiet.Add(drainMax); time.Now().Before(end); {
		time.Sleep(drainPoll)
		if p := f.forwarded().Packets; p != last {
			last, quiet = p, time.Now()
		} else if time.Since(quiet) >= drainQuiet && backlogsEmpty() {
			break
		}
	}
	synchronizeRCU()
}

// backlogsEmpty reports whether no CPU's backlog queue holds a frame:
// the backlog_len column of /proc/net/softnet_stat (Linux 5.10+), which
// counts across network namespaces. It says true when it cannot tell.
func backlogsEmpty() bool {
	b, err := os.ReadFile("/proc/net/softnet_stat")
	if err != nil {
		return true
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 13 {
			return true
		}
		if n, err := strconv.ParseUint(f[11], 16, 32); err == nil && n != 0 {
			return false
		}
	}
	return true
}

// rpsState is what steering changed, to put it back.
type rpsState struct {
	old map[string]string // rps_cpus file -> its value before
}

// steer sets RPS of each of dev's rx queues to cpus (sorted, not empty).
// A kernel without RPS has no rps_cpus files: the work stays on the
// sender's CPU.
func (r *rpsState) steer(dev string, cpus []int) error {
	files, err := filepath.Glob(filepath.Join("/sys/class/net", dev, "queues", "rx-*", "rps_cpus"))
	if err != nil {
		return err
	}
	mask := cpuMask(cpus)
	for _, file := range files {
		if _, ok := r.old[file]; !ok {
			b, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			if r.old == nil {
				r.old = map[string]string{}
			}
			r.old[file] = strings.TrimSpace(string(b))
		}
		if err := os.WriteFile(file, []byte(mask), 0); err != nil {
			return fmt.Errorf("steer rps to cpus %v: %w", cpus, err)
		}
	}
	return nil
}

// restore puts back the values steer replaced. A queue that is gone (the
// device was deleted) has nothing to put back.
func (r *rpsState) restore() error {
	var errs []error
	for file, v := range r.old {
		if err := os.WriteFile(file, []byte(v), 0); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("restore %s: %w", file, err))
		}
	}
	r.old = nil
	return errors.Join(errs...)
}

// cpuMask formats cpus (sorted, not empty) as the kernel's bitmap files
// take them: 32-bit hex words, most significant first, comma separated.
func cpuMask(cpus []int) string {
	words := make([]uint32, cpus[len(cpus)-1]/32+1)
	for _, c := range cpus {
		words[c/32] |= 1 << (c % 32)
	}
	var b strings.Builder
	for i := len(words) - 1; i >= 0; i-- {
		if i == len(words)-1 {
			fmt.Fprintf(&b, "%x", words[i])
		} else {
			fmt.Fprintf(&b, ",%08x", words[i])
		}
	}
	return b.String()
}
