package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// statsWait bounds the wait for govs' next statistics write-back (every
// 5 s, as OVS's stats-update-interval).
const statsWait = 6500 * time.Millisecond

// row is one record of `ovs-vsctl --format=json list/find`, column name to
// value in OVSDB's JSON notation (RFC 7047 §5.1).
type row map[string]any

// parseTable decodes `ovs-vsctl --format=json` output.
func parseTable(out string) ([]row, error) {
	var t struct {
		Headings []string `json:"headings"`
		Data     [][]any  `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &t); err != nil {
		return nil, fmt.Errorf("ovs-vsctl json: %w", err)
	}
	rows := make([]row, 0, len(t.Data))
	for _, d := range t.Data {
		r := row{}
		for i, h := range t.Headings {
			if i < len(d) {
				r[h] = d[i]
			}
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// str returns a string column; an empty set (an unset optional column) is "".
func (r row) str(col string) string {
	if s, ok := r[col].(string); ok {
		return s
	}
	return ""
}

// int returns an integer column, 0 if unset.
func (r row) int(col string) int {
	if f, ok := r[col].(float64); ok {
		return int(f)
	}
	return 0
}

// dict returns a map column (["map", [[k, v], ...]]) with values as text.
func (r row) dict(col string) map[string]string {
	m := map[string]string{}
	a, ok := r[col].([]any)
	if !ok || len(a) != 2 || a[0] != "map" {
		return m
	}
	pairs, _ := a[1].([]any)
	for _, p := range pairs {
		kv, ok := p.([]any)
		if !ok || len(kv) != 2 {
			continue
		}
		k, _ := kv[0].(string)
		switch v := kv[1].(type) {
		case string:
			m[k] = v
		case float64:
			m[k] = fmt.Sprintf("%.0f", v)
		default:
			m[k] = fmt.Sprint(v)
		}
	}
	return m
}

// ifaceStats are the Interface rows the statistics table shows.
type ifaceStats struct {
	name, typ, xdpMode string
	ofport             int
	stats              map[string]string
}

func listInterfaces(ctx context.Context, r *runner) ([]ifaceStats, error) {
	out, err := r.run(ctx, quiet, "ovs-vsctl", "--timeout=5", "--format=json",
		"--columns=name,ofport,type,status,statistics", "list", "Interface")
	if err != nil {
		return nil, err
	}
	rows, err := parseTable(out)
	if err != nil {
		return nil, err
	}
	var is []ifaceStats
	for _, rw := range rows {
		typ := rw.str("type")
		if typ == "" {
			typ = "system"
		}
		is = append(is, ifaceStats{
			name: rw.str("name"), typ: typ, ofport: rw.int("ofport"),
			xdpMode: rw.dict("status")["xdp-mode"], stats: rw.dict("statistics"),
		})
	}
	slices.SortFunc(is, func(a, b ifaceStats) int { return a.ofport - b.ofport })
	return is, nil
}

// statsKey is a fingerprint of every Interface's statistics, to notice
// govs' next write-back.
func statsKey(is []ifaceStats) string {
	var b strings.Builder
	for _, i := range is {
		b.WriteString(i.name)
		for _, k := range slices.Sorted(maps.Keys(i.stats)) {
			b.WriteString(" " + k + "=" + i.stats[k])
		}
		b.WriteByte(';')
	}
	return b.String()
}

// freshStats returns the Interface statistics once they cover traffic that
// ended before the call: the first write-back that differs from what the
// database holds now, or, if none comes within statsWait (one full
// interval), what it holds now, which then was already written after the
// traffic.
func freshStats(ctx context.Context, r *runner) ([]ifaceStats, error) {
	first, err := listInterfaces(ctx, r)
	if err != nil {
		return nil, err
	}
	key := statsKey(first)
	latest := first
	err = waitFor(ctx, statsWait, "statistics", func() (bool, error) {
		is, err := listInterfaces(ctx, r)
		if err != nil {
			return false, nil
		}
		latest = is
		return statsKey(is) != key, nil
	})
	if err != nil && ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	return latest, nil
}

// printStats writes the statistics table, one line per Interface.
func printStats(p *printer, is []ifaceStats, labels map[string]string) {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "interface\tconnects\tofport\ttype\trx_packets\trx_bytes\ttx_packets\ttx_bytes\tdropped\terrors\t")
	for _, i := range is {
		typ := i.typ
		if i.xdpMode != "" {
			typ += " (" + i.xdpMode + ")"
		}
		who := labels[i.name]
		if who == "" {
			who = "-"
		}
		s := i.stats
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t\n", i.name, who, i.ofport, typ,
			s["rx_packets"], humanBytes(s["rx_bytes"]), s["tx_packets"], humanBytes(s["tx_bytes"]),
			num(s["rx_dropped"])+num(s["tx_dropped"]), num(s["rx_errors"])+num(s["tx_errors"]))
	}
	tw.Flush()
	p.output(b.String())
}

func num(s string) int64 {
	var n int64
	fmt.Sscan(s, &n)
	return n
}

// humanBytes renders a byte count as "123.4 MB" (decimal units, as iperf3's
// bitrates are).
func humanBytes(s string) string {
	n := float64(num(s))
	for _, u := range []string{"B", "kB", "MB", "GB"} {
		if n < 1000 || u == "GB" {
			if u == "B" {
				return fmt.Sprintf("%.0f B", n)
			}
			return fmt.Sprintf("%.1f %s", n, u)
		}
		n /= 1000
	}
	return s
}
