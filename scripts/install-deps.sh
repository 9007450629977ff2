#!/usr/bin/env bash
# Installs what building and testing govs needs on a Debian 12 machine, and
# nothing that is already there. Idempotent; safe to run before every `make`.
#   scripts/install-deps.sh          build + unit tests + e2e clients
# OVS's Debian package starts its own ovsdb-server/ovs-vswitchd on
# /var/run/openvswitch under systemd; govs' tests and demo always use their own
# OVS_RUNDIR, and this script stops that service where it was started, so two
# switches never fight over one database.
set -euo pipefail

need_pkgs=()
want() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed" || need_pkgs+=("$1"); }
# gcc and libc6-dev: the race detector (make race) needs cgo.
for p in openvswitch-switch openvswitch-common iproute2 ethtool iperf3 tcpdump python3-scapy \
         iputils-ping procps psmisc gcc libc6-dev; do
	want "$p"
done
if [ "${GOVS_DEPS_DPDK:-1}" = 1 ]; then
	for p in dpdk dpdk-dev openvswitch-switch-dpdk python3-os-ken; do want "$p"; done
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
	echo "install-deps: installing ${need_pkgs[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi
# A distribution-started OVS would own /var/run/openvswitch; govs uses its own
# run directories in tests, but a stray ovs-vswitchd must not hold ports.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet openvswitch-switch 2>/dev/null; then
	systemctl stop openvswitch-switch || true
fi

# Go tools pinned to exact versions (the module proxy serves exact versions).
GOBIN=$(go env GOPATH)/bin
if [ ! -x "$GOBIN/staticcheck" ]; then
	echo "install-deps: installing staticcheck v0.7.0"
	GOFLAGS= go install honnef.co/go/tools/cmd/staticcheck@v0.7.0
fi
