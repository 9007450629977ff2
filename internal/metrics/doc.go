// Package metrics is govs' Prometheus endpoint, off by default and turned
// on with
//
//	ovs-vsctl set Open_vSwitch . other_config:metrics-address=127.0.0.1:9475
//
// It exports, at /metrics:
//
//   - per port (labels bridge, port): govs_port_{rx,tx}_{packets,bytes,dropped,errors}_total;
//   - per PMD (labels pmd, cpu; pmd="main" is the non-PMD path):
//     govs_pmd_packets_total, _emc_hits_total, _megaflow_hits_total,
//     _subtable_lookups_total, _subtable_lookups_per_hit, _upcalls_total,
//     _lost_upcalls_total, _iterations_total, _busy_seconds_total,
//     _idle_seconds_total, _drops_total{reason};
//   - table sizes: govs_datapath_megaflows, govs_datapath_flow_limit,
//     govs_datapath_ports, govs_bridge_rules{bridge},
//     govs_bridge_mac_entries{bridge};
//   - revalidation rounds: govs_revalidator_duration_seconds (a
//     histogram), govs_revalidator_last_duration_seconds;
//   - per vhost-user virtqueue (labels bridge, port, queue, direction):
//     govs_vhost_ring_size, govs_vhost_ring_fill (avail.idx - used.idx,
//     read from guest memory at scrape time);
//   - the Go runtime's and the process's standard metrics.
//
// Counters are read at scrape time by a custom prometheus.Collector from
// the datapath's per-PMD plain integers (summed by Prometheus queries, not
// by govs) and from the port types' own counters: nothing is counted on
// the packet path for metrics. PMD counters are lifetime counters of the
// PMD thread: dpif-netdev/pmd-stats-clear does not reset them (it resets
// the view ovs-appctl shows), a pmd-cpu-mask change does (new PMDs start
// at zero, which Prometheus' rate() treats as a counter reset).
package metrics
