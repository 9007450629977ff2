package unixctl

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/govs/govs/internal/dpif"
)

// dpif-netdev/*: PMD statistics and rx queue placement, in the layout of
// OVS's lib/dpif-netdev.c. Departures:
//
//   - govs measures PMD time in nanoseconds, not TSC cycles: the "cycles"
//     figures of pmd-stats-show are nanoseconds (the percentages are the
//     same either way);
//   - counters govs does not have (recirculations, SMC, PHWOL, MFEX,
//     simple match, output batches) print as 0;
//   - pmd-rxq-show has no per-queue usage (NOT AVAIL), as OVS shows before
//     its first measurement interval;
//   - an unpinned PMD (tests) shows core_id -1.

// pmdArgs are the options shared by the dpif-netdev/* commands.
type pmdArgs struct {
	core    int // -1: all
	hasCore bool
	secs    int
}

// parsePMDArgs reads [-pmd core] [-secs secs] [dp].
func parsePMDArgs(args []string, secsOK bool) (pmdArgs, error) {
	a := pmdArgs{core: -1, secs: 60}
	for i := 0; i < len(args); i++ {
		switch arg := args[i]; {
		case arg == "-pmd" && i+1 < len(args):
			n, err := strconv.Atoi(args[i+1])
			if err != nil || n < 0 {
				return a, fmt.Errorf("invalid core id %q", args[i+1])
			}
			a.core, a.hasCore = n, true
			i++
		case arg == "-secs" && secsOK && i+1 < len(args):
			n, err := strconv.Atoi(args[i+1])
			if err != nil || n <= 0 {
				return a, fmt.Errorf("invalid number of seconds %q", args[i+1])
			}
			a.secs = n
			i++
		case i == len(args)-1 && !strings.HasPrefix(arg, "-"):
			if !checkDP(arg) {
				return a, errors.New("please specify an existing datapath")
			}
		default:
			return a, errors.New("please specify an existing datapath")
		}
	}
	return a, nil
}

func (a pmdArgs) wants(p *dpif.PMDStats) bool {
	return !a.hasCore || (p.PMD != dpif.NonPMD && p.CPU == a.core)
}

// numaNode returns the NUMA node of cpu (0 when unknown).
func numaNode(cpu int) int {
	if cpu < 0 {
		return 0
	}
	ents, err := os.ReadDir(fmt.Sprintf("/sys/devices/system/cpu/cpu%d", cpu))
	if err != nil {
		return 0
	}
	for _, e := range ents {
		if n, ok := strings.CutPrefix(e.Name(), "node"); ok {
			if v, err := strconv.Atoi(n); err == nil {
				return v
			}
		}
	}
	return 0
}

func pmdHeader(p *dpif.PMDStats) string {
	if p.PMD == dpif.NonPMD {
		return "main thread:\n"
	}
	return fmt.Sprintf("pmd thread numa_id %d core_id %d:\n", numaNode(p.CPU), p.CPU)
}

func pct(part, total uint64) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(part) / float64(total)
}

func ratio(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// successUpcalls are the misses the slow path answered.
func successUpcalls(p *dpif.PMDStats) uint64 {
	if p.Lost > p.Upcalls {
		return 0
	}
	return p.Upcalls - p.Lost
}

// formatPMDStats writes one PMD's block of pmd-stats-show.
func formatPMDStats(b *strings.Builder, p *dpif.PMDStats) {
	b.WriteString(pmdHeader(p))
	passes := 0.0
	if p.Packets > 0 {
		passes = 1
	}
	fmt.Fprintf(b, "  packets received: %d\n", p.Packets)
	fmt.Fprintf(b, "  packet recirculations: 0\n")
	fmt.Fprintf(b, "  avg. datapath passes per packet: %.02f\n", passes)
	fmt.Fprintf(b, "  phwol hits: 0\n")
	fmt.Fprintf(b, "  mfex opt hits: 0\n")
	fmt.Fprintf(b, "  simple match hits: 0\n")
	fmt.Fprintf(b, "  emc hits: %d\n", p.EMCHits)
	fmt.Fprintf(b, "  smc hits: 0\n")
	fmt.Fprintf(b, "  megaflow hits: %d\n", p.MegaflowHits)
	fmt.Fprintf(b, "  avg. subtable lookups per megaflow hit: %.02f\n", p.LookupsPerHit)
	fmt.Fprintf(b, "  miss with success upcall: %d\n", successUpcalls(p))
	fmt.Fprintf(b, "  miss with failed upcall: %d\n", p.Lost)
	fmt.Fprintf(b, "  avg. packets per output batch: %.02f\n", ratio(p.TxPackets, p.TxBatches))
	total := p.BusyNs + p.IdleNs
	if total == 0 {
		return
	}
	fmt.Fprintf(b, "  idle cycles: %d (%.02f%%)\n", p.IdleNs, pct(p.IdleNs, total))
	fmt.Fprintf(b, "  processing cycles: %d (%.02f%%)\n", p.BusyNs, pct(p.BusyNs, total))
	if p.Packets == 0 {
		return
	}
	fmt.Fprintf(b, "  avg cycles per packet: %.02f (%d/%d)\n", ratio(total, p.Packets), total, p.Packets)
	fmt.Fprintf(b, "  avg processing cycles per packet: %.02f (%d/%d)\n", ratio(p.BusyNs, p.Packets), p.BusyNs, p.Packets)
}

func (c *switchCmds) pmdStatsShow(call *Call) (string, error) {
	a, err := parsePMDArgs(call.Args, false)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	stats := c.sw.Datapath().PMDStats()
	for i := range stats {
		if a.wants(&stats[i]) {
			formatPMDStats(&b, &stats[i])
		}
	}
	return b.String(), nil
}

func (c *switchCmds) pmdStatsClear(call *Call) (string, error) {
	if _, err := parsePMDArgs(call.Args, false); err != nil {
		return "", err
	}
	// The datapath clears every PMD at once; -pmd is accepted for
	// compatibility and clears them all.
	c.sw.Datapath().ClearPMDStats()
	c.mu.Lock()
	c.cleared = c.now()
	c.mu.Unlock()
	return "", nil
}

// pmdPerfShow writes OVS's pmd-perf-show overview for each PMD, measured
// since the last pmd-stats-clear (or start).
func (c *switchCmds) pmdPerfShow(call *Call) (string, error) {
	a, err := parsePMDArgs(call.Args, false)
	if err != nil {
		return "", err
	}
	now := c.now()
	c.mu.Lock()
	dur := now.Sub(c.cleared).Seconds()
	c.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "\nTime: %s\nMeasurement duration: %.3f s\n\n", now.Format("15:04:05.000"), dur)
	for _, p := range c.sw.Datapath().PMDStats() {
		if p.PMD == dpif.NonPMD || !a.wants(&p) {
			continue
		}
		b.WriteString(pmdHeader(&p))
		b.WriteString("\n")
		total := p.BusyNs + p.IdleNs
		fmt.Fprintf(&b, "  %-19s%12d  (%.2f us/it)\n", "Iterations:", p.Iterations, ratio(total, p.Iterations)/1e3)
		fmt.Fprintf(&b, "  %-19s%12d  (%5.1f %% of measured time)\n", "- Used ns:", total, pct(total, uint64(dur*1e9)))
		fmt.Fprintf(&b, "  %-19s%12d  (%5.1f %% of used ns)\n", "- idle ns:", p.IdleNs, pct(p.IdleNs, total))
		fmt.Fprintf(&b, "  %-19s%12d  (%5.1f %% of used ns)\n", "- busy ns:", p.BusyNs, pct(p.BusyNs, total))
		kpps := 0.0
		if dur > 0 {
			kpps = float64(p.Packets) / dur / 1e3
		}
		fmt.Fprintf(&b, "  %-19s%12d  (%.0f Kpps, %.0f ns/pkt)\n", "Rx packets:", p.Packets, kpps, ratio(p.BusyNs, p.Packets))
		passes := 0.0
		if p.Packets > 0 {
			passes = 1
		}
		fmt.Fprintf(&b, "  %-19s%12d  (%.2f passes/pkt)\n", "Datapath passes:", p.Packets, passes)
		fmt.Fprintf(&b, "  %-19s%12d  (%5.1f %%)\n", "- EMC hits:", p.EMCHits, pct(p.EMCHits, p.Packets))
		fmt.Fprintf(&b, "  %-19s%12d  (%5.1f %%)\n", "- SMC hits:", 0, 0.0)
		fmt.Fprintf(&b, "  %-19s%12d  (%5.1f %%, %.2f subtbl lookups/hit)\n", "- Megaflow hits:", p.MegaflowHits, pct(p.MegaflowHits, p.Packets), p.LookupsPerHit)
		fmt.Fprintf(&b, "  %-19s%12d  (%5.1f %%)\n", "- Upcalls:", p.Upcalls, pct(p.Upcalls, p.Packets))
		fmt.Fprintf(&b, "  %-19s%12d  (%5.1f %%)\n", "- Lost upcalls:", p.Lost, pct(p.Lost, p.Packets))
		drops := p.DropNoPort + p.DropPoolEmpty + p.DropAction + p.DropMeter + p.DropUnsupported +
			p.DropTxFailed + p.DropNoActions + p.DropUpcallLost
		fmt.Fprintf(&b, "  %-19s%12d  (%5.1f %%)\n", "Dropped packets:", drops, pct(drops, p.Packets))
		b.WriteString("\n")
	}
	return b.String(), nil
}

// pmdRxqShow writes which PMD polls which rx queue.
func (c *switchCmds) pmdRxqShow(call *Call) (string, error) {
	a, err := parsePMDArgs(call.Args, true)
	if err != nil {
		return "", err
	}
	dp := c.sw.Datapath()
	rxqs := dp.RxqAssignment()
	var b strings.Builder
	fmt.Fprintf(&b, "Displaying last %d seconds pmd usage %%\n", a.secs)
	for _, p := range dp.PMDStats() {
		if p.PMD == dpif.NonPMD || !a.wants(&p) {
			continue
		}
		isolated := false
		for _, q := range rxqs {
			if q.PMD == p.PMD && q.Pinned {
				isolated = true
			}
		}
		b.WriteString(pmdHeader(&p))
		fmt.Fprintf(&b, "  isolated : %t\n", isolated)
		for _, q := range rxqs {
			if q.PMD != p.PMD {
				continue
			}
			fmt.Fprintf(&b, "  port: %-16s  queue-id: %2d %s  pmd usage: NOT AVAIL\n", q.PortName, q.Queue, "(enabled) ")
		}
		b.WriteString("  overhead: NOT AVAIL\n")
	}
	return b.String(), nil
}

func (c *switchCmds) pmdRxqRebalance(call *Call) (string, error) {
	if len(call.Args) == 1 && !checkDP(call.Args[0]) {
		return "", errors.New("please specify an existing datapath")
	}
	c.sw.Datapath().RebalanceRxqs()
	return "pmd rxq rebalance requested.\n", nil
}

// pmdSleepShow prints the sleep bound of idle PMDs (other_config:
// pmd-sleep-max), in the layout of OVS 3.3, where every PMD has the
// default's value.
func (c *switchCmds) pmdSleepShow(call *Call) (string, error) {
	if len(call.Args) == 1 && !checkDP(call.Args[0]) {
		return "", errors.New("please specify an existing datapath")
	}
	dp := c.sw.Datapath()
	us := dp.CurrentTunables().PMDSleepMax.Microseconds()
	var b strings.Builder
	fmt.Fprintf(&b, "Default max sleep: %4d us\n", us)
	for _, p := range dp.PMDStats() {
		if p.PMD == dpif.NonPMD {
			continue
		}
		fmt.Fprintf(&b, "pmd thread numa_id 0 core_id %d:\n  max sleep: %4d us\n", p.CPU, us)
	}
	return b.String(), nil
}
