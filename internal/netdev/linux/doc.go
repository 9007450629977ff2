// Package linux holds what the kernel-facing port types (system, afxdp, tap,
// internal) share: finding a kernel interface and reporting the error OVS
// reports when it is missing, reading its MAC, MTU and carrier through
// netlink, applying Interface.mtu_request and Interface.mac, the per-port
// counters, and WatchLinks, which reports link up/down events so the
// OpenFlow agent can send PORT_STATUS.
//
// Nothing here runs per packet except Counters, whose methods are called
// once per batch.
package linux
