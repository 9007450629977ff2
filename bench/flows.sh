#!/bin/bash
# bench/flows.sh: OpenFlow flow installation, govs against OVS userspace in
# one run (issue 4, item 6). See bench/README.md, "flows.sh".
#
#   sudo bench/flows.sh                 # N=100000 flows, RUNS=3
#   N=20000 RUNS=1 sudo bench/flows.sh  # quick
#
# For each switch, each run: `ovs-ofctl add-flows` of N flows (plain
# ovs-ofctl: OpenFlow 1.0 + Nicira; it sends every flow-mod with a barrier
# and waits for the barrier reply), a dump of the N flows
# (`ovs-ofctl dump-flows br0 | wc -l`), `ovs-ofctl del-flows`, then
# `ovs-ofctl -O OpenFlow13 --bundle add-flows` of the same N flows (one
# atomic bundle) and del-flows again; then the bundle and the dump again
# from bench/ofload, a client that encodes before the clock starts and does
# not decode the dump, so that the time is the switch's (ovs-ofctl spends
# more CPU on those two steps than either switch). Switches alternate
# inside every run, one running at a time (a fresh start each run).
# Both switches: bridge br0, datapath_type=netdev, fail_mode=secure, two
# dummy ports, pmd-cpu-mask on SWITCH_CPU, the other threads where the
# kernel puts them (as OVS is deployed: PMDs pinned, the control threads on
# the housekeeping CPUs); the clients on CLIENT_CPU. Each switch in its own
# network namespace (gvoflows-*) and run directory under ROOT.
# CONFIGS: "dummy", those ports alone: OVS polls dummy ports from its main
# thread and runs no PMD, so its control threads also have SWITCH_CPU,
# while govs' PMD spins there; "pmd", plus an AF_XDP port on an idle veth:
# each switch spins a PMD on SWITCH_CPU, as in an OVS-DPDK deployment, and
# both have CLIENT_CPU alone for their control threads and the client.
#
# Env: N (100000), RUNS (3), SWITCH_CPU (1), CLIENT_CPU (0),
#      GOVS_SRC (HEAD: built from that commit through git archive, so
#      uncommitted changes in a shared work tree are not measured; a commit;
#      or "worktree"), GOVS_BIN (a ready binary instead),
#      RESDIR (/tmp/govs-bench/flows-<timestamp>), QUIET_WAIT (120 s),
#      QUIET_PCT (25), SKIP_OVS (1: govs only), SETTLE (1 s: a pause after
#      every step, whose switch CPU time counts to the step), CONFIGS
#      ("dummy pmd": the ports, see below).
set -euo pipefail

N=${N:-100000}
RUNS=${RUNS:-3}
SWITCH_CPU=${SWITCH_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
GOVS_SRC=${GOVS_SRC:-HEAD}
QUIET_WAIT=${QUIET_WAIT:-120}
QUIET_PCT=${QUIET_PCT:-25}
SETTLE=${SETTLE:-1}
CONFIGS=${CONFIGS:-dummy pmd}
SKIP_OVS=${SKIP_OVS:-0}
RESDIR=${RESDIR:-/tmp/govs-bench/flows-$(date +%Y%m%d-%H%M%S)}
OVS_VSWITCHD=${OVS_VSWITCHD:-/usr/lib/openvswitch-switch/ovs-vswitchd}
REPO=$(cd "$(dirname "$0")/.." && pwd)

log() { echo "[flows $(date +%H:%M:%S)] $*" >&2; }
die() { log "FATAL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
for t in ovs-vsctl ovs-ofctl ovsdb-tool ovsdb-server taskset ip; do
    command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || die "$t not installed"
done
[ "$SKIP_OVS" = 1 ] || [ -x "$OVS_VSWITCHD" ] || die "$OVS_VSWITCHD not installed (openvswitch-switch)"

ROOT=$(mktemp -d /tmp/gvoflows.XXXXXX)
mkdir -p "$RESDIR" "$ROOT/bin"
PIDS=()
NSES=()
cleanup() {
    set +e
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    cp -f "$ROOT"/*/log/*.log "$RESDIR"/ 2>/dev/null
    for p in "${NSES[@]}"; do ip netns del "$p" 2>/dev/null; done
    rm -rf "$ROOT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- govs binary
# ofload (bench/ofload) comes from the same source as govs; with GOVS_BIN,
# from the work tree.
if [ -n "${GOVS_BIN:-}" ]; then
    cp "$GOVS_BIN" "$ROOT/bin/govs"
    (cd "$REPO" && go build -o "$ROOT/bin/ofload" ./bench/ofload) || die "go build ofload"
elif [ "$GOVS_SRC" = worktree ]; then
    (cd "$REPO" && go build -o "$ROOT/bin/govs" ./cmd/govs && go build -o "$ROOT/bin/ofload" ./bench/ofload) ||
        die "go build"
else
    mkdir -p "$ROOT/src"
    (cd "$REPO" && git archive "$GOVS_SRC") | tar -x -C "$ROOT/src"
    (cd "$ROOT/src" && go build -o "$ROOT/bin/govs" ./cmd/govs) || die "go build of $GOVS_SRC"
    if [ -d "$ROOT/src/bench/ofload" ]; then
        (cd "$ROOT/src" && go build -o "$ROOT/bin/ofload" ./bench/ofload) || die "go build ofload of $GOVS_SRC"
    else # an older commit: today's client
        (cd "$REPO" && go build -o "$ROOT/bin/ofload" ./bench/ofload) || die "go build ofload"
    fi
fi
if [ -n "${GOVS_BIN:-}" ]; then
    GOVS_DESC="govs ($GOVS_BIN)"
elif [ "$GOVS_SRC" = worktree ]; then
    GOVS_DESC="govs $(cd "$REPO" && git rev-parse --short HEAD)+worktree"
else
    GOVS_DESC="govs $(cd "$REPO" && git rev-parse --short "$GOVS_SRC")"
fi

# ---------------------------------------------------------------- flows
FLOWS=$ROOT/flows.txt
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++)
    printf "priority=100,ip,nw_src=10.%d.%d.%d,nw_dst=192.168.0.1,actions=output:2\n",
        int(i / 65536) % 256, int(i / 256) % 256, i % 256 }' > "$FLOWS"

# ---------------------------------------------------------------- quiet machine
busy_pct() { # machine busy % over 1 s
    local a b
    a=$(machine_jiffies)
    sleep 1
    b=$(machine_jiffies)
    echo "$a $b" | awk '{ d = $4 - $2; printf "%d\n", (d > 0 ? 100 * ($3 - $1) / d : 0) }'
}
wait_quiet() {
    local t0=$SECONDS b
    while :; do
        b=$(busy_pct)
        [ "$b" -le "$QUIET_PCT" ] && { log "machine ${b}% busy"; return; }
        if [ $((SECONDS - t0)) -ge "$QUIET_WAIT" ]; then
            log "machine still ${b}% busy after ${QUIET_WAIT}s: measuring anyway (see foreign %)"
            return
        fi
        sleep 4
    done
}

# ---------------------------------------------------------------- switches
# pmd_tid PID: a thread of PID pinned to SWITCH_CPU alone (its PMD).
pmd_tid() {
    local t
    for t in /proc/"$1"/task/*; do
        if grep -q "^Cpus_allowed_list:[[:space:]]*$SWITCH_CPU\$" "$t/status" 2>/dev/null; then
            basename "$t"
            return 0
        fi
    done
    return 1
}

# start_switch NAME: directories, namespace gvoflows-NAME-$$, ovsdb-server
# (OVS) or govs (which runs its own), the bridge with two dummy ports.
start_switch() {
    local name=$1 d=$ROOT/$1 ns=gvoflows-$1-$$
    SW_PIDS[$name]=""
    mkdir -p "$d"/run "$d"/db "$d"/log "$d"/etc
    ip netns add "$ns"
    NSES+=("$ns")
    ip -n "$ns" link set lo up
    local env=(OVS_RUNDIR="$d/run" OVS_DBDIR="$d/db" OVS_LOGDIR="$d/log" OVS_SYSCONFDIR="$d/etc")
    if [ "$name" = ovs ]; then
        ovsdb-tool create "$d/db/conf.db" /usr/share/openvswitch/vswitch.ovsschema
        env "${env[@]}" ovsdb-server "$d/db/conf.db" --remote=punix:"$d/run/db.sock" \
            --unixctl="$d/run/ovsdb-server.ctl" --log-file="$d/log/ovsdb-server.log" \
            -vconsole:off --no-chdir &
        PIDS+=($!)
        SW_PIDS[$name]+=" $!"
        for _ in $(seq 1 100); do [ -S "$d/run/db.sock" ] && break; sleep 0.1; done
        env "${env[@]}" ovs-vsctl --db=unix:"$d/run/db.sock" --no-wait init
        ip netns exec "$ns" env "${env[@]}" "$OVS_VSWITCHD" unix:"$d/run/db.sock" \
            --unixctl="$d/run/ovs-vswitchd.ctl" --log-file="$d/log/ovs-vswitchd.log" \
            -vconsole:off --no-chdir --enable-dummy &
        PIDS+=($!)
        SW_PIDS[$name]+=" $!"
    else
        ip netns exec "$ns" env "${env[@]}" "$ROOT/bin/govs" run \
            --log-file="$d/log/govs.log" > "$d/log/govs.stdout" 2>&1 &
        PIDS+=($!)
        SW_PIDS[$name]+=" $!"
        for _ in $(seq 1 100); do [ -S "$d/run/db.sock" ] && break; sleep 0.1; done
    fi
    SW_PID[$name]=${PIDS[-1]}
    SW_NS[$name]=$ns
    local vs=(env "${env[@]}" ovs-vsctl --db=unix:"$d/run/db.sock" --timeout=30)
    for _ in $(seq 1 100); do "${vs[@]}" get Open_vSwitch . ovs_version >/dev/null 2>&1 && break; sleep 0.1; done
    "${vs[@]}" set Open_vSwitch . other_config:pmd-cpu-mask="$(printf '0x%x' $((1 << SWITCH_CPU)))" \
        -- add-br br0 -- set bridge br0 datapath_type=netdev fail_mode=secure \
        -- add-port br0 p1 -- set interface p1 type=dummy ofport_request=1 \
        -- add-port br0 p2 -- set interface p2 type=dummy ofport_request=2
    if [ "$CFG" = pmd ]; then
        # A port that only a PMD polls (AF_XDP on a veth of the switch's
        # namespace, no traffic): OVS starts a PMD thread for it on
        # SWITCH_CPU, as govs runs one for every bridge, so each switch's
        # control threads share CLIENT_CPU with the client.
        ip -n "$ns" link add pmd0 type veth peer name pmd1
        ip -n "$ns" link set pmd0 up
        ip -n "$ns" link set pmd1 up
        "${vs[@]}" add-port br0 pmd0 -- set interface pmd0 type=afxdp ofport_request=3
        local t
        for t in $(seq 1 100); do
            pmd_tid "${SW_PID[$name]}" >/dev/null && break
            sleep 0.1
        done
        pmd_tid "${SW_PID[$name]}" >/dev/null || die "$name: no thread of its own on CPU $SWITCH_CPU after adding pmd0"
    fi
    for _ in $(seq 1 100); do [ -S "$d/run/br0.mgmt" ] && break; sleep 0.1; done
    [ -S "$d/run/br0.mgmt" ] || die "$name: no br0.mgmt"
    SW_ENV[$name]="${env[*]}"
    log "$name running (pid ${SW_PID[$name]})"
}

declare -A SW_PID SW_PIDS SW_ENV SW_NS

# stop_switch NAME: stops everything start_switch started for NAME.
stop_switch() {
    local name=$1 p q keep=()
    for p in $(echo "${SW_PIDS[$name]}" | tr ' ' '\n' | tac); do # the switch first
        kill -TERM "$p" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    for q in "${PIDS[@]}"; do
        [[ " ${SW_PIDS[$name]} " == *" $q "* ]] || keep+=("$q")
    done
    PIDS=("${keep[@]}")
    cp -f "$ROOT/$name"/log/*.log "$RESDIR"/ 2>/dev/null || true
    ip netns del "${SW_NS[$name]}" 2>/dev/null || true
    rm -rf "${ROOT:?}/$name"
}

# ofctl NAME ARGS...: ovs-ofctl on CLIENT_CPU against switch NAME.
ofctl() {
    local name=$1; shift
    # shellcheck disable=SC2086
    env ${SW_ENV[$name]} taskset -c "$CLIENT_CPU" ovs-ofctl "$@"
}

# jiffies of a process tree's own time (utime+stime) and of this shell's
# reaped children (ovs-ofctl), for the foreign-CPU meter.
proc_jiffies() {
    local p s=0 v
    for p in "$@" $(pgrep -P "$1" 2>/dev/null); do
        v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null) || v=0
        s=$((s + ${v:-0}))
    done
    echo "$s"
}
# ctl_ns PID: CPU time (ns, schedstat) of PID's threads other than those
# pinned to SWITCH_CPU alone, i.e. everything but the PMD: the switch's
# control-plane work on the flow-mods, dumps and deletes.
ctl_ns() {
    local t s=0 v
    for t in /proc/"$1"/task/*; do
        grep -q "^Cpus_allowed_list:[[:space:]]*$SWITCH_CPU\$" "$t/status" 2>/dev/null && continue
        v=$(awk '{print $1}' "$t/schedstat" 2>/dev/null) || v=0
        s=$((s + ${v:-0}))
    done
    echo "$s"
}
# children_jiffies PID: the CPU time of PID's reaped children. timed runs
# in a command substitution, whose subshell reaps ovs-ofctl: it passes
# its own BASHPID (inside a further $(...) BASHPID would be that one's).
children_jiffies() { awk '{print $16 + $17}' "/proc/$1/stat"; }
machine_jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }

# timed NAME CMD...: runs CMD (output to $ROOT/out.txt) and prints
# "seconds<TAB>foreign%<TAB>switch control CPU seconds<TAB>client CPU
# seconds", foreign being the machine's busy CPU time that neither switch
# NAME nor this script's children (ovs-ofctl) spent, as a share of all
# CPUs' time over the interval: other tenants; the client's being what
# ovs-ofctl (and the pipe after it) spent.
timed() {
    local name=$1; shift
    local m0 p0 c0 t0 t1 m1 p1 c1 s0 s1 me=$BASHPID a0 a1
    # The client's CPU (c) brackets the command alone; the meters here
    # are this shell's children too, counted as ours (a) for the foreign
    # share.
    sleep "$SETTLE" # nor the untimed steps' (deletes, checks) in this one's
    a0=$(children_jiffies "$me")
    m0=$(machine_jiffies); p0=$(proc_jiffies "${SW_PID[$name]}")
    s0=$(ctl_ns "${SW_PID[$name]}")
    c0=$(children_jiffies "$me")
    t0=$(date +%s%N)
    "$@" > "$ROOT/out.txt"
    t1=$(date +%s%N)
    c1=$(children_jiffies "$me")
    # The switch's CPU is read after SETTLE: work a switch defers past its
    # reply (Go's garbage collection of a bundle, OVS's RCU frees) is the
    # step's, and must not land in the next step's time.
    sleep "$SETTLE"
    s1=$(ctl_ns "${SW_PID[$name]}")
    m1=$(machine_jiffies); p1=$(proc_jiffies "${SW_PID[$name]}")
    a1=$(children_jiffies "$me")
    echo "$m0 $m1 $p0 $p1 $c0 $c1 $t0 $t1 $s0 $s1 $a0 $a1" | awk -v hz="$CLK_TCK" '{
        busy = $3 - $1; tot = $4 - $2; ours = ($6 - $5) + ($14 - $13);
        f = tot > 0 ? 100 * (busy - ours) / tot : 0; if (f < 0) f = 0;
        printf "%.3f\t%.0f\t%.3f\t%.2f\n", ($10 - $9) / 1e9, f, ($12 - $11) / 1e9, ($8 - $7) / hz }'
}
CLK_TCK=$(getconf CLK_TCK)

flow_count() { ofctl "$1" dump-aggregate br0 | sed -n 's/.*flow_count=\([0-9]*\).*/\1/p'; }
# table_sum NAME: a digest of the flow table without counters, to check that
# ofload installs the table ovs-ofctl does.
table_sum() { ofctl "$1" --no-stats dump-flows br0 | sort | md5sum | cut -c1-32; }

# timed_ofload NAME MODE: timed, with ofload's own time (first byte sent to
# last reply; its encoding before that is not the switch's work) in place of
# the wall time, and no client CPU (it would count the encoding).
timed_ofload() {
    local name=$1 mode=$2 r s
    r=$(timed "$name" taskset -c "$CLIENT_CPU" "$ROOT/bin/ofload" -sock "$ROOT/$name/run/br0.mgmt" -n "$N" "$mode")
    s=$(cat "$ROOT/out.txt")
    [[ "$s" =~ ^[0-9.]+$ ]] || die "$name: ofload $mode said '$s'"
    echo "$r" | awk -F'\t' -v s="$s" 'BEGIN { OFS = "\t" } { $1 = s; $4 = "-"; print }'
}

# measure NAME RUN: one run's measurements, appended to runs.tsv.
measure() {
    local name=$1 run=$2 r n sum
    ofctl "$name" del-flows br0
    r=$(timed "$name" ofctl "$name" add-flows br0 "$FLOWS")
    n=$(flow_count "$name"); [ "$n" = "$N" ] || die "$name: $n flows after add-flows, want $N"
    printf '%s\t%s\t%sadd-flows\t%s\n' "$name" "$run" "$CFG_PFX" "$r" >> "$RESDIR/runs.tsv"
    r=$(timed "$name" sh -c "env ${SW_ENV[$name]} taskset -c $CLIENT_CPU ovs-ofctl dump-flows br0 | wc -l")
    n=$(grep -o '[0-9]*' "$ROOT/out.txt")
    [ "$n" -ge "$N" ] || die "$name: dump-flows printed $n lines, want at least $N"
    printf '%s\t%s\t%sdump-flows\t%s\n' "$name" "$run" "$CFG_PFX" "$r" >> "$RESDIR/runs.tsv"
    r=$(timed "$name" ofctl "$name" del-flows br0)
    printf '%s\t%s\t%sdel-flows\t%s\n' "$name" "$run" "$CFG_PFX" "$r" >> "$RESDIR/runs.tsv"
    r=$(timed "$name" ofctl "$name" -O OpenFlow13 --bundle add-flows br0 "$FLOWS")
    n=$(flow_count "$name"); [ "$n" = "$N" ] || die "$name: $n flows after the bundle, want $N"
    printf '%s\t%s\t%sbundle-add-flows\t%s\n' "$name" "$run" "$CFG_PFX" "$r" >> "$RESDIR/runs.tsv"
    sum=$(table_sum "$name")
    ofctl "$name" del-flows br0

    # The same steps with ofload, whose time is the switch's.
    r=$(timed_ofload "$name" bundle)
    [ "$(table_sum "$name")" = "$sum" ] || die "$name: ofload's bundle installed another table than ovs-ofctl's"
    printf '%s\t%s\t%sofload-bundle\t%s\n' "$name" "$run" "$CFG_PFX" "$r" >> "$RESDIR/runs.tsv"
    r=$(timed_ofload "$name" dump)
    printf '%s\t%s\t%sofload-dump\t%s\n' "$name" "$run" "$CFG_PFX" "$r" >> "$RESDIR/runs.tsv"
    ofctl "$name" del-flows br0
    log "$name run $run${CFG_PFX:+ ($CFG)}: $(grep -P "^$name\t$run\t$CFG_PFX[a-z]" "$RESDIR/runs.tsv" |
        awk -F'\t' '{printf "%s %.2fs  ", $3, $4}')"
}

# ---------------------------------------------------------------- run
SWITCHES=(ovs govs)
[ "$SKIP_OVS" = 1 ] && SWITCHES=(govs)
: > "$RESDIR/runs.tsv"
# One switch at a time: both PMDs would share SWITCH_CPU.
for CFG in $CONFIGS; do
    case $CFG in
    dummy) CFG_PFX= ;;
    pmd) CFG_PFX=pmd: ;;
    *) die "CONFIGS: dummy or pmd, not $CFG" ;;
    esac
    for run in $(seq 1 "$RUNS"); do
        for s in "${SWITCHES[@]}"; do
            wait_quiet
            start_switch "$s"
            measure "$s" "$run"
            stop_switch "$s"
        done
    done
done

# ---------------------------------------------------------------- table
{
    echo "flows.sh: N=$N flows, RUNS=$RUNS, switch CPU $SWITCH_CPU, ovs-ofctl CPU $CLIENT_CPU; $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "$GOVS_DESC; $("$OVS_VSWITCHD" --version 2>/dev/null | head -1); kernel $(uname -r); $(nproc) CPUs"
    for CFG in $CONFIGS; do
    echo
    case $CFG in
    dummy) CFG_PFX=; echo "Ports: two dummy ports. OVS runs no PMD thread (it polls dummy ports from its main thread); govs' PMD spins on CPU $SWITCH_CPU." ;;
    pmd) CFG_PFX=pmd:; echo "Ports: two dummy ports and an AF_XDP port (pmd:): each switch spins a PMD on CPU $SWITCH_CPU." ;;
    esac
    echo
    echo "| measurement | OVS s (min-max) | govs s (min-max) | OVS flows/s | govs flows/s | govs/OVS | switch CPU s OVS / govs | govs/OVS per CPU s | ovs-ofctl CPU s OVS / govs | ceiling | foreign CPU % (OVS, govs) |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    for what in add-flows bundle-add-flows dump-flows del-flows ofload-bundle ofload-dump; do
        what=$CFG_PFX$what
        awk -F'\t' -v w="$what" -v n="$N" '
            function median(a, k,   i, j, t) {
                for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
            }
            $3 == w { k[$1]++; v[$1, k[$1]] = $4; c[$1, k[$1]] = $6; u[$1, k[$1]] = $7; if ($5 > f[$1]) f[$1] = $5
                      if (!($1 in lo) || $4 < lo[$1]) lo[$1] = $4; if ($4 > hi[$1]) hi[$1] = $4 }
            END {
                for (s in k) {
                    delete a; for (i = 1; i <= k[s]; i++) a[i] = v[s, i]; m[s] = median(a, k[s])
                    delete a; for (i = 1; i <= k[s]; i++) a[i] = c[s, i]; mc[s] = median(a, k[s])
                    delete a; for (i = 1; i <= k[s]; i++) a[i] = u[s, i]; mu[s] = median(a, k[s])
                }
                o = ("ovs" in m) ? sprintf("%.2f (%.2f-%.2f)", m["ovs"], lo["ovs"], hi["ovs"]) : "-"
                g = ("govs" in m) ? sprintf("%.2f (%.2f-%.2f)", m["govs"], lo["govs"], hi["govs"]) : "-"
                ofs = ("ovs" in m) ? sprintf("%.0f", n / m["ovs"]) : "-"
                gfs = ("govs" in m) ? sprintf("%.0f", n / m["govs"]) : "-"
                r = ("ovs" in m && "govs" in m) ? sprintf("%.2fx", m["ovs"] / m["govs"]) : "-"
                cs = sprintf("%s / %s", ("ovs" in mc) ? sprintf("%.2f", mc["ovs"]) : "-", ("govs" in mc) ? sprintf("%.2f", mc["govs"]) : "-")
                rc = ("ovs" in mc && "govs" in mc && mc["govs"] > 0) ? sprintf("%.2fx", mc["ovs"] / mc["govs"]) : "-"
                us = sprintf("%s / %s", ("ovs" in mu) ? sprintf("%.2f", mu["ovs"]) : "-", ("govs" in mu) ? sprintf("%.2f", mu["govs"]) : "-")
                ce = ("ovs" in m && "govs" in mu && mu["govs"] > 0) ? sprintf("%.2fx", m["ovs"] / mu["govs"]) : "-"
                if (w ~ /ofload/) us = "-"
                printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s, %s |\n", w, o, g, ofs, gfs, r, cs, rc, us, ce, f["ovs"] + 0, f["govs"] + 0
            }' "$RESDIR/runs.tsv"
    done
    done
    echo
    echo "flows/s = N / median time (dump-flows and del-flows: flows dumped/deleted per second);"
    echo "govs/OVS = OVS time / govs time (above 1: govs faster). Switch CPU: CPU time of the switch's"
    echo "threads other than its PMD during the step (median); govs/OVS per CPU s = OVS's over govs'."
    echo "ovs-ofctl CPU: the client's own CPU time (median). Ceiling = OVS time / ovs-ofctl's CPU time"
    echo "in govs' runs: the ratio govs would reach if it took no time at all, where ovs-ofctl and the"
    echo "switch's control threads share one CPU (both here, while govs' PMD holds the other)."
    echo "Foreign CPU: the largest share of the"
    echo "machine's CPU time, during one measurement, spent by neither the switch nor ovs-ofctl (other tenants)."
} | tee "$RESDIR/table.md"
log "results in $RESDIR"
