// Package unixctl is govs' ovs-appctl server: OVS's lib/unixctl.c protocol
// (JSON-RPC 1.0 over a unix socket, $OVS_RUNDIR/ovs-vswitchd.<pid>.ctl) and
// the commands operators script against ovs-vswitchd.
//
// ovs-appctl sends {"method": "fdb/show", "params": ["br0"], "id": 0} and
// expects {"result": "text", "error": null, "id": 0}, or an error text,
// which it prints to stderr before exiting with status 2. Commands answer
// in OVS's text formats, so scripts that grep OVS's output keep working;
// each file states where govs departs from OVS and why.
//
// Files:
//
//	server.go    the protocol: connections, request checks, replies
//	coverage.go  coverage/show (rates sampled every 5 s), memory/show
//	daemon.go    version, exit, vlog/list, vlog/set, vlog/reopen
//	switch.go    the Switch the switch commands read, shared helpers
//	pmd.go       dpif-netdev/pmd-stats-show, -clear, pmd-perf-show,
//	             pmd-rxq-show, pmd-rxq-rebalance
//	dpctl.go     dpctl/show, dpctl/dump-flows, dpctl/del-flows
//	odpflow.go   megaflows in OVS's datapath-flow text
//	trace.go     ofproto/trace
//	fdb.go       fdb/show, fdb/flush
//	ofctl.go     rules and actions in ovs-ofctl syntax, bridge/dump-flows
//	top.go       govs/top-stats (a JSON snapshot) and the govs top view
//	client.go    a Go ovs-appctl: FindSocket, Dial, Call
//	pidfile_linux.go  the pidfile lock ovs-appctl checks
//
// Nothing here runs on the packet path: commands read the datapath's
// per-PMD counters, its megaflow table and the OpenFlow model through their
// control-side accessors.
package unixctl
