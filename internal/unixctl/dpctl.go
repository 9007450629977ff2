package unixctl

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/govs/govs/internal/dpif"
	"github.com/govs/govs/internal/flow"
)

// dpctl/*: the datapath's ports and megaflows, as OVS's lib/dpctl.c prints
// them. dpctl/dump-flows prints no "flow-dump from pmd ..." header: govs'
// megaflows are one table shared by all PMDs, so the output is one flow
// per line, as OVS prints for its kernel datapath.

func (c *switchCmds) dpctlShow(call *Call) (string, error) {
	stats := false
	for _, a := range call.Args {
		switch {
		case a == "-s" || a == "--statistics":
			stats = true
		case strings.HasPrefix(a, "-"):
			return "", ovsErrorf("Unrecognized option %s", a)
		case !checkDP(a):
			return "", fmt.Errorf("ovs-vswitchd: opening datapath %s failed (No such file or directory)", a)
		}
	}
	dp := c.sw.Datapath()
	var hit, missed, lost uint64
	for _, p := range dp.PMDStats() {
		hit += p.EMCHits + p.MegaflowHits
		missed += p.Upcalls
		lost += p.Lost
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n", dpFullName)
	fmt.Fprintf(&b, "  lookups: hit:%d missed:%d lost:%d\n", hit, missed, lost)
	fmt.Fprintf(&b, "  flows: %d\n", dp.NumFlows())
	for _, p := range dp.PortEntries() {
		fmt.Fprintf(&b, "  port %d: %s", p.No, p.Dev.Name())
		if t := p.Dev.Type(); t != "" && t != "system" {
			fmt.Fprintf(&b, " (%s)", t)
		}
		b.WriteString("\n")
		if !stats {
			continue
		}
		s, _ := dp.PortStats(p.No) // with what the kernel forwarded (hw-offload)
		fmt.Fprintf(&b, "    RX packets:%d errors:%d dropped:%d overruns:0 frame:0\n", s.RxPackets, s.RxErrors, s.RxDropped)
		fmt.Fprintf(&b, "    TX packets:%d errors:%d dropped:%d aborted:0 carrier:0\n", s.TxPackets, s.TxErrors, s.TxDropped)
		b.WriteString("    collisions:0\n")
		fmt.Fprintf(&b, "    RX bytes:%d%s  TX bytes:%d%s\n", s.RxBytes, humanSize(s.RxBytes), s.TxBytes, humanSize(s.TxBytes))
	}
	return b.String(), nil
}

// humanSize is OVS's print_human_size: " (1.4 KiB)" from 1 KiB up.
func humanSize(v uint64) string {
	const k = 1024.0
	switch f := float64(v); {
	case f >= k*k*k*k:
		return fmt.Sprintf(" (%.1f TiB)", f/(k*k*k*k))
	case f >= k*k*k:
		return fmt.Sprintf(" (%.1f GiB)", f/(k*k*k))
	case f >= k*k:
		return fmt.Sprintf(" (%.1f MiB)", f/(k*k))
	case f >= k:
		return fmt.Sprintf(" (%.1f KiB)", f/k)
	}
	return ""
}

// dumpFlowsArgs are dpctl/dump-flows' options.
type dumpFlowsArgs struct {
	verbose, names bool
	filter         *flow.Key // nil: none
	filterMask     flow.Mask
	// types is the type= filter: offloaded (kernel forwards, OVS's
	// "tc") and not (OVS's "ovs"); nil: both.
	types map[bool]bool
}

func parseDumpFlowsArgs(args []string) (dumpFlowsArgs, error) {
	var a dumpFlowsArgs
	dpSeen := false
	for _, arg := range args {
		name, val, hasVal := strings.Cut(arg, "=")
		switch {
		case arg == "-m" || arg == "--more":
			a.verbose = true
		case arg == "--names":
			a.names = true
		case arg == "--no-names":
			a.names = false
		case strings.HasPrefix(arg, "-"):
			return a, ovsErrorf("Unrecognized option %s", arg)
		case hasVal && name == "filter":
			k, m, err := flow.ParseMatch(val)
			if err != nil {
				return a, ovsErrorf("Failed to parse filter (%v)", err)
			}
			a.filter, a.filterMask = &k, m
		case hasVal && name == "type":
			a.types = map[bool]bool{}
			for _, t := range strings.Split(val, ",") {
				switch t {
				case "all":
					a.types[false], a.types[true] = true, true
				case "ovs", "non-offloaded":
					a.types[false] = true
				case "tc", "offloaded":
					a.types[true] = true
				case "dpdk", "partially-offloaded":
					// govs has neither.
				default:
					return a, ovsErrorf("Failed to parse type (%s)", val)
				}
			}
		case hasVal && name == "pmd":
			// Megaflows are shared by every PMD: any PMD shows them all.
			if _, err := strconv.Atoi(val); err != nil {
				return a, fmt.Errorf("invalid pmd %q", val)
			}
		case !hasVal && !dpSeen:
			if !checkDP(arg) {
				return a, errors.New("ovs-vswitchd: datapath not found (Invalid argument)")
			}
			dpSeen = true
		default:
			return a, fmt.Errorf("unknown argument %q", arg)
		}
	}
	return a, nil
}

// matches reports whether megaflow f matches the filter.
func (a *dumpFlowsArgs) matches(f *dpif.FlowInfo) bool {
	if a.types != nil && !a.types[f.Offloaded] {
		return false
	}
	if a.filter == nil {
		return true
	}
	k := f.Key
	k.InPort = f.InPort
	kw, fw, mw := k.Words(), a.filter.Words(), a.filterMask.Words()
	for i := range kw {
		if kw[i]&mw[i] != fw[i] {
			return false
		}
	}
	return true
}

func (c *switchCmds) dpctlDumpFlows(call *Call) (string, error) {
	a, err := parseDumpFlowsArgs(call.Args)
	if err != nil {
		return "", err
	}
	o := odpFormat{verbose: a.verbose, now: c.now()}
	if a.names {
		o.portName = c.portNamer()
	}
	var b strings.Builder
	for _, f := range c.sw.Datapath().FlowDump() {
		if !a.matches(&f) {
			continue
		}
		b.WriteString(formatODPFlow(&f, o))
		b.WriteString("\n")
	}
	return b.String(), nil
}

func (c *switchCmds) dpctlDelFlows(call *Call) (string, error) {
	if len(call.Args) == 1 && !checkDP(call.Args[0]) {
		return "", errors.New("ovs-vswitchd: datapath not found (Invalid argument)")
	}
	c.sw.Datapath().DelFlows()
	return "", nil
}
