// Package e2e holds end-to-end tests: govs and real clients (ovs-vsctl,
// ovs-ofctl, ovs-appctl, iperf3, dpdk-testpmd) in network namespaces. They
// need root; each test uses its own OVS_RUNDIR and namespace names.
package e2e
