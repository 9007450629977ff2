#!/bin/bash
# PVP loopback: govs against OVS-DPDK, in one run, on one machine.
#
# dpdk-testpmd (net_virtio_user, server=1, CPU 0) forwards between its two
# ports; the switch under test connects to them as dpdkvhostuserclient
# ports with its PMD on CPU 1, so packets circle testpmd -> switch ->
# testpmd. Both switches are measured by the peer harness
# /work/shared/peers/1-ovs-dpdk-pvp.sh: OVS-DPDK as itself, govs through
# its custom-switch hook (SWITCH_CMD = this script's "switch" mode), with
# the same rules (port rules for the io loop, in_port+udp rules for
# flowgen), the same testpmd, warm-up and window.
#
# Modes (the peer script's; MODES to choose):
#   io-64      io forward, tx_first, 60 B frames (64 B on the wire), port rules
#   io-1518    same, 1514 B frames (1518 B on the wire)
#   gen1-64    testpmd flowgen, 1 flow, 64 B, in_port+udp rules (saturating)
#   gen10k-64  flowgen, 10000 flows, 64 B, in_port+udp rules: the issue's
#              many-flow case (added to a copy of the harness, see below)
#   gen64k-64  flowgen, 65536 flows (dst IP sweep), 64 B, in_port+udp rules:
#              more flows than the 8192-entry EMC holds
# Mpps = packets the switch forwarded per second, both directions together
# (sum of testpmd's Rx-pps over its two ports). PMD busy = the share of
# the switch's PMD iterations that found packets (pmd-stats-show): well
# below 100 %, testpmd, not the switch, set the rate. testpmd cyc/pkt =
# testpmd's forwarding cycles per packet it sent (--record-core-cycles).
#
# Usage: bench/pvp.sh            (root; about 12 minutes with the defaults)
# Env:   RUNS (3) WARMUP (3) WINDOW (8) MODES OUT (bench/results/pvp-<time>)
#        PEERS (/work/shared/peers) PROFILE (1: perf profile of govs during
#        one more PROFILE_MODE (gen1-64) run, if perf is installed; RUNS=0
#        for the profile alone) MAX_FOREIGN MAX_RETRY
#        GOVS_SRC (HEAD: build govs from that commit; "worktree")
#        QUIET_WAIT (300 s) QUIET_PCT (15): wait for a quiet machine first
#
# Isolation: everything runs in network namespace gvdpvp<pid> (OVS-DPDK's
# and govs' bridge TAPs stay there; ip netns exec also gives the harness
# a private mount namespace for its hugetlbfs), under PEERS_ROOT
# /tmp/gvd-pvp-root, testpmd --file-prefix gvdpvptp. The peer harness
# adds hugepages only when they are missing and gives them back.
set -u

SELF=$(readlink -f "$0")
HERE=$(dirname "$SELF")

# ---------------------------------------------------------------- switch mode
# "pvp.sh switch port|l4": started by the peer harness (bash -c, under
# taskset -c $SWITCH_CPUS) once per measurement, with VHU0/VHU1 set. Runs
# govs in a fresh OVS_RUNDIR with its PMD on CPU 1, two
# dpdkvhostuserclient ports and the rules OVS gets, samples
# pmd-stats-show inside the measurement window, and cleans up on TERM.
if [ "${1:-}" = switch ]; then
    rules=${2:-port}
    : "${VHU0:?}" "${VHU1:?}" "${GOVS_BIN:?}" "${GVD_STATS:?}" "${RESDIR:?}"
    d=$(mktemp -d /tmp/gvd-pvp-sw.XXXXXX)
    export OVS_RUNDIR=$d/run OVS_DBDIR=$d/db OVS_LOGDIR=$d/log
    mkdir -p "$OVS_RUNDIR" "$OVS_DBDIR" "$OVS_LOGDIR"
    vsctl() { ovs-vsctl --db=unix:"$OVS_RUNDIR/db.sock" --timeout=20 "$@"; }
    ofctl() { ovs-ofctl -O OpenFlow13 "$@"; }
    appctl() { ovs-appctl -t ovs-vswitchd "$@"; }   # finds $OVS_RUNDIR/ovs-vswitchd.pid
    gpid="" spid=""
    cleanup() {
        # ignore the harness' TERM meanwhile: it signals every process of
        # the tree in turn, this script right after govs
        trap '' TERM INT
        trap - EXIT
        # the sampler first: the harness only killed the children it saw
        if [ -n "$spid" ]; then pkill -P "$spid" 2>/dev/null; kill "$spid" 2>/dev/null; fi
        if [ -n "$gpid" ] && kill -0 "$gpid" 2>/dev/null; then
            kill -TERM "$gpid"
            for _ in $(seq 40); do kill -0 "$gpid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$gpid" 2>/dev/null
        fi
        [ -n "$gpid" ] && wait "$gpid" 2>/dev/null
        cp -f "$OVS_LOGDIR"/*.log "$(dirname "$GVD_STATS")"/ 2>/dev/null
        rm -rf "$d"
        exit 0
    }
    trap cleanup TERM INT EXIT
    # setsid: a session of its own, as OVS has (--detach). With the
    # kernel's autogroup scheduling each session is one scheduling entity:
    # left in the harness' session, govs' PMD would share one weight with
    # testpmd and get about half the CPU-1 time OVS's PMD gets under load.
    setsid "$GOVS_BIN" run --log-file="$OVS_LOGDIR/govs-$(date +%H%M%S).log" &
    gpid=$!
    echo "$gpid" > "$(dirname "$GVD_STATS")/govs.pid"
    for _ in $(seq 100); do vsctl --timeout=1 get Open_vSwitch . ovs_version >/dev/null 2>&1 && break; sleep 0.1; done
    vsctl set Open_vSwitch . other_config:pmd-cpu-mask=0x2
    vsctl add-br br0 -- set bridge br0 datapath_type=netdev
    for i in 0 1; do
        path=$VHU0; [ $i = 1 ] && path=$VHU1
        vsctl add-port br0 vhu$i -- set Interface vhu$i type=dpdkvhostuserclient \
            options:vhost-server-path="$path" ofport_request=$((i + 1))
    done
    for _ in $(seq 100); do [ -S "$OVS_RUNDIR/br0.mgmt" ] && break; sleep 0.1; done
    ofctl del-flows br0
    if [ "$rules" = port ]; then
        ofctl add-flow br0 in_port=1,actions=output:2
        ofctl add-flow br0 in_port=2,actions=output:1
    else
        ofctl add-flow br0 priority=10,in_port=1,udp,actions=output:2
        ofctl add-flow br0 priority=10,in_port=2,udp,actions=output:1
    fi
    # pmd-stats over the window (the harness does this for OVS only):
    # clear once warm, read just before the window closes.
    (
        trap - TERM INT EXIT
        sleep "$(awk -v a="${SWITCH_SETTLE:-2}" -v b="$WARMUP" 'BEGIN{print a+b+2}')"
        appctl dpif-netdev/pmd-stats-clear >/dev/null 2>&1 || exit 0
        sleep "$(awk -v w="$WINDOW" 'BEGIN{print (w>3)?w-2:1}')"
        # the measurement's mode: the harness' newest testpmd log is its own
        m=$(ls -t "$RESDIR"/testpmd-*.log 2>/dev/null | head -1 | sed 's/.*testpmd-\(.*\)-[0-9]*\.log$/\1/')
        { echo "# mode=$m $(date +%T) rules=$rules"; appctl dpif-netdev/pmd-stats-show -pmd 1; } >> "$GVD_STATS" 2>&1
    ) &
    spid=$!
    wait "$gpid"
    gpid=""
    exit 0
fi

# ---------------------------------------------------------------- main
PEERS=${PEERS:-/work/shared/peers}
RUNS=${RUNS:-3}
export WARMUP=${WARMUP:-3} WINDOW=${WINDOW:-8} SWITCH_SETTLE=${SWITCH_SETTLE:-2}
# A run with other tenants' load above MAX_FOREIGN % of the machine is
# repeated MAX_RETRY times at most (the harness' defaults: 15 %, 2).
export MAX_FOREIGN=${MAX_FOREIGN:-15} MAX_RETRY=${MAX_RETRY:-1}
MODES=${MODES:-"io-64 io-1518 gen1-64 gen10k-64 gen64k-64"}
OUT=${OUT:-$HERE/results/pvp-$(date +%Y%m%d-%H%M%S)}
export PEERS_ROOT=/tmp/gvd-pvp-root TP_PREFIX=gvdpvptp SWITCH_CPUS=0
NS=gvdpvp$$

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { log "FATAL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (hugepages, netns)"
for c in dpdk-testpmd ovs-vsctl ovs-ofctl ovs-appctl go; do
    command -v $c >/dev/null || die "$c not installed"
done
[ -x "$PEERS/1-ovs-dpdk-pvp.sh" ] || die "no $PEERS/1-ovs-dpdk-pvp.sh"
[ -e "$PEERS_ROOT" ] && die "$PEERS_ROOT exists (stale run? inspect and remove it)"
# The harness' OVS-DPDK uses the fixed DPDK prefix peersovs: one PVP run
# on the machine at a time.
pgrep -f 'file-prefix=peersovs' >/dev/null && die "another OVS-DPDK PVP run is in progress"
mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")

# The peer harness runs from a copy with two additions, made by sed and
# checked, so that both switches still get the same harness:
#  - mode gen10k-64: flowgen with 10 000 flows, the issue's many-flow case
#    (the harness has 1 and 65 536);
#  - testpmd's own cost: --record-core-cycles, its forwarding statistics
#    cleared when the window opens and shown when it closes, so that the
#    table can say how many cycles testpmd spent per packet it sent (when
#    that is what sets the rate, the switch's PMD idles).
HARNESS=$OUT/peers
rm -rf "$HARNESS"; cp -a "$PEERS" "$HARNESS" || die "copy $PEERS"
sed -i \
    -e '/^        gen64k-64) fwd=flowgen; rules=l4;/a\        gen10k-64) fwd=flowgen; rules=l4; size=64;   flows=10000 ;;   # added by govs bench/pvp.sh' \
    -e 's/^\(TP_APP=(.*\))$/\1 --record-core-cycles)/' \
    -e 's/^    noise_start "\$TP_PID".*$/&\n    tp_cmd "clear fwd stats all"/' \
    -e '/^    local l0; l0=\$(tp_lines)$/{n;s/^    tp_cmd "show port stats all"$/&\n    tp_cmd "show fwd stats all"/}' \
    "$HARNESS/1-ovs-dpdk-pvp.sh"
for want in 'gen10k-64) fwd=flowgen' '--record-core-cycles)$' 'tp_cmd "clear fwd stats all"' 'tp_cmd "show fwd stats all"'; do
    [ "$(grep -c -e "$want" "$HARNESS/1-ovs-dpdk-pvp.sh")" = 1 ] || die "$PEERS/1-ovs-dpdk-pvp.sh changed: cannot add \"$want\""
done

# Wait (up to QUIET_WAIT s) for the machine to be quiet: no other run of
# the peer harness (another benchmark would share both CPUs with this one)
# and less than QUIET_PCT % busy over 5 s.
busy_pct() {
    local a b
    a=$(awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat); sleep 5
    b=$(awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat)
    echo "$a $b" | awk '{printf "%.0f", ($3-$1)/($4-$2)*100}'
}
QUIET_WAIT=${QUIET_WAIT:-300} QUIET_PCT=${QUIET_PCT:-15}
deadline=$(( $(date +%s) + QUIET_WAIT ))
while :; do
    other=$(pgrep -f "$PEERS/[0-9]-|/peers/1-ovs-dpdk-pvp.sh" | head -1); b=$(busy_pct)
    [ -z "$other" ] && [ "$b" -lt "$QUIET_PCT" ] && break
    if [ "$(date +%s)" -ge "$deadline" ]; then
        log "machine not quiet after ${QUIET_WAIT}s (busy ${b}%${other:+, peer harness pid $other running}); measuring anyway"
        break
    fi
    log "waiting for a quiet machine (busy ${b}%${other:+, peer harness pid $other running})"
done

MON_PID=""; PERF_PID=""
cleanup() {
    trap - EXIT
    rm -f "$OUT/.monitor"
    [ -n "$MON_PID" ] && wait "$MON_PID" 2>/dev/null
    [ -n "$PERF_PID" ] && kill "$PERF_PID" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# The binary stays with the results (perf annotate needs it). It is built
# from GOVS_SRC: HEAD (default) or another commit through git archive, so
# that others' uncommitted changes in a shared work tree are not measured
# by accident, or "worktree" for the files as they are.
GOVS_SRC=${GOVS_SRC:-HEAD}
if [ "$GOVS_SRC" = worktree ]; then
    (cd "$HERE/.." && go build -o "$OUT/govs" ./cmd/govs) || die "go build"
    GOVS_REV="$(cd "$HERE/.." && git describe --always --dirty) (work tree)"
else
    src=$(mktemp -d /tmp/gvd-pvp-src.XXXXXX)
    (cd "$HERE/.." && git archive "$GOVS_SRC") | tar -x -C "$src" || die "git archive $GOVS_SRC"
    (cd "$src" && go build -o "$OUT/govs" ./cmd/govs) || { rm -rf "$src"; die "go build"; }
    rm -rf "$src"
    GOVS_REV=$(cd "$HERE/.." && git rev-parse --short "$GOVS_SRC")
fi
export GOVS_BIN=$OUT/govs
ip netns add "$NS" || die "netns $NS"
ip -n "$NS" link set lo up

# ---------------------------------------------------------------- PMD CPU share
# Other tenants' load takes CPU 1 from the switch's PMD (a runnable PMD
# waits for the CPU), which lowers both switches' Mpps by however much
# they happened to lose. The monitor samples the PMD thread's on-CPU time
# (/proc/.../schedstat) once a second, so each measurement also gets the
# share of the window the PMD actually ran, and Mpps / share: the rate per
# PMD core-second, comparable under load. PMD threads: OVS's "pmd-c01*" of
# the ovs-vswitchd-dpdk under $PEERS_ROOT, govs' thread pinned to CPU 1.
pmd_tid() {   # -> "switch pid tid" of the PMD running now
    local p t
    for p in $(pgrep -f "ovs-vswitchd-dpdk unix:$PEERS_ROOT/"; pgrep -f "^$GOVS_BIN run"); do
        for t in /proc/"$p"/task/*; do
            case $(cat "$t/comm" 2>/dev/null) in
            pmd-c01*) echo "ovs $p ${t##*/}"; return ;;
            govs) grep -q '^Cpus_allowed_list:[[:space:]]*1$' "$t/status" 2>/dev/null && { echo "govs $p ${t##*/}"; return; } ;;
            esac
        done
    done
}
monitor() {   # -> $OUT/pmdcpu.tsv: time, testpmd log, prompts seen, switch, tid, PMD run ns
    local log sw pid tid run
    taskset -cp 0 $BASHPID >/dev/null   # off the PMD's CPU
    while [ -e "$OUT/.monitor" ]; do
        log=$(ls -t "$OUT"/*/testpmd-*.log 2>/dev/null | head -1)
        read -r sw pid tid < <(pmd_tid)
        if [ -n "$log" ] && [ -n "${tid:-}" ]; then
            run=$(awk '{print $1}' /proc/"$pid"/task/"$tid"/schedstat 2>/dev/null)
            printf "%s\t%s\t%d\t%s\t%s\t%s\n" "$(date +%s.%N)" "${log#"$OUT"/}" \
                "$(grep -c 'testpmd> ' "$log" 2>/dev/null)" "$sw" "$tid" "${run:-0}" >> "$OUT/pmdcpu.tsv"
        fi
        sleep 1
    done
}
touch "$OUT/.monitor"
monitor &
MON_PID=$!

# peers <tag> <env...>: one run of the peer harness in our namespace.
peers() {
    local tag=$1; shift
    log "== $tag"
    env "$@" RESDIR="$OUT/$tag" ip netns exec "$NS" "$HARNESS/1-ovs-dpdk-pvp.sh" 2>&1 | tee "$OUT/$tag.log" | grep -E 'FATAL|WARN|^ovs-dpdk-pvp|^custom-pvp' >&2
}
portmodes=""; l4modes=""
for m in $MODES; do
    case $m in io-*|*-portrules) portmodes="$portmodes $m" ;; *) l4modes="$l4modes $m" ;; esac
done
{
    echo "# PVP govs vs OVS-DPDK, $(date -Is), $(uname -r), govs $GOVS_REV"
    echo "# RUNS=$RUNS WARMUP=$WARMUP WINDOW=$WINDOW MODES=$MODES"
} > "$OUT/summary.txt"

# Interleaved, one run of each at a time, so that load from other tenants
# that comes and goes falls on both switches alike.
for r in $(seq "$RUNS"); do
    peers ovs-r$r RUNS=1 MODES="$MODES" SWITCH=ovs
    [ -n "$portmodes" ] && peers govs-port-r$r RUNS=1 MODES="$portmodes" SWITCH=custom \
        SWITCH_CMD="$SELF switch port" GVD_STATS="$OUT/govs-port-r$r/pmdstats.txt"
    [ -n "$l4modes" ] && peers govs-l4-r$r RUNS=1 MODES="$l4modes" SWITCH=custom \
        SWITCH_CMD="$SELF switch l4" GVD_STATS="$OUT/govs-l4-r$r/pmdstats.txt"
done

# A perf profile of govs (every thread; the PMD dominates) during one
# more run of PROFILE_MODE (gen1-64), when perf is installed (PROFILE=0
# to skip; RUNS=0 PROFILE_MODE=gen64k-64 profiles only).
if [ "${PROFILE:-1}" = 1 ] && command -v perf >/dev/null; then
    pidf=$OUT/govs-profile/govs.pid
    (
        for _ in $(seq 300); do [ -s "$pidf" ] && break; sleep 0.1; done
        sleep "$(awk -v a="$SWITCH_SETTLE" -v b="$WARMUP" 'BEGIN{print a+b+1}')"
        perf record -F 999 -g -p "$(cat "$pidf")" -o "$OUT/perf.data" -- sleep "$WINDOW" >/dev/null 2>&1
    ) &
    PERF_PID=$!
    peers govs-profile RUNS=1 MODES="${PROFILE_MODE:-gen1-64}" SWITCH=custom SWITCH_CMD="$SELF switch l4" \
        GVD_STATS="$OUT/govs-profile/pmdstats.txt"
    wait "$PERF_PID"; PERF_PID=""
    perf report -i "$OUT/perf.data" --no-children --sort symbol --stdio -g none 2>/dev/null |
        grep '%' | head -40 > "$OUT/perf-top.txt"
fi
rm -f "$OUT/.monitor"; wait "$MON_PID"; MON_PID=""

# ---------------------------------------------------------------- table
# Per mode: median Mpps (packets forwarded per second, both directions)
# with min-max over the runs, the PMD's CPU share of the window (median),
# Mpps per PMD core-second (median of each run's Mpps / share), govs/OVS
# ratios of both, and processing cycles per packet from each switch's
# pmd-stats (OVS: TSC cycles; govs counts nanoseconds, times the TSC rate;
# both include time the PMD lost to other tenants during busy iterations).
tsc=$(awk '/^cpu MHz/{print $4/1000; exit}' /proc/cpuinfo)
median() { sort -g | awk '{v[NR]=$1} END{if(NR==0){print "nan"; exit} printf "%.3f", (NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2}'; }
range() { sort -g | awk '{v[NR]=$1} END{if(NR) printf "%.2f-%.2f", v[1], v[NR]}'; }
# share <tag-prefix> <mode>: PMD CPU share in each run's window
share() {
    awk -F'\t' -v pre="$1/" -v re="/testpmd-$2-[0-9]+[.]log$" -v off="$(awk -v a="$SWITCH_SETTLE" -v b="$WARMUP" 'BEGIN{print a+b+1}')" -v w="$WINDOW" '
        index($2, pre) == 1 && $2 ~ re {
            k = $2
            # a retry rewrites the same log: start over when testpmd restarts
            if ($3 == 0 || $5 != tid[k]) { delete p[k]; delete t0[k]; delete t1[k]; tid[k] = $5 }
            if ($3 > 0 && !(k in p)) p[k] = $1
            if ((k in p) && $1 >= p[k] + off && $1 <= p[k] + off + w - 1) {
                if (!(k in t0)) { t0[k] = $1; r0[k] = $6 }
                t1[k] = $1; r1[k] = $6
            }
        }
        END { for (k in t0) if (t1[k] > t0[k] + 1) printf "%s %.3f\n", k, (r1[k] - r0[k]) / 1e9 / (t1[k] - t0[k]) }' "$OUT/pmdcpu.tsv" 2>/dev/null
}
# rows <tag> <mode>: "mpps share" per accepted run (a noisy run's retry
# reuses the log name, so the share is of the last attempt, as the row is)
rows() {
    local d m=$2
    for d in "$OUT/$1"-r*; do
        [ -f "$d/runs.tsv" ] || continue
        awk -F'\t' -v m="$m" '$1==m{print $3}' "$d/runs.tsv" | tail -1 | while read -r mpps; do
            printf "%s %s\n" "$mpps" "$(share "${d##*/}" "$m" | awk '{print $2}' | tail -1)"
        done
    done
}
col() { cat "$OUT/$1"-r*/runs.tsv 2>/dev/null | awk -F'\t' -v m="$2" -v c="$3" '$1==m{print $c}'; }
govs_cyc() {   # tag mode -> median over runs of processing ns/pkt x TSC GHz
    local f
    for f in "$OUT/$1"-r*/pmdstats.txt; do
        [ -f "$f" ] || continue
        # the last sample of that mode (a noisy run's retry comes after it)
        awk -v m="$2" '/^# mode=/{cur=substr($2,6)} cur==m && /avg processing cycles per packet:/{v=$6} END{if(v!="") print v}' "$f"
    done | median | awk -v g="$tsc" '$1!="nan"{printf "%.0f", $1*g; next}{print}'
}
govs_busy() {  # tag mode -> median over runs of the PMD's busy share (pmd-stats)
    local f
    for f in "$OUT/$1"-r*/pmdstats.txt; do
        [ -f "$f" ] || continue
        awk -v m="$2" '/^# mode=/{cur=substr($2,6)} cur==m && /processing cycles:/{v=$4} END{gsub(/[(%)]/, "", v); if(v!="") print v}' "$f"
    done | median | awk '$1!="nan"{printf "%.0f%%", $1; next}{print "n/a"}'
}
tp_cyc() {     # tag mode -> median over runs of testpmd's CPU cycles per packet sent
    local f
    for f in "$OUT/$1"-r*/testpmd-"$2"-[0-9]*.log; do
        [ -f "$f" ] || continue
        sed -n 's/.*CPU cycles\/packet=\([0-9.]*\).*/\1/p' "$f" | tail -1
    done | median | awk '$1!="nan"{printf "%.0f", $1; next}{print "n/a"}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{if(b>0 && a!="nan") printf "%.2fx", a/b; else print "n/a"}'; }
{
    echo "| mode | OVS-DPDK Mpps [min-max] | govs Mpps [min-max] | govs/OVS | PMD CPU share OVS / govs | Mpps per PMD core OVS / govs | govs/OVS per core | cyc/pkt OVS / govs | PMD busy OVS / govs | testpmd cyc/pkt OVS / govs | foreign CPU % OVS / govs |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    for m in $MODES; do
        g=govs-l4; case $m in io-*|*-portrules) g=govs-port ;; esac
        o=$(col ovs "$m" 3 | median); or=$(col ovs "$m" 3 | range)
        v=$(col $g "$m" 3 | median); vr=$(col $g "$m" 3 | range)
        os=$(rows ovs "$m" | awk 'NF==2{print $2}' | median); vs=$(rows $g "$m" | awk 'NF==2{print $2}' | median)
        oc=$(rows ovs "$m" | awk 'NF==2 && $2>0{print $1/$2}' | median); vc=$(rows $g "$m" | awk 'NF==2 && $2>0{print $1/$2}' | median)
        ocyc=$(col ovs "$m" 6 | median | awk '$1!="nan"{printf "%.0f", $1; next}{print}')
        fo=$(col ovs "$m" 13 | median | awk '{printf "%.0f", $1}'); fg=$(col $g "$m" 13 | median | awk '{printf "%.0f", $1}')
        ob=$(col ovs "$m" 5 | median | awk '$1!="nan"{printf "%.0f%%", $1; next}{print "n/a"}')
        printf "| %s | %s [%s] | %s [%s] | %s | %s / %s | %s / %s | %s | %s / %s | %s / %s | %s / %s | %s / %s |\n" \
            "$m" "$o" "$or" "$v" "$vr" "$(ratio "$v" "$o")" \
            "$(awk -v x="$os" 'BEGIN{printf (x=="nan")?"n/a":"%.0f%%", x*100}')" \
            "$(awk -v x="$vs" 'BEGIN{printf (x=="nan")?"n/a":"%.0f%%", x*100}')" \
            "$oc" "$vc" "$(ratio "$vc" "$oc")" "$ocyc" "$(govs_cyc $g "$m")" \
            "$ob" "$(govs_busy $g "$m")" "$(tp_cyc ovs "$m")" "$(tp_cyc $g "$m")" "$fo" "$fg"
    done
} | tee -a "$OUT/summary.txt"
if [ -s "$OUT/perf-top.txt" ]; then
    { echo; echo "# perf, govs process, ${PROFILE_MODE:-gen1-64} (top symbols)"; head -25 "$OUT/perf-top.txt"; } | tee -a "$OUT/summary.txt"
fi
log "results in $OUT"
