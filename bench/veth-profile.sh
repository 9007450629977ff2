#!/bin/bash
# Profile the switch core (CPU 1) while govs forwards a steady veth stream:
# the topology and generator of bench/veth.sh (the peer harness' lib.sh),
# govs started by govs-switch.sh, and `perf record -e cpu-clock -C 1` over a
# window in the middle of the traffic only (no start-up, no idle polling).
# Prints the split by thread/DSO and the top symbols, and govs'
# pmd-stats-show over the same window.
#   sudo bench/veth-profile.sh            # 64 B frames
#   SIZE=1514 SECS=8 sudo bench/veth-profile.sh
# Env: SIZE (60 = "64B"; 1514 = "1518B"), SECS (6), PEERS_DIR, GOVS_BIN, GOVS_SRC,
#      OUT (default /tmp/govs-bench/profile-<ts>)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
PEERS_DIR=${PEERS_DIR:-$(cd "$REPO/../shared/peers" 2>/dev/null && pwd)}
SIZE=${SIZE:-60}; SECS=${SECS:-6}
OUT=${OUT:-/tmp/govs-bench/profile-$(date +%Y%m%d-%H%M%S)}
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
[ -f "$PEERS_DIR/lib.sh" ] || { echo "peer harness not found: set PEERS_DIR" >&2; exit 1; }
command -v perf >/dev/null || { echo "perf missing (apt-get install linux-perf)" >&2; exit 1; }
mkdir -p "$OUT"
if [ -z "${GOVS_BIN:-}" ]; then
    GOVS_BIN=$OUT/govs
    if [ "${GOVS_SRC:-HEAD}" = worktree ]; then
        (cd "$REPO" && go build -o "$GOVS_BIN" ./cmd/govs) || exit 1
    else
        mkdir -p "$OUT/src" && git -C "$REPO" archive "${GOVS_SRC:-HEAD}" | tar -x -C "$OUT/src" &&
            (cd "$OUT/src" && go build -o "$GOVS_BIN" ./cmd/govs) || exit 1
        rm -rf "$OUT/src"
    fi
fi
export GOVS_BIN
export PEERS_ROOT=/tmp/govs-bench-peers NS_GEN=govs-bench-gen NS_SINK=govs-bench-sink
[ -e "$PEERS_ROOT" ] && { echo "$PEERS_ROOT exists: a benchmark is running" >&2; exit 1; }
BENCH_NS=govs-bench-sw
if [ "${_INNER:-}" != 1 ]; then
    ip netns add "$BENCH_NS" || exit 1
    ip -n "$BENCH_NS" link set lo up
    _INNER=1 OUT=$OUT ip netns exec "$BENCH_NS" "$0"; rc=$?
    ip netns del "$BENCH_NS"
    exit $rc
fi

# shellcheck source=/dev/null
source "$PEERS_DIR/lib.sh"
peers_root_init "$OUT"
netns_setup
on_exit gen_stop
on_exit custom_switch_stop
SWITCH_CMD="$HERE/govs-switch.sh" custom_switch_start "$OUT/switch.log"
for _ in $(seq 1 100); do grep -q '\] ready' "$OUT/switch.log" 2>/dev/null && break; sleep 0.1; done
grep -q '\] ready' "$OUT/switch.log" || die "govs-switch.sh not ready (see $OUT/switch.log)"
export OVS_RUNDIR=$PEERS_ROOT/govs/run
gen_start "$SIZE" 1 $((SECS + 10)) "$OUT/gen.log"
sleep 3
ovs-appctl -t ovs-vswitchd dpif-netdev/pmd-stats-clear >/dev/null
r0=$(ns_stat "$NS_SINK" "$SINK_IF" rx_packets); t0=$(date +%s.%N)
# The kernel kicks of the afxdp ports over the same window: sendto per
# forwarded packet shows how many packets each transmit kick carries.
# Only govs' own calls (-p): others' processes share CPU 1.
perf stat -x, -e syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom \
    -p "$(cat "$OVS_RUNDIR/ovs-vswitchd.pid")" -o "$OUT/syscalls.csv" -- sleep "$SECS" 2>/dev/null &
STATPID=$!
perf record -q -e cpu-clock -C 1 -F 1999 -o "$OUT/perf.data" -- sleep "$SECS" 2>/dev/null
wait "$STATPID"
ovs-appctl -t ovs-vswitchd dpif-netdev/pmd-stats-show > "$OUT/pmd-stats.txt"
r1=$(ns_stat "$NS_SINK" "$SINK_IF" rx_packets); t1=$(date +%s.%N)
gen_stop
{
    echo "# govs veth profile, frame $((SIZE + 4))B, ${SECS}s window; sink received $(awk -v a="$r0" -v b="$r1" -v t0="$t0" -v t1="$t1" 'BEGIN{printf "%.3f", (b-a)/(t1-t0)/1e6}') Mpps"
    # The sink's count spans more than the stat's SECS: scale its rate.
    awk -F, -v a="$r0" -v b="$r1" -v t0="$t0" -v t1="$t1" -v s="$SECS" '/sys_enter_/ {
        sub(/.*sys_enter_/, "", $3); n = (b - a) / (t1 - t0) * s
        printf "## govs %s calls: %d in %d s, %.3f per forwarded packet\n", $3, $1, s, (n > 0 ? $1 / n : 0) }' "$OUT/syscalls.csv"
    # cpu-clock samples are CPU time whoever else runs on CPU 1, so govs'
    # samples per forwarded packet are its cost, steadier than the rate on
    # a shared machine (cache pollution by other tenants still counts).
    perf report -q -n -i "$OUT/perf.data" --sort comm,dso --stdio 2>/dev/null |
        awk -v a="$r0" -v b="$r1" -v t0="$t0" -v t1="$t1" -v s="$SECS" '$3 == "govs" {
            ns = $2 * 1e9 / 1999; tot += ns; if ($4 == "govs") own += ns; else if ($4 ~ /kernel/) k += ns }
            END { n = (b - a) / (t1 - t0) * s; if (n > 0)
                printf "## govs on CPU 1 per forwarded packet: %.0f ns (kernel %.0f, govs code %.0f)\n", tot / n, k / n, own / n }'
    echo "## CPU 1 by thread and DSO"
    perf report -q -i "$OUT/perf.data" --sort comm,dso --stdio 2>/dev/null | grep -v '^$' | head -12
    echo "## CPU 1 by symbol (>= 0.3 %)"
    perf report -q -i "$OUT/perf.data" --sort comm,dso,sym --percent-limit 0.3 --stdio 2>/dev/null | grep -v '^$'
    echo "## govs pmd-stats-show over the window"
    sed -n '/core_id 1:/,/avg processing/p' "$OUT/pmd-stats.txt"
} | tee "$OUT/profile.txt"
rm -f "$OUT/perf.data"
