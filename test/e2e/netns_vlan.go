package e2e

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The kernels these tests run on may lack 802.1Q (CONFIG_VLAN_8021Q,
// bridge VLAN filtering and act_vlan are all off on the CI machines), so
// a host cannot simply get a VLAN subinterface. A VLAN-trunk host is
// played by scapy on the host's plain interface instead: it sends tagged
// ARP requests and ICMP echoes and reads the answers' tags (scapy's packet
// socket puts back the tag the kernel moved into the skb's metadata).

// tagProbeScript: argv[1] is the interface, argv[2] a JSON list of
// {"vlan", "src", "dst", "count"}; prints one JSON result per probe.
const tagProbeScript = `
import json, sys
from scapy.all import ARP, ICMP, IP, Dot1Q, Ether, conf, get_if_hwaddr, srp, srp1

conf.verb = 0
dev, probes = sys.argv[1], json.loads(sys.argv[2])
mac = get_if_hwaddr(dev)
res = []
for p in probes:
    vlan, src, dst = p["vlan"], p["src"], p["dst"]
    r = {"arp": False, "echo": 0, "tags": []}
    a = srp1(Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / Dot1Q(vlan=vlan) / ARP(hwsrc=mac, psrc=src, pdst=dst),
             iface=dev, timeout=1)
    if a is not None and ARP in a:
        r["arp"] = True
        r["tags"].append(a[Dot1Q].vlan if Dot1Q in a else -1)
        echo = [Ether(src=mac, dst=a[ARP].hwsrc) / Dot1Q(vlan=vlan) / IP(src=src, dst=dst) / ICMP(id=vlan, seq=i)
                for i in range(p["count"])]
        ans, _ = srp(echo, iface=dev, timeout=1)
        for _, rep in ans:
            if ICMP in rep and rep[ICMP].type == 0:
                r["echo"] += 1
                r["tags"].append(rep[Dot1Q].vlan if Dot1Q in rep else -1)
    res.append(r)
print(json.dumps(res))
`

// scapyPython is Debian's interpreter, which python3-scapy installs for
// (a python3 earlier in PATH, e.g. pyenv's, may not have it).
const scapyPython = "/usr/bin/python3"

// RequireScapy skips the test unless Debian's python3-scapy is importable.
func RequireScapy(t testing.TB) {
	t.Helper()
	if err := exec.Command(scapyPython, "-c", "import scapy.all").Run(); err != nil {
		t.Skipf("python3-scapy not installed for %s (scripts/install-deps.sh): %v", scapyPython, err)
	}
}

// TagProbe is one tagged exchange: from address Src on VLAN VLAN, ARP for
// Dst, then send it Count echo requests.
type TagProbe struct {
	VLAN  int    `json:"vlan"`
	Src   string `json:"src"`
	Dst   string `json:"dst"`
	Count int    `json:"count"`
}

// TagResult is what came back: whether the ARP request was answered, how
// many echoes were, and the VLAN tag of every answer (-1: untagged).
type TagResult struct {
	ARP  bool  `json:"arp"`
	Echo int   `json:"echo"`
	Tags []int `json:"tags"`
}

// TagProbes runs the probes in order from h's interface.
func (h *Host) TagProbes(t testing.TB, probes ...TagProbe) []TagResult {
	t.Helper()
	return h.StartTagProbes(t, probes...)(t)
}

// StartTagProbes starts the probes in the background (scapy takes a
// second to start: trunks can be probed at once); wait returns the results.
func (h *Host) StartTagProbes(t testing.TB, probes ...TagProbe) (wait func(testing.TB) []TagResult) {
	t.Helper()
	arg, err := json.Marshal(probes)
	if err != nil {
		t.Fatal(err)
	}
	c, out := h.lab.Start(h.NS, scapyPython, "-c", tagProbeScript, h.Dev, string(arg))
	return func(t testing.TB) []TagResult {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- c.Wait() }()
		select {
		case err = <-done:
		case <-time.After(time.Duration(len(probes))*3*time.Second + 10*time.Second):
			c.Process.Kill()
			err = <-done
		}
		if err != nil {
			t.Fatalf("tag probes from %s: %v\n%s", h.Dev, err, out)
		}
		// The result is the last line; scapy may warn before it.
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		var res []TagResult
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil || len(res) != len(probes) {
			t.Fatalf("tag probes: %v\n%s", err, out)
		}
		return res
	}
}
