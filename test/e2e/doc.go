// Package e2e holds end-to-end tests: govs and real clients (ovs-vsctl,
// ovs-ofctl, ovs-appctl, iperf3, dpdk-testpmd) in network namespaces. They
// need root; each test uses its own OVS_RUNDIR and namespace names.
//
// To run them against a govs built with the race detector:
//
//	GOVS_E2E_RACE=1 GORACE=log_path=/tmp/race/govs go test ./test/e2e/...
//
// then look for reports in /tmp/race/govs.<pid>: the daemons keep running
// after a report, so a test does not fail by itself.
package e2e
