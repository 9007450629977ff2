// Package demo is `govs demo` (`make demo`): a guided tour that forwards
// real traffic between network namespaces through govs, as a newcomer
// would set it up by hand with OVS's tools, and then leaves the machine as
// it found it.
//
// The tour, one step per heading it prints:
//
//  1. preflight.go: refuse clearly unless root; name the missing tools and
//     how to install them (scripts/install-deps.sh).
//  2. daemon.go: start `govs run` (the same binary, os.Executable) as a
//     child, with OVS_RUNDIR, OVS_DBDIR, OVS_LOGDIR and OVS_SYSCONFDIR in
//     a fresh temporary directory, so it never meets another switch; wait
//     until ovs-vsctl gets answers.
//  3. demo.go: `ovs-vsctl add-br` a netdev bridge (its default flow is
//     NORMAL: a learning switch).
//  4. hosts.go: per host a network namespace, a veth pair (eth0 inside,
//     the other end on the bridge as an afxdp port), TSO/GSO/tx-checksum
//     offload off inside (afxdp ports need whole frames with finished
//     checksums); wait until each Interface has its ofport and no error.
//  5. traffic.go: ping from the first host to every other one.
//  6. traffic.go: a short iperf3 (TCP) between the first two hosts.
//  7. stats.go: `ovs-vsctl show` and a table of the Interface statistics
//     once govs has written the post-traffic counters (every 5 s).
//
// Cleanup (cleanup.go) runs on success, on failure and on Ctrl-C: delete
// the bridge, stop govs (SIGTERM: it removes its XDP programs and TAP),
// delete the namespaces and the host ends of the veths, remove the
// temporary directory. Children run in their own process groups, so a
// Ctrl-C in the terminal reaches only the demo, which then stops them in
// that order; they also get a parent-death signal in case the demo itself
// is killed. Names carry the demo's pid, so several demos (and tests) can
// run side by side, and leftovers of a demo that was killed with SIGKILL
// are recognised and removed by the next one.
//
// Every wait is bounded: a step that does not finish in time fails with
// what it was waiting for.
package demo
