#!/bin/bash
# govs as the "custom switch" of the peer harness (../shared/peers, see
# lib.sh custom_switch_start): started by 2-ovs-userspace-veth.sh with
# FAMILIES=custom, already pinned (taskset) to the switch CPU, with PORT0
# (ingress, pgsw0) and PORT1 (egress, pgsw1) in the environment.
#
# It runs `govs run` in its own OVS_RUNDIR under $PEERS_ROOT/govs, builds the
# same set-up as the harness gives OVS (bridge datapath_type=netdev, both
# veths as type=afxdp options:xdp-mode=native with ofport 1 and 2, PMD on
# CPU 1 via pmd-cpu-mask=0x2), and installs the same flows
# (in_port=1,actions=output:2 and back) with ovs-ofctl through govs'
# OpenFlow agent. If ovs-ofctl cannot talk to govs, it keeps the default
# NORMAL flow and makes the bridge learn the sink MAC (a broadcast frame
# from the sink side with that source MAC, repeated every 20 s against
# aging), so frames are forwarded to port 2 without flooding.
# SIGTERM stops govs (which detaches its XDP programs) and removes the dir,
# after printing govs' last `ovs-appctl dpif-netdev/pmd-stats-show` (its
# "cycles" are nanoseconds) for bench/veth.sh's switch-core cost.
#
# Env: GOVS_BIN (required), PORT0, PORT1, PEERS_ROOT (from the harness),
#      NS_SINK (sink netns, for the NORMAL fallback), SINK_DST_MAC,
#      GOVS_RULES=openflow|normal (default: openflow, falling back to normal),
#      GOVS_PMD_MASK (0x2), GOVS_TASKSET (0: the CPUs of govs' other
#      threads, as OVS_TASKSET=0 for OVS), GOVS_HW_OFFLOAD (1: other_config:
#      hw-offload=true, the kernel forwards the cross-connect)
set -u
: "${GOVS_BIN:?GOVS_BIN not set}" "${PORT0:?}" "${PORT1:?}" "${PEERS_ROOT:?}"
NS_SINK=${NS_SINK:-peers-sink}
SINK_IF=${SINK_IF:-pg1}
SINK_DST_MAC=${SINK_DST_MAC:-02:00:00:00:00:99}
BR=gbbr0
D=$PEERS_ROOT/govs
log() { echo "[govs-switch $(date +%H:%M:%S)] $*"; }

rm -rf "$D"; mkdir -p "$D"/run "$D"/db "$D"/log "$D"/etc
export OVS_RUNDIR=$D/run OVS_DBDIR=$D/db OVS_LOGDIR=$D/log OVS_SYSCONFDIR=$D/etc
VSCTL="ovs-vsctl --db=unix:$OVS_RUNDIR/db.sock --timeout=20"

# setsid: a session of its own, as OVS's --detach gives ovs-vswitchd, so the
# kernel's autogroup scheduling treats both switches alike under load. (The
# background child is no group leader: setsid execs govs in place, and $!
# is govs itself.)
# The harness starts this script pinned to the switch CPU; OVS it starts
# with its process on CPU 0 (OVS_TASKSET=0) and only the PMD on CPU 1
# (pmd-cpu-mask=0x2). govs gets the same: its process (Go runtime,
# OpenFlow agent, revalidator, its ovsdb-server) on GOVS_TASKSET, the PMD
# on GOVS_PMD_MASK.
taskset -c "${GOVS_TASKSET:-0}" setsid "$GOVS_BIN" run &
GP=$!
LP=""
SP=""
stop() {
    # shellcheck disable=SC2046
    [ -n "$LP" ] && kill $(pgrep -P "$LP") "$LP" 2>/dev/null
    # shellcheck disable=SC2046
    [ -n "$SP" ] && kill $(pgrep -P "$SP") "$SP" 2>/dev/null
    # The harness stops govs before this script (leaves first): print the
    # sampler's last PMD statistics, taken at most 2 s before.
    if [ -s "$D/pmd-stats.txt" ]; then
        log "last dpif-netdev/pmd-stats-show (cleared when ready):"
        cat "$D/pmd-stats.txt"
    fi
    if kill -0 "$GP" 2>/dev/null; then
        kill -TERM "$GP"
        for _ in $(seq 1 100); do kill -0 "$GP" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$GP" 2>/dev/null
    fi
    wait "$GP" 2>/dev/null
    rm -rf "$D"
    log "stopped"
    exit 0
}
trap stop TERM INT

ok=0
for _ in $(seq 1 100); do
    out=$(ovs-vsctl --db=unix:"$OVS_RUNDIR"/db.sock --timeout=1 get Open_vSwitch . ovs_version 2>/dev/null) && [ "$out" != "[]" ] && { ok=1; break; }
    kill -0 "$GP" 2>/dev/null || break
    sleep 0.1
done
[ $ok = 1 ] || { log "FATAL: govs did not come up"; stop; }

$VSCTL set Open_vSwitch . other_config:pmd-cpu-mask="${GOVS_PMD_MASK:-0x2}"
# GOVS_HW_OFFLOAD=1: the kernel forwards the in_port -> output megaflows
# (docs/perf/veth.md, "Kernel forwarding").
if [ "${GOVS_HW_OFFLOAD:-0}" = 1 ]; then
    $VSCTL set Open_vSwitch . other_config:hw-offload=true
    log "hw-offload=true"
fi
$VSCTL add-br $BR -- set bridge $BR datapath_type=netdev
n=1
for p in "$PORT0" "$PORT1"; do
    $VSCTL add-port $BR "$p" -- set Interface "$p" type=afxdp options:xdp-mode=native ofport_request=$n
    n=$((n + 1))
done
for p in "$PORT0" "$PORT1"; do
    for _ in $(seq 1 100); do
        of=$($VSCTL get Interface "$p" ofport 2>/dev/null)
        case $of in ''|'[]'|-1|0) sleep 0.1 ;; *) break ;; esac
    done
    err=$($VSCTL get Interface "$p" error 2>/dev/null)
    [ -z "$err" ] || [ "$err" = "[]" ] || { log "FATAL: $p: $err"; stop; }
    log "$p: ofport $of, status $($VSCTL get Interface "$p" status)"
done

rules=${GOVS_RULES:-openflow}
if [ "$rules" = openflow ]; then
    if ovs-ofctl del-flows $BR && ovs-ofctl add-flow $BR in_port=1,actions=output:2 &&
        ovs-ofctl add-flow $BR in_port=2,actions=output:1; then
        log "rules: $(ovs-ofctl --no-names dump-flows $BR | grep -c actions=output) OpenFlow rules (in_port=1,actions=output:2 and back)"
    else
        log "ovs-ofctl failed against govs; using NORMAL with the sink MAC learned"
        rules=normal
    fi
fi
if [ "$rules" = normal ]; then
    PY=/usr/bin/python3; [ -x $PY ] || PY=python3
    # One broadcast frame, source = the MAC the generator sends to,
    # EtherType 0x88b5 (local experimental), from the sink's veth.
    learn() {
        ip netns exec "$NS_SINK" "$PY" -c '
import socket, sys
mac = bytes.fromhex(sys.argv[2].replace(":", ""))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
s.send(b"\xff" * 6 + mac + b"\x88\xb5" + b"govs-bench learn".ljust(46, b"\0"))
' "$SINK_IF" "$SINK_DST_MAC"
    }
    learn && log "rules: NORMAL (default flow), $SINK_DST_MAC learned on $PORT1"
    ( while sleep 20; do learn; done ) &
    LP=$!
fi
# PMD statistics for the switch-core cost: cleared now, sampled every 2 s
# (the harness stops govs before this script, so it cannot ask at the end).
APPCTL="ovs-appctl -t ovs-vswitchd"
$APPCTL dpif-netdev/pmd-stats-clear >/dev/null 2>&1 || log "ovs-appctl dpif-netdev/pmd-stats-clear failed"
# With hw-offload the PMD forwards nothing, so its statistics are not
# needed: the megaflows are logged once, to show they are offloaded, and
# nothing more runs on the switch CPU.
if [ "${GOVS_HW_OFFLOAD:-0}" = 1 ]; then
    ( sleep 15; log "megaflows: $($APPCTL dpctl/dump-flows -m 2>&1 | sed 's/.*packets:/packets:/' | paste -sd';')" ) &
else
    ( while sleep 2; do
        $APPCTL dpif-netdev/pmd-stats-show > "$D/pmd-stats.tmp" 2>&1 && mv "$D/pmd-stats.tmp" "$D/pmd-stats.txt"
      done ) &
fi
SP=$!
log "ready"
while kill -0 "$GP" 2>/dev/null; do wait "$GP"; done
log "govs exited by itself"
stop
