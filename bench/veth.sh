#!/bin/bash
# veth-to-veth forwarding, govs against OVS userspace and the Linux bridge,
# in one run on one machine (issue 3, item 8). See bench/README.md.
#
#   generator (netns gen, CPU 0) -> veth -> SWITCH (CPU 1) -> veth -> sink netns
#
# It drives the shared peer harness (PEERS_DIR, default ../shared/peers
# next to the repository) rather than a harness of its own:
#   0-generator-ceiling.sh       the generator alone into a dropping veth
#   2-ovs-userspace-veth.sh      FAMILIES="afxdp custom": OVS 3.1 userspace
#                                (type=afxdp, PMD on CPU 1) and govs
#                                (bench/govs-switch.sh as SWITCH_CMD, pinned
#                                to CPU 1) alternate in every run, same veths
#   3-linux-bridge.sh            the kernel bridge (MODES 64-local 1518-local)
# and turns their summaries into one table (Mpps, ratios, switch-core cost).
#
# Everything runs inside a private network namespace (BENCH_NS) so that the
# OVS peer's ovs-netdev TAP and govs' bridge TAP never meet another switch's
# in the root namespace; the peer scripts' namespaces and PEERS_ROOT get
# names of their own. Needs root, dpdk-testpmd (Debian dpdk; --no-huge, no
# hugepages), openvswitch-switch, python3. About 6-8 minutes with the
# defaults (longer when other tenants' load forces retries).
#
# Env: RUNS (3) WARMUP (3) WINDOW (8) MAX_FOREIGN (15, % of foreign CPU that
#      makes the harness repeat a run) PEERS_DIR GOVS_BIN (default: build
#      ./cmd/govs into the results dir) RESDIR (default /tmp/govs-bench/veth-<ts>)
#      GOVS_SRC (HEAD: build that commit via git archive; a commit; or worktree)
#      BRIDGE_MODES ("64-local 1518-local 64-napi 1518-napi") SKIP ("" or any of: ceiling ovs offload bridge)
#      GOVS_RULES (openflow|normal, see govs-switch.sh) SWITCH_FAMILIES ("afxdp custom")
#      QUIET_WAIT (300 s) QUIET_PCT (15) REF (1: add the testpmd io-fwd reference)
#      PERF (1: perf record CPU 1 during the switch runs, reports by comm/dso)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
PEERS_DIR=${PEERS_DIR:-$(cd "$REPO/../shared/peers" 2>/dev/null && pwd)}
TS=$(date +%Y%m%d-%H%M%S)
RESDIR=${RESDIR:-/tmp/govs-bench/veth-$TS}
export RUNS=${RUNS:-3} WARMUP=${WARMUP:-3} WINDOW=${WINDOW:-8} MAX_FOREIGN=${MAX_FOREIGN:-15}
BRIDGE_MODES=${BRIDGE_MODES:-"64-local 1518-local 64-napi 1518-napi"}
SKIP=${SKIP:-}
BENCH_NS=govs-bench-sw

die() { echo "bench/veth.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network namespaces, XDP)"
[ -n "$PEERS_DIR" ] && [ -f "$PEERS_DIR/lib.sh" ] || die "peer harness not found: set PEERS_DIR (default ../shared/peers)"
for t in dpdk-testpmd ovs-vsctl ovs-ofctl ovsdb-server ovs-vswitchd python3 taskset ethtool; do
    command -v "$t" >/dev/null 2>&1 || [ -x /usr/sbin/"$t" ] || [ -x /usr/lib/openvswitch-switch/"$t" ] ||
        die "$t missing (scripts/install-deps.sh installs dpdk and openvswitch-switch)"
done
ip netns list | grep -qw "$BENCH_NS" && die "netns $BENCH_NS exists: another benchmark running? (or remove it)"
[ -e /var/run/dpdk/peersgen ] && die "/var/run/dpdk/peersgen exists: a peer benchmark is running"
mkdir -p "$RESDIR" || die "mkdir $RESDIR"

# The shared work tree may hold others' unfinished changes: by default the
# binary is built from the committed HEAD (git archive), so a result names
# the commit it measured. GOVS_SRC=worktree builds the work tree as it is.
if [ -z "${GOVS_BIN:-}" ]; then
    GOVS_BIN=$RESDIR/govs
    if [ "${GOVS_SRC:-HEAD}" = worktree ]; then
        GOVS_DESC="work tree at $(git -C "$REPO" rev-parse --short HEAD)$(git -C "$REPO" diff --quiet HEAD -- . 2>/dev/null || echo ' + uncommitted changes')"
        (cd "$REPO" && go build -o "$GOVS_BIN" ./cmd/govs) || die "go build failed (or set GOVS_BIN)"
    else
        rev=$(git -C "$REPO" rev-parse --short "${GOVS_SRC:-HEAD}") || die "no commit ${GOVS_SRC:-HEAD}"
        GOVS_DESC="commit $rev"
        rm -rf "$RESDIR/src"; mkdir -p "$RESDIR/src"
        git -C "$REPO" archive "$rev" | tar -x -C "$RESDIR/src" || die "git archive $rev"
        (cd "$RESDIR/src" && go build -o "$GOVS_BIN" ./cmd/govs) || die "go build of $rev failed (or set GOVS_BIN)"
        rm -rf "$RESDIR/src"
    fi
fi
export GOVS_BIN

# Names of our own, so a peer run elsewhere on the machine is not touched.
export PEERS_ROOT=/tmp/govs-bench-peers NS_GEN=govs-bench-gen NS_SINK=govs-bench-sink
[ -e "$PEERS_ROOT" ] && die "$PEERS_ROOT exists: another benchmark running? (or remove it)"

cleanup() {
    ip netns del "$BENCH_NS" 2>/dev/null
    rm -rf "$PEERS_ROOT"
}
trap '[ -n "${PERF_PID:-}" ] && kill -INT "$PERF_PID"; cleanup' EXIT
trap 'exit 130' INT TERM
ip netns add "$BENCH_NS" || die "netns add $BENCH_NS"
ip -n "$BENCH_NS" link set lo up

# Other tenants' load shows up directly in the figures (2 CPUs): wait up to
# QUIET_WAIT seconds for the machine to be quiet (< QUIET_PCT % busy over 5 s).
busy_pct() {
    local a b
    a=$(awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat); sleep 5
    b=$(awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
    echo "$a $b" | awk '{printf "%.0f", 100*($3-$1)/($4-$2)}'
}
QUIET_WAIT=${QUIET_WAIT:-300}; QUIET_PCT=${QUIET_PCT:-15}
waited=0
while b=$(busy_pct); [ "$b" -gt "$QUIET_PCT" ]; do
    if [ "$waited" -ge "$QUIET_WAIT" ]; then
        echo "bench/veth.sh: WARNING: machine still ${b}% busy after ${waited}s; measuring anyway (figures will be noisy)" | tee -a "$RESDIR/warnings"
        break
    fi
    echo "bench/veth.sh: machine ${b}% busy (other tenants); waiting for < ${QUIET_PCT}%"
    waited=$((waited + 5))
done

inns() { ip netns exec "$BENCH_NS" "$@"; }
OUT=$RESDIR/summary.txt
{
    echo "# bench/veth.sh $(date -Is)"
    echo "# $("$GOVS_BIN" version 2>/dev/null), built from ${GOVS_DESC:-$GOVS_BIN}"
    echo "# $(uname -r); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(grep -m1 'cpu MHz' /proc/cpuinfo | sed 's/.*: //') MHz; $(nproc) CPUs; RUNS=$RUNS WARMUP=$WARMUP WINDOW=$WINDOW; busy before start ${b}%"
    echo "# $(ovs-vswitchd --version | head -1); dpdk $(dpkg-query -W -f='${Version}' dpdk 2>/dev/null)"
} | tee "$OUT"

run() {   # label, env..., script
    local label=$1; shift
    echo "### $label ($(date +%H:%M:%S))" | tee -a "$OUT"
    inns env RESDIR="$RESDIR/$label" "$@" 2>>"$RESDIR/harness.stderr" | tee -a "$OUT"
}
case " $SKIP " in *" ceiling "*) ;; *)
    run ceiling GENS=afxdp SIZES="60 1514" "$PEERS_DIR/0-generator-ceiling.sh" ;; esac
# One invocation per frame size, so that each govs lifetime carries one
# size and its PMD statistics give that size's cost per packet.
# PERF=1: a CPU-1 profile (perf record -C 1) over each of these runs, to
# split the switch core's time between the switch's own code and the kernel.
PERF_PID=""
perf_start() {   # label
    [ "${PERF:-0}" = 1 ] && command -v perf >/dev/null || return 0
    perf record -q -e cpu-clock -C 1 -F 997 -o "$RESDIR/perf-$1.data" -- sleep 3600 >/dev/null 2>&1 &
    PERF_PID=$!
}
perf_stop() {    # label
    [ -n "$PERF_PID" ] || return 0
    kill -INT "$PERF_PID"; wait "$PERF_PID" 2>/dev/null; PERF_PID=""
    perf report -q -i "$RESDIR/perf-$1.data" --sort comm,dso --stdio 2>/dev/null | grep -v '^$' | head -25 > "$RESDIR/perf-$1.txt"
    perf report -q -i "$RESDIR/perf-$1.data" --sort comm,sym --percent-limit 0.2 --stdio 2>/dev/null | grep -v '^$' > "$RESDIR/perf-$1-sym.txt"
    rm -f "$RESDIR/perf-$1.data"
}
case " $SKIP " in *" ovs "*) ;; *)
    for size in 64 1518; do
        perf_start "switches-$size"
        run switches-$size FAMILIES="${SWITCH_FAMILIES:-afxdp custom}" SCEN=veth MODES=$size SWITCH_SETTLE=5 \
            SWITCH_CMD="$HERE/govs-switch.sh" "$PEERS_DIR/2-ovs-userspace-veth.sh"
        perf_stop "switches-$size"
    done ;; esac
# govs again with other_config:hw-offload=true: the kernel forwards the
# cross-connect, on the PMD's CPU (docs/perf/veth.md, "Kernel forwarding").
# OVS 3.1's userspace datapath has no offload for afxdp ports (its netdev
# offload provider is DPDK's rte_flow), so OVS runs only once, above.
case " $SKIP " in *" offload "*) ;; *)
    for size in 64 1518; do
        perf_start "offload-$size"
        run offload-$size FAMILIES=custom SCEN=veth-offload MODES=$size SWITCH_SETTLE=5 GOVS_HW_OFFLOAD=1 \
            SWITCH_CMD="$HERE/govs-switch.sh" "$PEERS_DIR/2-ovs-userspace-veth.sh"
        perf_stop "offload-$size"
    done ;; esac
# REF=1: the peers' reference "switch", testpmd io-forward between the same
# two veths through net_af_xdp (no parsing, no lookup): what an AF_XDP
# forwarder costs on this machine with no switching at all.
if [ "${REF:-0}" = 1 ]; then
    perf_start ref
    run ref FAMILIES=custom SCEN=ref MODES="64 1518" SWITCH_SETTLE=3 \
        SWITCH_CMD="$PEERS_DIR/ref-testpmd-switch.sh afxdp" "$PEERS_DIR/2-ovs-userspace-veth.sh"
    perf_stop ref
fi
case " $SKIP " in *" bridge "*) ;; *)
    run bridge MODES="$BRIDGE_MODES" "$PEERS_DIR/3-linux-bridge.sh" ;; esac
cleanup
trap - EXIT

# govs' cost per packet: median over its runs of the PMD's "avg processing
# cycles per packet" (nanoseconds in govs) and of its busy share.
pmdfield() {  # dir field(cyc|busy)
    local f
    for f in "$1"/switch-*.log; do
        [ -e "$f" ] || continue
        awk -v want="$2" '/^pmd thread .*core_id 1:$/{inb=1; next} /^[a-z]/{inb=0}
            inb && want=="cyc" && /avg processing cycles per packet:/{v=$6}
            inb && want=="busy" && /^  processing cycles:/{v=$4; gsub(/[()%]/,"",v)}
            END{if (v!="") print v}' "$f"
    done | sort -g | awk '{a[NR]=$1} END{if (NR) print a[int((NR+1)/2)]}'
}
export GOVS_NS64 GOVS_NS1518 GOVS_BUSY64 GOVS_BUSY1518
GOVS_NS64=$(pmdfield "$RESDIR/switches-64" cyc); GOVS_BUSY64=$(pmdfield "$RESDIR/switches-64" busy)
GOVS_NS1518=$(pmdfield "$RESDIR/switches-1518" cyc); GOVS_BUSY1518=$(pmdfield "$RESDIR/switches-1518" busy)
rules=$(cat "$RESDIR"/switches-*/switch-*.log 2>/dev/null | sed -n 's/.*\] rules: //p' | sort -u | paste -sd';')
"$HERE/veth-table.sh" "$OUT" "${rules:-rules unknown}" | tee "$RESDIR/table.md"
echo "results: $RESDIR (table.md, summary.txt, per-scenario runs.tsv and logs)"
