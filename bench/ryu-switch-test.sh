#!/bin/bash
# Ryu's OpenFlow 1.3 switch test suite against govs (or OVS), on this machine.
# See docs/CONFORMANCE.md.
#
#   RYU_TESTS=/path/to/ryu/tests/switch/of13 bench/ryu-switch-test.sh
#   RYU_TESTS=... TARGET=ovs bench/ryu-switch-test.sh
#
# The tester is os-ken's copy of Ryu's switch tester app
# (os_ken.tests.switch.tester, Debian python3-os-ken). The JSON test
# definitions are not packaged: RYU_TESTS is a directory of them (Ryu's
# ryu/tests/switch/of13, or any subdirectory or single file of it). They
# are never copied into this repository.
#
# Topology (tester.py's defaults: target ports 1,2,3 <-> tester ports 1,2,3):
#
#   netns $NS-tgt                               netns $NS-tst
#   target switch (dpid 1)                      tester switch (dpid 2)
#     port 1  t1 <------------ veth ------------> s1  port 1
#     port 2  t2 <------------ veth ------------> s2  port 2
#     port 3  t3 <------------ veth ------------> s3  port 3
#     controller tcp:10.255.0.1  <- ctl veth ->  osken-manager (tester app)
#                                                 on 10.255.0.1:6653
#
# Target: TARGET=govs (default): `govs run` with bridge datapath_type=netdev,
# ports of TARGET_PORT_TYPE (system: AF_PACKET; or afxdp). TARGET=ovs: OVS
# 3.1's ovs-vswitchd with datapath_type=netdev and system ports, so both are
# measured the same way. The tester switch is always OVS userspace
# (datapath_type=netdev, system ports). Each switch runs in a network
# namespace of its own (two userspace ovs-vswitchd would fight over the
# "ovs-netdev" TAP in one namespace), with its own OVS_RUNDIR/DBDIR/LOGDIR
# under $RUNDIR. IPv6 is off in both namespaces so the kernel sends nothing
# (router solicitations, MLD) into the switch ports while tests run.
#
# os-ken runs Ryu's test files on Python 3, where the files' payloads
# ('\x01\x02...'), TCP options and SCTP chunk data are str, not bytes, and
# os-ken's SCTP checksum walks the text of a bytearray's repr. A small shim
# module, loaded as an extra os-ken app, encodes those strings as latin-1
# and computes the CRC32c over the bytes. It changes no test.
#
# Output: each test's result as the tester logs it, then a summary: passed
# and failed counts, and every failing test (file, test, reason). The whole
# tester log and the switches' logs stay in $RUNDIR when KEEP=1.
#
# Env: RYU_TESTS (required) TARGET (govs|ovs) TARGET_PORT_TYPE (system)
#      GOVS_BIN (default: go build ./cmd/govs from the work tree)
#      RUNDIR (default /tmp/ryu-switch-test-$TARGET-<pid>) NS (netns prefix,
#      default rst<pid>) TIMEOUT (whole run, s; default 14400) KEEP (0)
#      INTERVAL (tester's pause between tests, s; default 0)
# Needs root, openvswitch-switch, python3-os-ken (/usr/bin/python3).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
TARGET=${TARGET:-govs}
TARGET_PORT_TYPE=${TARGET_PORT_TYPE:-system}
RUNDIR=${RUNDIR:-/tmp/ryu-switch-test-$TARGET-$$}
NS=${NS:-rst$$}
TIMEOUT=${TIMEOUT:-14400}
PY=/usr/bin/python3
CTL_PORT=6653

die() { echo "ryu-switch-test: $*" >&2; exit 1; }
log() { echo "[ryu-switch-test $(date +%H:%M:%S)] $*" >&2; }
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
[ -n "${RYU_TESTS:-}" ] && [ -e "$RYU_TESTS" ] || die "set RYU_TESTS to Ryu's tests/switch/of13 (or a part of it)"
RYU_TESTS=$(cd "$(dirname "$RYU_TESTS")" && echo "$PWD/$(basename "$RYU_TESTS")")
case $TARGET in govs|ovs) ;; *) die "TARGET is govs or ovs" ;; esac
$PY -c 'import os_ken.tests.switch.tester' 2>/dev/null || die "$PY has no os_ken (apt install python3-os-ken)"
for t in ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl; do
    command -v $t >/dev/null || [ -x /usr/sbin/$t ] || die "$t missing (openvswitch-switch)"
done
PATH=$PATH:/usr/sbin
[ -e "$RUNDIR" ] && [ -n "$(ls -A "$RUNDIR")" ] && die "$RUNDIR is not empty (a stale run?)"
mkdir -p "$RUNDIR" || die "mkdir $RUNDIR"

# Cleanup undoes, in reverse order, only what this run started.
CLEANUP=()
on_exit() { CLEANUP+=("$*"); }
cleanup() {
    local i
    for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do eval "${CLEANUP[$i]}" >/dev/null 2>&1; done
    if [ "${KEEP:-0}" = 1 ]; then log "logs kept in $RUNDIR"; else rm -rf "$RUNDIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
kill_pid() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid"
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid"
}

# ---- namespaces and links
for side in tgt tst; do
    ip netns add "$NS-$side" || die "netns $NS-$side exists (stale run?)"
    on_exit "ip netns del $NS-$side"
    ip -n "$NS-$side" link set lo up
    ip netns exec "$NS-$side" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
for i in 1 2 3; do
    ip link add t$i netns "$NS-tgt" type veth peer name s$i netns "$NS-tst" || die "veth $i"
    ip -n "$NS-tgt" link set t$i up
    ip -n "$NS-tst" link set s$i up
done
ip link add ctl0 netns "$NS-tgt" type veth peer name ctl1 netns "$NS-tst" || die "ctl veth"
ip -n "$NS-tgt" addr add 10.255.0.2/30 dev ctl0
ip -n "$NS-tst" addr add 10.255.0.1/30 dev ctl1
ip -n "$NS-tgt" link set ctl0 up
ip -n "$NS-tst" link set ctl1 up

# ---- the tester app, first, so both switches find it listening
cat >"$RUNDIR/ryu_py3_payloads.py" <<'EOF'
# Ryu's switch test files were written for Python 2: raw payloads, TCP
# options and SCTP chunk data are str literals. Encode them (latin-1, byte
# for byte) so os-ken's packet library can serialize them on Python 3.
from os_ken.lib.packet import packet, sctp, tcp

_add = packet.Packet.add_protocol


def add_protocol(self, proto):
    if isinstance(proto, str):
        proto = proto.encode('latin-1')
    return _add(self, proto)


packet.Packet.add_protocol = add_protocol

_tcp_init = tcp.tcp.__init__


def tcp_init(self, *args, **kwargs):
    if isinstance(kwargs.get('option'), str):
        kwargs['option'] = kwargs['option'].encode('latin-1')
    _tcp_init(self, *args, **kwargs)


tcp.tcp.__init__ = tcp_init

_chunk_init = sctp.chunk_data.__init__


def chunk_init(self, *args, **kwargs):
    if isinstance(kwargs.get('payload_data'), str):
        kwargs['payload_data'] = kwargs['payload_data'].encode('latin-1')
    _chunk_init(self, *args, **kwargs)


sctp.chunk_data.__init__ = chunk_init

# sctp._checksum walks str(data): on Python 3 that is the text
# "bytearray(b'...')", so every SCTP checksum the tester builds or expects
# would be wrong. Give it the bytes as a latin-1 str instead.
_sctp_checksum = sctp.sctp._checksum


def sctp_checksum(self, data):
    return _sctp_checksum(self, bytes(data).decode('latin-1'))


sctp.sctp._checksum = sctp_checksum
EOF
TLOG=$RUNDIR/tester.log
ip netns exec "$NS-tst" $PY /usr/bin/osken-manager --ofp-listen-host 10.255.0.1 \
    --ofp-tcp-listen-port $CTL_PORT --test-switch-dir "$RYU_TESTS" \
    --test-switch-target 0000000000000001 --test-switch-tester 0000000000000002 \
    --test-switch-interval "${INTERVAL:-0}" \
    "$RUNDIR/ryu_py3_payloads.py" os_ken.tests.switch.tester >"$TLOG" 2>&1 &
OSKEN_PID=$!
on_exit "kill_pid $OSKEN_PID"
for _ in $(seq 1 100); do
    ip netns exec "$NS-tst" ss -Hltn "sport = :$CTL_PORT" | grep -q $CTL_PORT && break
    kill -0 $OSKEN_PID 2>/dev/null || { cat "$TLOG"; die "osken-manager exited"; }
    sleep 0.1
done

# ---- switches
# ovs_env DIR: the OVS_* variables of a switch whose files live under DIR.
ovs_env() { echo "OVS_RUNDIR=$1/run OVS_DBDIR=$1/db OVS_LOGDIR=$1/log OVS_SYSCONFDIR=$1/etc"; }
vsctl() { local d=$1 ns=$2; shift 2; ip netns exec "$ns" ovs-vsctl --db=unix:"$d"/run/db.sock --timeout=30 "$@"; }

# start_ovs DIR NS: ovsdb-server and userspace ovs-vswitchd.
start_ovs() {
    local d=$1 ns=$2 p
    mkdir -p "$d"/run "$d"/db "$d"/log "$d"/etc
    ovsdb-tool create "$d/db/conf.db" /usr/share/openvswitch/vswitch.ovsschema || die ovsdb-tool
    ip netns exec "$ns" ovsdb-server "$d/db/conf.db" --remote=punix:"$d"/run/db.sock \
        --pidfile="$d"/run/ovsdb-server.pid --unixctl="$d"/run/ovsdb-server.ctl \
        --log-file="$d"/log/ovsdb-server.log -vconsole:off --no-chdir --detach 2>>"$d"/log/start.err || die "ovsdb-server"
    p=$(cat "$d"/run/ovsdb-server.pid)
    on_exit "kill_pid $p"
    vsctl "$d" "$ns" --no-wait init
    # shellcheck disable=SC2046
    env $(ovs_env "$d") ip netns exec "$ns" ovs-vswitchd unix:"$d"/run/db.sock \
        --pidfile="$d"/run/ovs-vswitchd.pid --unixctl="$d"/run/ovs-vswitchd.ctl \
        --log-file="$d"/log/ovs-vswitchd.log -vconsole:off --no-chdir --detach 2>>"$d"/log/start.err || die "ovs-vswitchd"
    p=$(cat "$d"/run/ovs-vswitchd.pid)
    on_exit "kill_pid $p"
}

# start_govs DIR NS: `govs run`, which supervises its own ovsdb-server.
start_govs() {
    local d=$1 ns=$2 ok=0
    mkdir -p "$d"/run "$d"/db "$d"/log "$d"/etc
    if [ -z "${GOVS_BIN:-}" ]; then
        GOVS_BIN=$RUNDIR/govs
        (cd "$REPO" && go build -o "$GOVS_BIN" ./cmd/govs) || die "go build ./cmd/govs failed (or set GOVS_BIN)"
    fi
    # shellcheck disable=SC2046
    env $(ovs_env "$d") ip netns exec "$ns" "$GOVS_BIN" run >"$d"/log/govs.out 2>&1 &
    local p=$!
    on_exit "kill_pid $p"
    for _ in $(seq 1 150); do
        out=$(vsctl "$d" "$ns" --timeout=1 get Open_vSwitch . ovs_version 2>/dev/null) && [ "$out" != "[]" ] && { ok=1; break; }
        kill -0 $p 2>/dev/null || break
        sleep 0.1
    done
    [ $ok = 1 ] || { cat "$d"/log/govs.out; die "govs did not come up"; }
}

# bridge DIR NS NAME DPID PREFIX PORTTYPE CONTROLLER
bridge() {
    local d=$1 ns=$2 br=$3 dpid=$4 pfx=$5 type=$6 ctl=$7 i of
    vsctl "$d" "$ns" add-br "$br" -- set bridge "$br" datapath_type=netdev fail_mode=secure \
        protocols=OpenFlow13 other-config:datapath-id="$dpid" other-config:disable-in-band=true || die "add-br $br"
    for i in 1 2 3; do
        vsctl "$d" "$ns" add-port "$br" $pfx$i -- set Interface $pfx$i type="$type" ofport_request=$i || die "add-port $pfx$i"
    done
    for i in 1 2 3; do
        for _ in $(seq 1 100); do
            of=$(vsctl "$d" "$ns" get Interface $pfx$i ofport 2>/dev/null)
            case $of in '' | '[]' | -1 | 0) sleep 0.1 ;; *) break ;; esac
        done
        [ "$of" = $i ] || die "$br: $pfx$i got ofport '$of': $(vsctl "$d" "$ns" get Interface $pfx$i error)"
    done
    vsctl "$d" "$ns" set-controller "$br" "$ctl" || die "set-controller $br"
}

start_ovs "$RUNDIR/tester" "$NS-tst"
bridge "$RUNDIR/tester" "$NS-tst" br-tst 0000000000000002 s system tcp:10.255.0.1:$CTL_PORT
if [ "$TARGET" = ovs ]; then
    start_ovs "$RUNDIR/target" "$NS-tgt"
    TARGET_DESC="OVS $(ovs-vswitchd --version | head -1 | awk '{print $NF}') userspace, system ports"
else
    GOVS_DESC=${GOVS_BIN:+$GOVS_BIN}
    start_govs "$RUNDIR/target" "$NS-tgt"
    TARGET_DESC="govs ${GOVS_DESC:-$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO" diff --quiet HEAD -- . 2>/dev/null || echo '+changes')}, $TARGET_PORT_TYPE ports"
fi
bridge "$RUNDIR/target" "$NS-tgt" br-tgt 0000000000000001 t "$TARGET_PORT_TYPE" tcp:10.255.0.1:$CTL_PORT
log "target: $TARGET_DESC; tests: $RYU_TESTS; log: $TLOG"

# ---- run: the tester ends itself (SIGTERM to its own process) after the report
start=$(date +%s)
tail -n +1 -f "$TLOG" --pid=$OSKEN_PID | grep --line-buffered -E '^    [^ ].* (OK|ERROR)$|^        [^ ]' &
TAIL_PID=$!
while kill -0 $OSKEN_PID 2>/dev/null; do
    [ $(($(date +%s) - start)) -gt "$TIMEOUT" ] && { log "timeout after $TIMEOUT s"; kill_pid $OSKEN_PID; }
    sleep 1
done
wait $TAIL_PID 2>/dev/null

# ---- summary: result lines are "    <test> OK|ERROR", a failure's reason
# follows on a line of its own; file titles are lines without indentation.
$PY - "$TLOG" "$TARGET_DESC" $(($(date +%s) - start)) <<'EOF'
import re, sys
path, desc, secs = sys.argv[1], sys.argv[2], sys.argv[3]
lines = open(path, errors='replace').read().splitlines()
ok, bad, fname, i = 0, [], '', 0
while i < len(lines):
    l = lines[i]
    m = re.match(r'^    (\S.*?)\s+(OK|ERROR)$', l)
    if m:
        if m.group(2) == 'OK':
            ok += 1
        else:
            reason = lines[i + 1].strip() if i + 1 < len(lines) and lines[i + 1].startswith('        ') else ''
            bad.append((fname, m.group(1), reason))
    elif re.match(r'^[a-z]+: \S', l) and not l.startswith(('target', 'tester', 'dpid', 'loading', 'instantiating')):
        fname = l.split(None, 1)[1]
    i += 1
print('\n=== %s: %d passed, %d failed (%d run) in %s s' % (desc, ok, len(bad), ok + len(bad), secs))
for f, t, r in bad:
    print('FAIL %s | %s | %s' % (f, t, r))
if '---  Test end  ---' not in lines:
    print('(the tester did not reach its end: see %s)' % path)
    sys.exit(1)
EOF
