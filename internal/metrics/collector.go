package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/govs/govs/internal/dpif"
	"github.com/govs/govs/internal/ofproto"
	"github.com/govs/govs/internal/vhost"
)

// Source is what the collector reads; *bridge.Switch implements it.
type Source interface {
	Ofproto() *ofproto.Ofproto
	Datapath() *dpif.Datapath
	Bridges() []string
	Bridge(name string) *ofproto.Bridge
}

const namespace = "govs"

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(namespace+"_"+name, help, labels, nil)
}

var (
	portLabels = []string{"bridge", "port"}
	pmdLabels  = []string{"pmd", "cpu"}
)

// Port counters, as the port type counts them (OVSDB Interface.statistics).
var (
	portRxPackets = desc("port_rx_packets_total", "Packets received on the port.", portLabels...)
	portRxBytes   = desc("port_rx_bytes_total", "Bytes received on the port.", portLabels...)
	portRxDropped = desc("port_rx_dropped_total", "Packets dropped on receive.", portLabels...)
	portRxErrors  = desc("port_rx_errors_total", "Receive errors.", portLabels...)
	portTxPackets = desc("port_tx_packets_total", "Packets transmitted on the port.", portLabels...)
	portTxBytes   = desc("port_tx_bytes_total", "Bytes transmitted on the port.", portLabels...)
	portTxDropped = desc("port_tx_dropped_total", "Packets dropped on transmit.", portLabels...)
	portTxErrors  = desc("port_tx_errors_total", "Transmit errors.", portLabels...)
)

// PMD counters (pmd="main" is the non-PMD path: packet-outs and PMDs that
// a pmd-cpu-mask change retired).
var (
	pmdPackets       = desc("pmd_packets_total", "Packets received by the PMD.", pmdLabels...)
	pmdEMCHits       = desc("pmd_emc_hits_total", "Exact-match cache hits.", pmdLabels...)
	pmdMegaflowHits  = desc("pmd_megaflow_hits_total", "Megaflow classifier (dpcls) hits.", pmdLabels...)
	pmdLookups       = desc("pmd_subtable_lookups_total", "Subtables searched for the megaflow hits.", pmdLabels...)
	pmdLookupsPerHit = desc("pmd_subtable_lookups_per_hit", "Average subtables searched per megaflow hit since the PMD started.", pmdLabels...)
	pmdUpcalls       = desc("pmd_upcalls_total", "Misses sent to the slow path (OpenFlow translation).", pmdLabels...)
	pmdLost          = desc("pmd_lost_upcalls_total", "Misses the slow path failed.", pmdLabels...)
	pmdIterations    = desc("pmd_iterations_total", "Poll loop iterations.", pmdLabels...)
	pmdBusy          = desc("pmd_busy_seconds_total", "Time the PMD spent on iterations that found packets.", pmdLabels...)
	pmdIdle          = desc("pmd_idle_seconds_total", "Time the PMD spent on iterations that found none.", pmdLabels...)
	pmdDrops         = desc("pmd_drops_total", "Packets the datapath dropped, by reason.", append(pmdLabels, "reason")...)
)

// Table sizes.
var (
	megaflows  = desc("datapath_megaflows", "Installed megaflows.")
	flowLimit  = desc("datapath_flow_limit", "Megaflow limit (other_config:flow-limit).")
	dpPorts    = desc("datapath_ports", "Datapath ports.")
	rules      = desc("bridge_rules", "OpenFlow rules in the bridge's tables.", "bridge")
	macEntries = desc("bridge_mac_entries", "MAC addresses learned by NORMAL.", "bridge")
)

// The revalidator and vhost-user rings.
var (
	revalDuration = desc("revalidator_duration_seconds", "Duration of revalidation rounds (periodic, and after OpenFlow or port changes).")
	revalLast     = desc("revalidator_last_duration_seconds", "Duration of the last revalidation round.")
	vhostRingSize = desc("vhost_ring_size", "Entries in a vhost-user virtqueue.", vhostLabels...)
	vhostRingFill = desc("vhost_ring_fill", "Entries the guest made available in a vhost-user virtqueue that the switch has not used yet, sampled at scrape time: for direction rx, packets waiting to be received; for tx, buffers left for packets to the guest.", vhostLabels...)
)

var vhostLabels = []string{"bridge", "port", "queue", "direction"}

// ringFiller is a port with virtqueues (vhostuser.Port).
type ringFiller interface{ RingFill() []vhost.RingFill }

// Collector is a prometheus.Collector over a running switch. It reads the
// datapath's per-PMD plain integers and the ports' counters when scraped;
// nothing is counted on the packet path for it.
type Collector struct {
	src Source
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a collector for src.
func NewCollector(src Source) *Collector { return &Collector{src: src} }

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		portRxPackets, portRxBytes, portRxDropped, portRxErrors,
		portTxPackets, portTxBytes, portTxDropped, portTxErrors,
		pmdPackets, pmdEMCHits, pmdMegaflowHits, pmdLookups, pmdLookupsPerHit, pmdUpcalls, pmdLost,
		pmdIterations, pmdBusy, pmdIdle, pmdDrops,
		megaflows, flowLimit, dpPorts, rules, macEntries,
		revalDuration, revalLast, vhostRingSize, vhostRingFill,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	dp := c.src.Datapath()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}

	for _, br := range c.src.Bridges() {
		b := c.src.Bridge(br)
		if b == nil {
			continue
		}
		for _, p := range b.Ports() {
			if p.ODPPort == ofproto.NoODPPort {
				continue // patch ports have no datapath port
			}
			s, err := dp.PortStats(p.ODPPort)
			if err != nil {
				continue
			}
			counter(portRxPackets, s.RxPackets, br, p.Name)
			counter(portRxBytes, s.RxBytes, br, p.Name)
			counter(portRxDropped, s.RxDropped, br, p.Name)
			counter(portRxErrors, s.RxErrors, br, p.Name)
			counter(portTxPackets, s.TxPackets, br, p.Name)
			counter(portTxBytes, s.TxBytes, br, p.Name)
			counter(portTxDropped, s.TxDropped, br, p.Name)
			counter(portTxErrors, s.TxErrors, br, p.Name)
			if rf, ok := dp.PortDev(p.ODPPort).(ringFiller); ok {
				for _, r := range rf.RingFill() {
					q := strconv.Itoa(r.Queue)
					gauge(vhostRingSize, float64(r.Size), br, p.Name, q, r.Dir)
					gauge(vhostRingFill, float64(r.Fill), br, p.Name, q, r.Dir)
				}
			}
		}
		gauge(rules, float64(countRules(b)), br)
		if mt := c.src.Ofproto().MACTable(br); mt != nil {
			gauge(macEntries, float64(mt.Len()), br)
		}
	}

	for _, p := range dp.PMDCounters() {
		pmd, cpu := strconv.Itoa(p.PMD), strconv.Itoa(p.CPU)
		if p.PMD == dpif.NonPMD {
			pmd = "main"
		}
		if p.CPU < 0 {
			cpu = "none"
		}
		counter(pmdPackets, p.Packets, pmd, cpu)
		counter(pmdEMCHits, p.EMCHits, pmd, cpu)
		counter(pmdMegaflowHits, p.MegaflowHits, pmd, cpu)
		counter(pmdLookups, p.SubtableLookups, pmd, cpu)
		gauge(pmdLookupsPerHit, p.LookupsPerHit, pmd, cpu)
		counter(pmdUpcalls, p.Upcalls, pmd, cpu)
		counter(pmdLost, p.Lost, pmd, cpu)
		counter(pmdIterations, p.Iterations, pmd, cpu)
		ch <- prometheus.MustNewConstMetric(pmdBusy, prometheus.CounterValue, float64(p.BusyNs)/1e9, pmd, cpu)
		ch <- prometheus.MustNewConstMetric(pmdIdle, prometheus.CounterValue, float64(p.IdleNs)/1e9, pmd, cpu)
		for _, d := range []struct {
			reason string
			v      uint64
		}{
			{"no_port", p.DropNoPort}, {"pool_empty", p.DropPoolEmpty}, {"action", p.DropAction},
			{"meter", p.DropMeter}, {"unsupported", p.DropUnsupported}, {"tx_failed", p.DropTxFailed},
			{"no_actions", p.DropNoActions}, {"upcall_lost", p.DropUpcallLost},
		} {
			counter(pmdDrops, d.v, pmd, cpu, d.reason)
		}
	}

	rs := dp.RevalidatorStats()
	buckets := make(map[float64]uint64, len(rs.Bounds))
	for i, b := range rs.Bounds {
		buckets[b] = rs.Cumulative[i]
	}
	ch <- prometheus.MustNewConstHistogram(revalDuration, rs.Rounds, rs.Sum.Seconds(), buckets)
	gauge(revalLast, rs.Last.Seconds())

	gauge(megaflows, float64(dp.NumFlows()))
	gauge(flowLimit, float64(dp.FlowLimit()))
	gauge(dpPorts, float64(len(dp.PortEntries())))
}

// countRules counts a bridge's rules without copying them.
func countRules(b *ofproto.Bridge) int {
	b.RLock()
	defer b.RUnlock()
	n := 0
	for id := range ofproto.MaxTables {
		if t := b.Table(uint8(id)); t != nil {
			n += t.Len()
		}
	}
	return n
}
