// Package capture is govs' packet capture (govs capture PORT): the tap the
// datapath offers packets to while a capture runs, the bounded lock-free
// ring between the PMDs and the goroutine that streams records to the
// client, the classic BPF filter evaluated on each packet, the record
// stream on the wire, and the pcap/pcapng output the client writes.
//
// The datapath side costs nothing when no capture runs: dpif checks one
// atomic pointer per received batch and per transmitted batch, and finds
// nil. While a capture runs, a PMD filters each packet of a tapped port
// (the BPF program, no allocation), copies the matching ones into a free
// slot of the ring and goes on; a full ring drops the record and counts
// it, so a slow reader never slows the PMD down.
//
// Filters are tcpdump expressions compiled by the client with the installed
// tcpdump (libpcap's compiler, `tcpdump -ddd -y EN10MB`: there is no
// maintained pure-Go compiler of pcap-filter expressions), sent to the
// daemon as the instructions tcpdump printed, and run there by
// golang.org/x/net/bpf's interpreter.
package capture
