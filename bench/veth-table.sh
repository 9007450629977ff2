#!/bin/bash
# Turns the summary lines of one bench/veth.sh run (the peer scripts'
# output) into a Markdown table with ratios.
#   veth-table.sh SUMMARY [RULES-NOTE]
set -u
SUM=${1:?usage: veth-table.sh summary.txt [rules]}
RULES=${2:-}
MHZ=$(awk -F': ' '/^cpu MHz/{print $2; exit}' /proc/cpuinfo)

awk -v rules="$RULES" -v mhz="${MHZ:-0}" '
# value of "key=..." in a line (up to a space or ])
function kv(line, key,   s) {
    if (!match(line, key "=[^ \\]]*")) return ""
    s = substr(line, RSTART + length(key) + 1, RLENGTH - length(key) - 1); sub(/%$/, "", s)
    return s
}
function num(s) { gsub(/[^0-9.]/, "", s); return s + 0 }
/^[A-Za-z0-9-]+: [0-9.nan]+ Mpps/ {
    name = $1; sub(/:$/, "", name)
    med[name] = $2; lo[name] = kv($0, "min"); hi[name] = kv($0, "max"); n[name] = kv($0, "n")
    cpu[name] = kv($0, "cpu0/cpu1"); if (cpu[name] == "") cpu[name] = kv($0, "cpu0/cpu1_busy")
    cyc[name] = kv($0, "proc_cyc/pkt"); busy[name] = kv($0, "fwd_thread_busy")
    loss[name] = kv($0, "loss"); off[name] = kv($0, "offered"); foreign[name] = kv($0, "foreign")
}
function cell(k) {
    if (!(k in med)) return "–"
    s = sprintf("%.2f [%.2f–%.2f]", med[k], lo[k], hi[k])
    if (k ~ /1518/) s = s sprintf(" (%.1f Gbit/s)", med[k] * 1518 * 8 / 1000)
    return s
}
function pct2(s,   c) { if (split(s, c, "/") != 2) return s; return sprintf("%.0f/%.0f", c[1], c[2]) }
function ratio(a, b) { return (a in med && b in med && med[b] > 0) ? sprintf("%.2f×", med[a] / med[b]) : "–" }
function cpu1ns(k,   c, p) {   # CPU-1 busy time per forwarded packet, ns
    if (!(k in med) || med[k] <= 0) return ""
    split(cpu[k], c, "/"); p = num(c[2])
    return sprintf("%.0f", p / 100 * 1000 / med[k])
}
END {
    g64 = "veth-custom-64"; g1518 = "veth-custom-1518"
    o64 = "veth-afxdp-64";  o1518 = "veth-afxdp-1518"
    b64 = "linux-bridge-64-local"; b1518 = "linux-bridge-1518-local"
    c64 = "gen-ceiling-afxdp-64B"; c1518 = "gen-ceiling-afxdp-1518B"
    print "| switch (veth → veth, 1 flow, switch on CPU 1, generator on CPU 0) | 64B Mpps median [min–max] | 1518B Mpps [min–max] | CPU0/CPU1 busy % (64B) | switch-core cost (64B) |"
    print "|---|---|---|---|---|"
    if (ENVIRON["GOVS_NS64"] != "")
        gc = sprintf("%.0f ns/pkt (PMD %.0f%% busy over its life, start-up included; 1518B: %.0f ns)", ENVIRON["GOVS_NS64"], ENVIRON["GOVS_BUSY64"], ENVIRON["GOVS_NS1518"])
    else if (cpu1ns(g64) != "")
        gc = sprintf("≤ %s ns/pkt of CPU 1 (busy-polling: an upper bound)", cpu1ns(g64))
    else
        gc = "–"
    printf "| **govs**, afxdp native, %s | **%s** | %s | %s%% | %s |\n", (rules != "" ? rules : "rules: see log"), cell(g64), cell(g1518), pct2(cpu[g64]), gc
    h64 = "veth-offload-custom-64"; h1518 = "veth-offload-custom-1518"
    if (h64 in med)
        printf "| **govs, hw-offload=true** (the kernel forwards the cross-connect on CPU 1) | **%s** | %s | %s%% | ≈ %s ns/pkt of CPU 1 (all in the kernel) |\n", cell(h64), cell(h1518), pct2(cpu[h64]), cpu1ns(h64)
    oc = (o64 in cyc && cyc[o64] != "nan" && mhz > 0) ? sprintf("%.0f cyc/pkt = %.0f ns (PMD %.0f%% busy; 1518B: %.0f ns)", cyc[o64], cyc[o64] / mhz * 1000, busy[o64], cyc[o1518] / mhz * 1000) : "–"
    printf "| OVS 3.1 userspace, afxdp native, PMD | %s | %s | %s%% | %s |\n", cell(o64), cell(o1518), pct2(cpu[o64]), oc
    bc = (b64 in med && c64 in med && med[b64] > 0 && med[c64] > 0) ? sprintf("≈ %.0f ns/pkt on CPU 0 (1/bridge − 1/ceiling)", 1000 / med[b64] - 1000 / med[c64]) : "–"
    printf "| Linux bridge, local (runs in the generator'"'"'s softirq, CPU 0) | %s | %s | %s%% | %s |\n", cell(b64), cell(b1518), pct2(cpu[b64]), bc
    if ("linux-bridge-64-napi" in med || "linux-bridge-1518-napi" in med)
        printf "| Linux bridge, napi (threaded NAPI of pgsw0 pinned to CPU 1: its work on the switch CPU, as with govs hw-offload) | %s | %s | %s%% | – |\n", cell("linux-bridge-64-napi"), cell("linux-bridge-1518-napi"), pct2(cpu["linux-bridge-64-napi"])
    if ("ref-custom-64" in med)
        printf "| reference: testpmd io-fwd, net_af_xdp on the same veths (no lookup) | %s | %s | %s%% | – |\n", cell("ref-custom-64"), cell("ref-custom-1518"), pct2(cpu["ref-custom-64"])
    printf "| generator ceiling (testpmd net_af_xdp, no switch) | %s | %s | – | – |\n", cell(c64), cell(c1518)
    printf "| **govs / OVS userspace** | **%s** | **%s** | | |\n", ratio(g64, o64), ratio(g1518, o1518)
    printf "| **govs / Linux bridge** | **%s** | **%s** | | |\n", ratio(g64, b64), ratio(g1518, b1518)
    if (h64 in med) {
        printf "| **govs hw-offload / OVS userspace** | **%s** | **%s** | | |\n", ratio(h64, o64), ratio(h1518, o1518)
        printf "| **govs hw-offload / Linux bridge** | **%s** | **%s** | | |\n", ratio(h64, b64), ratio(h1518, b1518)
        if ("linux-bridge-64-napi" in med)
            printf "| govs hw-offload / Linux bridge napi | %s | %s | | |\n", ratio(h64, "linux-bridge-64-napi"), ratio(h1518, "linux-bridge-1518-napi")
    }
    if ("ref-custom-64" in med)
        printf "| govs / testpmd io-fwd reference | %s | %s | | |\n", ratio(g64, "ref-custom-64"), ratio(g1518, "ref-custom-1518")
    printf "| govs / generator ceiling | %s | %s | | |\n", ratio(g64, c64), ratio(g1518, c1518)
    if (ENVIRON["GOVS_NS64"] != "" && o64 in cyc && cyc[o64] != "nan" && mhz > 0)
        printf "| **OVS / govs switch-core cost per packet** | **%.2f×** | %.2f× | | |\n", (cyc[o64] / mhz * 1000) / ENVIRON["GOVS_NS64"], (ENVIRON["GOVS_NS1518"] > 0 ? (cyc[o1518] / mhz * 1000) / ENVIRON["GOVS_NS1518"] : 0)
    print ""
    printf "Offered (generator) / loss at 64B: govs %s Mpps / %s%%, OVS %s Mpps / %s%%, bridge %s Mpps. Foreign CPU (median): govs %s%%, OVS %s%%, bridge %s%%.\n", off[g64], loss[g64], off[o64], loss[o64], off[b64], foreign[g64], foreign[o64], foreign[b64]
}' "$SUM"
