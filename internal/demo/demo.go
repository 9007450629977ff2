package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Options configure the demo.
type Options struct {
	// Exe is the govs binary the demo starts as `Exe run`
	// (os.Executable).
	Exe string
	// Out receives everything the demo prints (default os.Stdout).
	Out io.Writer
	// Hosts is the number of network namespaces on the bridge, 2 to 6
	// (default 3).
	Hosts int
	// IperfTime is the length of the iperf3 test (default 3 s).
	IperfTime time.Duration
}

// Result is what the demo measured.
type Result struct {
	Ping  []pingResult
	Iperf iperfResult
}

// ErrInterrupted is returned when a signal stopped the demo; the clean-up
// has run.
var ErrInterrupted = errors.New("interrupted: everything the demo created has been removed")

// cleanupTimeout bounds the whole clean-up.
const cleanupTimeout = 60 * time.Second

// demo is one run: what it created, so the clean-up can remove exactly that.
type demo struct {
	opts   Options
	p      *printer
	r      *runner
	tag    string
	bridge string
	dir    string       // temporary base directory ("" until created)
	govs   *govsDaemon  // nil until started
	iperfd *iperfServer // nil unless running
	hosts  []host       // namespaces created so far
	result Result
	// fail stops the steps with a cause (govs exited under them).
	fail context.CancelCauseFunc
}

// Run runs the demo and always cleans up, also when ctx is cancelled (the
// caller cancels it on Ctrl-C, see WithInterrupt).
func Run(ctx context.Context, opts Options) error {
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	if opts.Hosts == 0 {
		opts.Hosts = 3
	}
	if opts.Hosts < 2 || opts.Hosts > 6 {
		return fmt.Errorf("--hosts %d: want 2 to 6", opts.Hosts)
	}
	if opts.IperfTime <= 0 {
		opts.IperfTime = 3 * time.Second
	}
	if opts.Exe == "" {
		return errors.New("demo: no govs binary")
	}
	p := &printer{w: opts.Out, steps: 7}
	tag := strconv.Itoa(os.Getpid())
	d := &demo{opts: opts, p: p, r: &runner{p: p}, tag: tag, bridge: "gdemo" + tag}

	stepCtx, cancel := context.WithCancelCause(ctx)
	d.fail = cancel
	err := d.steps(stepCtx)
	cancel(nil)
	interrupted := ctx.Err() != nil
	switch {
	case interrupted:
		p.section("Interrupted: cleaning up")
	case err != nil:
		p.section("FAILED")
		p.note("%v", err)
		if d.govs != nil {
			if tail := d.govs.logTail(15); tail != "" {
				p.note("\nThe last lines govs logged:")
				p.output(tail)
			}
		}
	}
	cerr := d.cleanup()
	switch {
	case interrupted:
		return ErrInterrupted
	case err != nil:
		return fmt.Errorf("demo failed at step %d/%d, %q (details above)", p.step, p.steps, p.title)
	case cerr != nil:
		return fmt.Errorf("clean-up: %w", cerr)
	}
	p.section("Done")
	p.note("ping through govs: %s%% packet loss; iperf3 through govs: %s.", d.result.Ping[0].loss, d.result.Iperf.bitrate)
	p.note("Everything the demo created has been removed. To build the same set-up by hand, run the")
	p.note("commands shown after \"$\" above (with OVS_RUNDIR exported as in step 2).")
	return nil
}

// steps runs the numbered steps; it stops at the first error.
func (d *demo) steps(ctx context.Context) error {
	p := d.p
	p.heading("check the machine")
	paths, err := preflight(os.Geteuid(), lookTool)
	if err != nil {
		return err
	}
	d.r.paths = paths
	names := make([]string, 0, len(tools))
	for _, t := range tools {
		names = append(names, t.name)
	}
	p.note("running as root; found %s", strings.Join(names, ", "))
	for _, h := range staleHosts() {
		if err := delHost(ctx, d.r, h); err == nil {
			p.note("removed %s, left behind by an earlier demo that was killed", h.ns)
		}
	}

	p.heading("start govs in its own run directory")
	if d.dir, err = os.MkdirTemp("", "govs-demo-"); err != nil {
		return err
	}
	d.r.env = ovsEnv(d.dir)
	p.note("govs and the OVS tools below share these directories, so ovs-vsctl, ovs-ofctl and")
	p.note("ovs-appctl find this govs with no flags and no other switch is disturbed:")
	for _, kv := range d.r.env[len(d.r.env)-4:] {
		p.note("$ export %s", kv)
	}
	if d.govs, err = startGovs(ctx, d.r, d.opts.Exe, d.dir); err != nil {
		return err
	}
	go func(g *govsDaemon) {
		select {
		case <-g.exited:
			d.fail(fmt.Errorf("govs exited unexpectedly (%v)", g.err))
		case <-ctx.Done():
		}
	}(d.govs)

	p.heading("create a bridge")
	if _, err := d.r.run(ctx, showCmd, "ovs-vsctl", "--timeout=10", "add-br", d.bridge, "--", "set", "bridge", d.bridge, "datapath_type=netdev"); err != nil {
		return err
	}
	p.note("--> bridge %s: with no flows of its own it is a learning switch (OVS's default flow,", d.bridge)
	p.note("    priority=0,actions=NORMAL); govs also gave it an internal port named %s.", d.bridge)

	hosts := makeHosts(d.tag, d.opts.Hosts)
	p.heading(fmt.Sprintf("connect %d hosts (network namespaces) to the bridge", len(hosts)))
	p.note("Each host is a network namespace whose eth0 is one end of a veth pair; the other end is")
	p.note("an afxdp port of the bridge (an XDP program hands its frames to govs through AF_XDP).")
	for _, h := range hosts {
		p.note("\n# %s", h.label)
		if err := addHost(ctx, d.r, d.bridge, h, func() { d.hosts = append(d.hosts, h) }); err != nil {
			return err
		}
	}
	p.note("")
	for _, h := range hosts {
		ofport, err := waitPort(ctx, d.r, h.port)
		if err != nil {
			return err
		}
		p.note("--> %s: namespace %s, eth0 %s/24, bridge port %s (afxdp, ofport %d)", h.label, h.ns, h.ip, h.port, ofport)
	}

	p.heading("ping between the hosts")
	for _, to := range hosts[1:] {
		res, err := ping(ctx, d.r, hosts[0], to)
		if err != nil {
			return err
		}
		d.result.Ping = append(d.result.Ping, res)
	}

	p.heading(fmt.Sprintf("measure TCP throughput with iperf3 (%v)", d.opts.IperfTime))
	if d.iperfd, err = startIperfServer(ctx, d.r, hosts[1]); err != nil {
		return err
	}
	if d.result.Iperf, err = iperf(ctx, d.r, hosts[0], hosts[1], d.opts.IperfTime); err != nil {
		return err
	}
	d.iperfd.stop()
	d.iperfd = nil

	p.heading("look at the switch")
	if _, err := d.r.run(ctx, showOutput, "ovs-vsctl", "show"); err != nil {
		return err
	}
	p.note("The bridge's OpenFlow table, through govs' OpenFlow agent ($OVS_RUNDIR/%s.mgmt):", d.bridge)
	if _, err := d.r.run(ctx, showOutput, "ovs-ofctl", "dump-flows", d.bridge); err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		p.note("    (ovs-ofctl failed; the demo goes on)")
	}
	p.note("Interface statistics (govs writes them to the database every 5 s, as OVS does; the")
	p.note("table shows the first write after the traffic). Same data: ovs-vsctl list Interface")
	is, err := freshStats(ctx, d.r)
	if err != nil {
		return err
	}
	labels := map[string]string{d.bridge: "bridge (internal)"}
	for _, h := range hosts {
		labels[h.port] = h.label
	}
	printStats(p, is, labels)
	p.note("%s's port received what %s sent (rx) and %s's port transmitted it (tx);", hosts[0].label, hosts[0].label, hosts[1].label)
	if len(hosts) > 2 {
		p.note("the other hosts saw only the few frames flooded before the bridge learned the MACs.")
	} else {
		p.note("and the reverse for the TCP acknowledgements.")
	}
	return nil
}

// cleanup removes everything the demo created, in order: the bridge (govs
// detaches its XDP programs), govs and its ovsdb-server, the namespaces and
// veths, the temporary directory. It goes on after errors and returns them
// all.
func (d *demo) cleanup() error {
	if d.dir == "" && len(d.hosts) == 0 {
		return nil // nothing was created
	}
	p := d.p
	p.section("Clean up")
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	var errs []error
	if d.iperfd != nil {
		d.iperfd.stop()
		d.iperfd = nil
		p.note("    stopped the iperf3 server")
	}
	if d.govs != nil {
		select {
		case <-d.govs.exited:
		default:
			if _, err := d.r.run(ctx, showCmd, "ovs-vsctl", "--timeout=5", "--if-exists", "del-br", d.bridge); err != nil {
				errs = append(errs, err)
			}
		}
		if err := d.govs.stop(); err != nil {
			errs = append(errs, err)
		}
		p.note("    stopped govs (pid %d) and its ovsdb-server", d.govs.cmd.Process.Pid)
	}
	for _, h := range d.hosts {
		if err := delHost(ctx, d.r, h); err != nil {
			errs = append(errs, err)
			continue
		}
		p.note("    deleted namespace %s and veth %s", h.ns, h.port)
	}
	if d.dir != "" {
		if err := os.RemoveAll(d.dir); err != nil {
			errs = append(errs, err)
		} else {
			p.note("    removed %s", d.dir)
		}
	}
	if len(errs) > 0 {
		p.note("clean-up problems: %v", errors.Join(errs...))
	}
	return errors.Join(errs...)
}
