package unixctl

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/govs/govs/internal/dpif"
)

// govs top: a live view of ports, PMD load, cache hit rates and the
// busiest megaflows. The daemon answers govs/top-stats with one JSON
// snapshot of plain totals (no state kept for the viewer); the viewer
// polls it over the unixctl socket and shows the rates between two
// snapshots, so any number of viewers cost the switch one snapshot each
// per refresh and nothing on the packet path.

// TopSnapshot is the reply of govs/top-stats.
type TopSnapshot struct {
	Time      int64     `json:"time"` // unix ns
	Megaflows int       `json:"megaflows"`
	Ports     []TopPort `json:"ports"`
	PMDs      []TopPMD  `json:"pmds"`
	Flows     []TopFlow `json:"flows"` // the most used megaflows, by total packets
}

// TopPort is one datapath port's counters.
type TopPort struct {
	Name, Type                               string
	RxPackets, RxBytes, TxPackets, TxBytes   uint64
	RxDropped, TxDropped, RxErrors, TxErrors uint64
}

// TopPMD is one PMD's counters (lifetime, not reset by pmd-stats-clear).
type TopPMD struct {
	PMD, CPU                                         int
	Packets, EMCHits, MegaflowHits, Lookups, Upcalls uint64
	Lost, BusyNs, IdleNs, Drops                      uint64
}

// TopFlow is one megaflow: its dpctl/dump-flows text without statistics
// (which also identifies it from one snapshot to the next) and its total
// packets and bytes.
type TopFlow struct {
	Flow           string
	Packets, Bytes uint64
}

// defaultTopFlows is how many megaflows govs/top-stats returns by default.
const defaultTopFlows = 200

func (c *switchCmds) topStats(call *Call) (string, error) {
	limit := defaultTopFlows
	if len(call.Args) == 1 {
		n, err := strconv.Atoi(call.Args[0])
		if err != nil || n < 0 {
			return "", fmt.Errorf("invalid flow count %q", call.Args[0])
		}
		limit = n
	}
	dp := c.sw.Datapath()
	snap := TopSnapshot{Time: c.now().UnixNano()}
	for _, p := range dp.PortEntries() {
		s, _ := dp.PortStats(p.No) // with what the kernel forwarded (hw-offload)
		snap.Ports = append(snap.Ports, TopPort{Name: p.Dev.Name(), Type: p.Dev.Type(),
			RxPackets: s.RxPackets, RxBytes: s.RxBytes, TxPackets: s.TxPackets, TxBytes: s.TxBytes,
			RxDropped: s.RxDropped, TxDropped: s.TxDropped, RxErrors: s.RxErrors, TxErrors: s.TxErrors})
	}
	for _, p := range dp.PMDCounters() {
		if p.PMD == dpif.NonPMD {
			continue
		}
		snap.PMDs = append(snap.PMDs, TopPMD{PMD: p.PMD, CPU: p.CPU, Packets: p.Packets, EMCHits: p.EMCHits,
			MegaflowHits: p.MegaflowHits, Lookups: p.SubtableLookups, Upcalls: p.Upcalls, Lost: p.Lost,
			BusyNs: p.BusyNs, IdleNs: p.IdleNs,
			Drops: p.DropNoPort + p.DropPoolEmpty + p.DropAction + p.DropMeter + p.DropUnsupported +
				p.DropTxFailed + p.DropNoActions + p.DropUpcallLost})
	}
	flows := dp.FlowDump()
	snap.Megaflows = len(flows)
	slices.SortStableFunc(flows, func(a, b dpif.FlowInfo) int {
		switch {
		case a.Packets > b.Packets:
			return -1
		case a.Packets < b.Packets:
			return 1
		}
		return 0
	})
	names := c.portNamer()
	for i := range flows[:min(limit, len(flows))] {
		f := &flows[i]
		var b strings.Builder
		formatODPKey(&b, &f.Key, &f.Mask, f.InPort, odpFormat{portName: names})
		b.WriteString(", actions:")
		b.WriteString(nameOutputs(f.Actions.String(), names))
		snap.Flows = append(snap.Flows, TopFlow{Flow: b.String(), Packets: f.Packets, Bytes: f.Bytes})
	}
	out, err := json.Marshal(&snap)
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// TopOptions configure RunTop.
type TopOptions struct {
	Interval   time.Duration // between refreshes (default 1 s)
	Iterations int           // frames to show; 0: until ctx is done
	Flows      int           // busiest megaflows shown (default 10)
	Width      int           // columns (default 120)
	// Clear redraws in place (a terminal); otherwise frames follow one
	// another (a pipe, a log).
	Clear bool
}

// RunTop shows the live view on w until ctx is done or Iterations frames
// were shown. The first frame comes after one interval: rates need two
// snapshots.
func RunTop(ctx context.Context, c *Client, w io.Writer, o TopOptions) error {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Flows <= 0 {
		o.Flows = 10
	}
	if o.Width <= 0 {
		o.Width = 120
	}
	prev, err := topSnapshot(c)
	if err != nil {
		return err
	}
	t := time.NewTicker(o.Interval)
	defer t.Stop()
	for n := 0; o.Iterations == 0 || n < o.Iterations; n++ {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		cur, err := topSnapshot(c)
		if err != nil {
			return err
		}
		frame := renderTop(prev, cur, o)
		if o.Clear {
			frame = "\x1b[H\x1b[2J" + frame
		} else if n > 0 {
			frame = "\n" + frame
		}
		if _, err := io.WriteString(w, frame); err != nil {
			return err
		}
		prev = cur
	}
	return nil
}

func topSnapshot(c *Client) (*TopSnapshot, error) {
	out, err := c.Call("govs/top-stats", strconv.Itoa(defaultTopFlows))
	if err != nil {
		return nil, err
	}
	var s TopSnapshot
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		return nil, fmt.Errorf("govs/top-stats: %w", err)
	}
	return &s, nil
}

// delta is cur-prev as a per-second rate (0 when a counter went back: a
// port or PMD was recreated).
func rate(cur, prev uint64, secs float64) float64 {
	if cur < prev || secs <= 0 {
		return 0
	}
	return float64(cur-prev) / secs
}

// renderTop draws one frame from two snapshots.
func renderTop(prev, cur *TopSnapshot, o TopOptions) string {
	secs := float64(cur.Time-prev.Time) / 1e9
	var b strings.Builder
	fmt.Fprintf(&b, "govs top  %s  interval %.1fs  megaflows %d\n\n",
		time.Unix(0, cur.Time).Format("15:04:05"), secs, cur.Megaflows)

	fmt.Fprintf(&b, "%-16s %-14s %12s %10s %12s %10s %10s\n", "PORT", "TYPE", "RX pkt/s", "RX Mbit/s", "TX pkt/s", "TX Mbit/s", "drop/s")
	old := map[string]TopPort{}
	for _, p := range prev.Ports {
		old[p.Name] = p
	}
	for _, p := range cur.Ports {
		q := old[p.Name]
		drops := rate(p.RxDropped+p.TxDropped+p.RxErrors+p.TxErrors, q.RxDropped+q.TxDropped+q.RxErrors+q.TxErrors, secs)
		fmt.Fprintf(&b, "%-16s %-14s %12.0f %10.2f %12.0f %10.2f %10.0f\n", clip(p.Name, 16), clip(p.Type, 14),
			rate(p.RxPackets, q.RxPackets, secs), rate(p.RxBytes, q.RxBytes, secs)*8/1e6,
			rate(p.TxPackets, q.TxPackets, secs), rate(p.TxBytes, q.TxBytes, secs)*8/1e6, drops)
	}

	fmt.Fprintf(&b, "\n%-4s %4s %6s %12s %6s %9s %7s %9s %8s\n", "PMD", "CPU", "busy%", "pkt/s", "EMC%", "megaflow%", "upcall%", "lookups", "drop/s")
	oldPMD := map[int]TopPMD{}
	for _, p := range prev.PMDs {
		oldPMD[p.PMD] = p
	}
	for _, p := range cur.PMDs {
		q := oldPMD[p.PMD]
		if p.Packets < q.Packets { // a new PMD with the same index
			q = TopPMD{}
		}
		pkts := p.Packets - q.Packets
		busy, idle := p.BusyNs-q.BusyNs, p.IdleNs-q.IdleNs
		lookups := 0.0
		if hits := p.MegaflowHits - q.MegaflowHits; hits > 0 {
			lookups = float64(p.Lookups-q.Lookups) / float64(hits)
		}
		cpu := strconv.Itoa(p.CPU)
		if p.CPU < 0 {
			cpu = "-"
		}
		fmt.Fprintf(&b, "%-4d %4s %6.1f %12.0f %6.1f %9.1f %7.1f %9.2f %8.0f\n", p.PMD, cpu, pct(busy, busy+idle),
			float64(pkts)/max(secs, 1e-9), pct(p.EMCHits-q.EMCHits, pkts), pct(p.MegaflowHits-q.MegaflowHits, pkts),
			pct(p.Upcalls-q.Upcalls, pkts), lookups, rate(p.Drops, q.Drops, secs))
	}

	type busy struct {
		flow string
		pps  float64
		mbps float64
	}
	oldFlow := map[string]TopFlow{}
	for _, f := range prev.Flows {
		oldFlow[f.Flow] = f
	}
	var flows []busy
	for _, f := range cur.Flows {
		q, ok := oldFlow[f.Flow]
		if !ok {
			q = TopFlow{} // new megaflow: all its packets are recent
		}
		if pps := rate(f.Packets, q.Packets, secs); pps > 0 {
			flows = append(flows, busy{f.Flow, pps, rate(f.Bytes, q.Bytes, secs) * 8 / 1e6})
		}
	}
	slices.SortStableFunc(flows, func(x, y busy) int {
		switch {
		case x.pps > y.pps:
			return -1
		case x.pps < y.pps:
			return 1
		}
		return 0
	})
	fmt.Fprintf(&b, "\n%12s %10s  %s\n", "pkt/s", "Mbit/s", "BUSIEST MEGAFLOWS")
	for _, f := range flows[:min(o.Flows, len(flows))] {
		fmt.Fprintf(&b, "%12.0f %10.2f  %s\n", f.pps, f.mbps, clip(f.flow, o.Width-25))
	}
	if len(flows) == 0 {
		b.WriteString("             (no megaflow forwarded packets in this interval)\n")
	}
	return b.String()
}

// clip shortens s to n columns, marking the cut.
func clip(s string, n int) string {
	if n < 4 {
		n = 4
	}
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
