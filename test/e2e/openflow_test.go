package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The OpenFlow tests drive govs with real clients: ovs-vsctl for the
// controller and fail mode, ovs-ofctl (OpenFlow 1.0 + Nicira, and
// OpenFlow 1.3) on br0.mgmt, and os-ken as a controller (osken_test.go).
// Traffic is ping, and tcpdump in a host namespace for packet-outs.

// ofProtocols are the two ways ovs-ofctl talks: its default (OpenFlow 1.0
// with the Nicira extensions) and OpenFlow 1.3.
var ofProtocols = []struct {
	name string
	args []string
}{
	{"default", nil},
	{"OpenFlow13", []string{"-O", "OpenFlow13"}},
}

// newOFLab is NewLab with the "gvo" prefix: the OpenFlow tests' kernel
// names are told apart from the forwarding tests'.
func newOFLab(t testing.TB) *Lab {
	t.Helper()
	RequireNetTools(t)
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	l := &Lab{Tag: "gvo" + hex.EncodeToString(b[:]), t: t}
	t.Cleanup(l.cleanup)
	l.SW = l.addNetns("sw")
	return l
}

// ofSwitch is govs with br0 and two hosts, a and b, on ports pa and pb.
type ofSwitch struct {
	l      *Lab
	g      *Govs
	a, b   *Host
	pa, pb int
	proto  []string // ovs-ofctl's protocol arguments
}

// startOFSwitch starts govs in a new Lab with br0 (datapath_type=netdev
// and the Bridge columns in bridgeCols, e.g. fail_mode=secure) and hosts
// a (10.9.0.1) and b (10.9.0.2).
func startOFSwitch(t *testing.T, bridgeCols ...string) *ofSwitch {
	t.Helper()
	return startOFSwitchTypes(t, "", bridgeCols...)
}

// startOFSwitchTypes is startOFSwitch with ports of Interface type typ.
func startOFSwitchTypes(t *testing.T, typ string, bridgeCols ...string) *ofSwitch {
	t.Helper()
	if _, err := exec.LookPath("ovs-ofctl"); err != nil {
		t.Skip("ovs-ofctl not installed (openvswitch-common)")
	}
	l := newOFLab(t)
	g := l.Govs(t)
	g.Start(t)
	g.Vsctl(t, append([]string{"add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev"}, bridgeCols...)...)
	s := &ofSwitch{l: l, g: g}
	s.a = l.Host("a", "10.9.0.1/24")
	s.b = l.Host("b", "10.9.0.2/24")
	s.pa = addPort(t, g, "br0", s.a, typ)
	s.pb = addPort(t, g, "br0", s.b, typ)
	WaitFor(t, 10*time.Second, "br0.mgmt", func() bool {
		_, err := os.Stat(filepath.Join(g.RunDir, "br0.mgmt"))
		return err == nil
	})
	return s
}

// ofctlErr runs ovs-ofctl with s.proto, bounded to 30 s.
func (s *ofSwitch) ofctlErr(args ...string) (string, error) {
	return ofctlIn(s.g.Env(), append(append([]string{}, s.proto...), args...)...)
}

func ofctlIn(env []string, args ...string) (string, error) {
	cmd := exec.Command("timeout", append([]string{"30", "ovs-ofctl"}, args...)...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ovs-ofctl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// ofctl is ofctlErr failing the test on error.
func (s *ofSwitch) ofctl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := s.ofctlErr(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// writeFlows writes flows, one per line, to a file for add-flows and
// replace-flows.
func writeFlows(t testing.TB, flows ...string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "flows.txt")
	if err := os.WriteFile(f, []byte(strings.Join(flows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func mustHave(t testing.TB, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Fatalf("output lacks %q:\n%s", w, out)
		}
	}
}

var nPacketsRe = regexp.MustCompile(`n_packets=(\d+)`)

// flowPackets returns n_packets of the one flow dump-flows prints for
// the filter match.
func (s *ofSwitch) flowPackets(t testing.TB, match string) int {
	t.Helper()
	out := s.ofctl(t, "dump-flows", "br0", match)
	m := nPacketsRe.FindAllStringSubmatch(out, -1)
	if len(m) == 0 {
		t.Fatalf("dump-flows %s: no flow:\n%s", match, out)
	}
	n, _ := strconv.Atoi(m[0][1])
	return n
}

// aggregate returns dump-aggregate's packet_count and flow_count.
func (s *ofSwitch) aggregate(t testing.TB) (packets, flows int) {
	t.Helper()
	out := s.ofctl(t, "dump-aggregate", "br0")
	m := regexp.MustCompile(`packet_count=(\d+).*flow_count=(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("dump-aggregate:\n%s", out)
	}
	packets, _ = strconv.Atoi(m[1])
	flows, _ = strconv.Atoi(m[2])
	return packets, flows
}

// portRxPackets returns dump-ports' rx pkts of ofport.
func (s *ofSwitch) portRxPackets(t testing.TB, ofport int) int {
	t.Helper()
	out := s.ofctl(t, "dump-ports", "br0", strconv.Itoa(ofport))
	m := regexp.MustCompile(`port\s+` + strconv.Itoa(ofport) + `: rx pkts=(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("dump-ports %d:\n%s", ofport, out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// waitCounter waits up to 3 s for a counter to reach want: statistics
// reach OpenFlow at the next revalidation (every 500 ms), as in OVS.
func waitCounter(t testing.TB, what string, want int, get func() int) {
	t.Helper()
	var got int
	deadline := time.Now().Add(3 * time.Second)
	for got = get(); got < want; got = get() {
		if time.Now().After(deadline) {
			t.Fatalf("%s = %d, want at least %d", what, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ping checks that a reaches b (within a few seconds: ARP, upcalls).
func (s *ofSwitch) ping(t testing.TB) {
	t.Helper()
	s.a.WaitPing(t, s.b.IP, 5*time.Second)
}

// TestOpenFlowOfctl: the ovs-ofctl commands operators use, with the
// default protocol and with OpenFlow 1.3, each checked against traffic
// between two namespaces.
func TestOpenFlowOfctl(t *testing.T) {
	for _, p := range ofProtocols {
		t.Run(p.name, func(t *testing.T) {
			s := startOFSwitch(t)
			s.proto = p.args
			pa, pb := strconv.Itoa(s.pa), strconv.Itoa(s.pb)

			t.Run("show", func(t *testing.T) {
				out := s.ofctl(t, "show", "br0")
				mustHave(t, out, "dpid:", fmt.Sprintf("%d(%s)", s.pa, s.a.Port), fmt.Sprintf("%d(%s)", s.pb, s.b.Port), "LOCAL(br0)")
			})

			t.Run("del-flows", func(t *testing.T) {
				s.ping(t) // the default NORMAL rule
				s.ofctl(t, "del-flows", "br0")
				if _, n := s.aggregate(t); n != 0 {
					t.Fatalf("%d flows after del-flows", n)
				}
				s.l.MustRun(s.a.NS, "ip", "neigh", "flush", "all")
				s.a.NoPing(t, s.b.IP)
			})

			t.Run("add-flows", func(t *testing.T) {
				s.ofctl(t, "add-flows", "br0", writeFlows(t,
					"priority=10,in_port="+pa+",actions=output:"+pb,
					"priority=10,in_port="+pb+",actions=output:"+pa))
				s.ping(t)
				before := s.flowPackets(t, "in_port="+pa)
				s.a.PingAll(t, s.b.IP, 10)
				waitCounter(t, "n_packets of in_port="+pa, before+10, func() int { return s.flowPackets(t, "in_port="+pa) })
			})

			t.Run("add-flow", func(t *testing.T) {
				s.ofctl(t, "add-flow", "br0", "priority=20,icmp,in_port="+pa+",actions=drop")
				s.a.NoPing(t, s.b.IP)
				waitCounter(t, "n_packets of the drop rule", 3, func() int { return s.flowPackets(t, "icmp") })
			})

			t.Run("mod-flows", func(t *testing.T) {
				s.ofctl(t, "mod-flows", "br0", "icmp,in_port="+pa+",actions=output:"+pb)
				mustHave(t, s.ofctl(t, "dump-flows", "br0", "icmp"), "actions=output:"+pb)
				s.ping(t)
			})

			t.Run("dump-aggregate", func(t *testing.T) {
				waitCounter(t, "packet_count", 20, func() int { p, _ := s.aggregate(t); return p })
				if _, flows := s.aggregate(t); flows != 3 {
					t.Errorf("flow_count=%d, want 3", flows)
				}
			})

			t.Run("del-flows-strict", func(t *testing.T) {
				s.ofctl(t, "--strict", "del-flows", "br0", "priority=20,icmp,in_port="+pa)
				if _, n := s.aggregate(t); n != 2 {
					t.Fatalf("%d flows after a strict delete, want 2", n)
				}
				s.ping(t)
			})

			t.Run("dump-ports", func(t *testing.T) {
				before := s.portRxPackets(t, s.pa)
				s.a.PingAll(t, s.b.IP, 5)
				waitCounter(t, "rx pkts of port "+pa, before+5, func() int { return s.portRxPackets(t, s.pa) })
			})

			t.Run("dump-ports-desc", func(t *testing.T) {
				mustHave(t, s.ofctl(t, "dump-ports-desc", "br0"), fmt.Sprintf("%d(%s)", s.pa, s.a.Port), fmt.Sprintf("%d(%s)", s.pb, s.b.Port))
			})

			t.Run("dump-tables", func(t *testing.T) {
				out := s.ofctl(t, "dump-tables", "br0")
				mustHave(t, out, "active=2")
				m := regexp.MustCompile(`lookup=(\d+), matched=(\d+)`).FindStringSubmatch(out)
				if m == nil || m[1] == "0" || m[2] == "0" {
					t.Errorf("table 0 lookups/matches not counted:\n%s", out)
				}
			})

			t.Run("groups", func(t *testing.T) {
				// Groups and meters are OpenFlow 1.1+: plain ovs-ofctl
				// refuses them before it talks to any switch, so they
				// run with -O OpenFlow13 in both protocol runs.
				o13 := &ofSwitch{l: s.l, g: s.g, a: s.a, b: s.b, proto: []string{"-O", "OpenFlow13"}}
				o13.ofctl(t, "add-group", "br0", "group_id=1,type=all,bucket=output:"+pb)
				mustHave(t, o13.ofctl(t, "dump-groups", "br0"), "group_id=1,type=all,bucket=actions=output:"+pb)
				o13.ofctl(t, "add-flow", "br0", "priority=30,icmp,in_port="+pa+",actions=group:1")
				s.a.PingAll(t, s.b.IP, 5)
				re := regexp.MustCompile(`group_id=1,.*packet_count=(\d+),.*bucket0:packet_count=(\d+)`)
				waitCounter(t, "packet_count of group 1 and its bucket", 5, func() int {
					out := o13.ofctl(t, "dump-group-stats", "br0")
					m := re.FindStringSubmatch(out)
					if m == nil {
						t.Fatalf("dump-group-stats:\n%s", out)
					}
					g, _ := strconv.Atoi(m[1])
					b, _ := strconv.Atoi(m[2])
					return min(g, b)
				})
			})

			t.Run("meters", func(t *testing.T) {
				o13 := &ofSwitch{l: s.l, g: s.g, a: s.a, b: s.b, proto: []string{"-O", "OpenFlow13"}}
				o13.ofctl(t, "add-meter", "br0", "meter=1,pktps,band=type=drop,rate=1")
				mustHave(t, o13.ofctl(t, "dump-meters", "br0"), "meter=1 pktps", "type=drop rate=1")
				o13.ofctl(t, "add-flow", "br0", "priority=40,icmp,in_port="+pa+",actions=meter:1,output:"+pb)
				sent, recv, out := s.a.Ping(s.b.IP, 20, 20*time.Millisecond)
				if sent != 20 || recv > 10 {
					t.Errorf("a 1 pkt/s meter let %d of %d pings through:\n%s", recv, sent, out)
				}
				o13.ofctl(t, "--strict", "del-flows", "br0", "priority=40,icmp,in_port="+pa)
				o13.ofctl(t, "--strict", "del-flows", "br0", "priority=30,icmp,in_port="+pa)
				s.ping(t)
			})

			t.Run("packet-out", func(t *testing.T) {
				s.packetOut(t, pb)
			})

			t.Run("mod-port", func(t *testing.T) {
				s.ofctl(t, "mod-port", "br0", s.b.Port, "down")
				mustHave(t, s.ofctl(t, "dump-ports-desc", "br0"), "PORT_DOWN")
				s.a.NoPing(t, s.b.IP)
				s.ofctl(t, "mod-port", "br0", s.b.Port, "up")
				s.ping(t)
			})
		})
	}
}

// packetOut sends a UDP frame to b with packet-out and waits for tcpdump
// in b's namespace to see it.
func (s *ofSwitch) packetOut(t *testing.T, outPort string) {
	t.Helper()
	mac := s.hostMAC(t, s.b)
	frame := udpFrame(mac, net.HardwareAddr{0x02, 0, 0, 0, 0, 0x77}, net.IPv4(10, 9, 0, 77), net.ParseIP(s.b.IP), 40000, 9999)
	cmd, out := s.l.Start(s.b.NS, "tcpdump", "-l", "-n", "-e", "-c", "1", "-i", s.b.Dev, "udp", "and", "dst", "port", "9999")
	WaitFor(t, 10*time.Second, "tcpdump listening", func() bool {
		return strings.Contains(out.String(), "listening on")
	})
	s.ofctl(t, "packet-out", "br0", "CONTROLLER", "output:"+outPort, hex.EncodeToString(frame))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("tcpdump in %s saw no packet-out:\n%s", s.b.NS, out)
	}
	mustHave(t, out.String(), "10.9.0.77.40000 > "+s.b.IP+".9999", "02:00:00:00:00:77")
}

// hostMAC returns h's interface address.
func (s *ofSwitch) hostMAC(t testing.TB, h *Host) net.HardwareAddr {
	t.Helper()
	out := s.l.MustRun(h.NS, "cat", "/sys/class/net/"+h.Dev+"/address")
	mac, err := net.ParseMAC(strings.TrimSpace(out))
	if err != nil {
		t.Fatal(err)
	}
	return mac
}

// udpFrame builds an Ethernet/IPv4/UDP frame with 16 bytes of payload and
// correct checksums.
func udpFrame(dst, src net.HardwareAddr, sip, dip net.IP, sport, dport uint16) []byte {
	payload := []byte("govs packet-out!")
	f := make([]byte, 14+20+8+len(payload))
	copy(f[0:6], dst)
	copy(f[6:12], src)
	f[12], f[13] = 0x08, 0x00
	ip := f[14:34]
	ip[0] = 0x45
	total := 20 + 8 + len(payload)
	ip[2], ip[3] = byte(total>>8), byte(total)
	ip[8], ip[9] = 64, 17
	copy(ip[12:16], sip.To4())
	copy(ip[16:20], dip.To4())
	cs := checksum(ip)
	ip[10], ip[11] = byte(cs>>8), byte(cs)
	udp := f[34:]
	udp[0], udp[1] = byte(sport>>8), byte(sport)
	udp[2], udp[3] = byte(dport>>8), byte(dport)
	ulen := 8 + len(payload)
	udp[4], udp[5] = byte(ulen>>8), byte(ulen)
	copy(udp[8:], payload)
	// UDP checksum over the pseudo-header.
	ph := make([]byte, 0, 12+ulen)
	ph = append(ph, sip.To4()...)
	ph = append(ph, dip.To4()...)
	ph = append(ph, 0, 17, byte(ulen>>8), byte(ulen))
	ph = append(ph, udp...)
	ucs := checksum(ph)
	if ucs == 0 {
		ucs = 0xffff
	}
	udp[6], udp[7] = byte(ucs>>8), byte(ucs)
	return f
}

func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// TestOpenFlowBundleReplaceFlows: `ovs-ofctl -O OpenFlow13 --bundle
// replace-flows` swaps the whole table atomically, and the traffic
// follows.
func TestOpenFlowBundleReplaceFlows(t *testing.T) {
	s := startOFSwitch(t)
	s.proto = []string{"-O", "OpenFlow13"}
	pa, pb := strconv.Itoa(s.pa), strconv.Itoa(s.pb)
	s.ofctl(t, "add-flow", "br0", "priority=7,udp,actions=drop") // to be replaced

	s.ofctl(t, "--bundle", "replace-flows", "br0", writeFlows(t,
		"priority=10,in_port="+pa+",actions=output:"+pb,
		"priority=10,in_port="+pb+",actions=output:"+pa,
		"priority=5,arp,actions=NORMAL"))
	out := s.ofctl(t, "dump-flows", "br0")
	mustHave(t, out, "priority=10,in_port="+pa+" actions=output:"+pb, "priority=5,arp actions=NORMAL")
	if strings.Contains(out, "priority=0") || strings.Contains(out, "priority=7") {
		t.Fatalf("replace-flows kept old flows:\n%s", out)
	}
	s.ping(t)

	// Replace with a table that drops ICMP from a.
	s.ofctl(t, "--bundle", "replace-flows", "br0", writeFlows(t,
		"priority=20,icmp,in_port="+pa+",actions=drop",
		"priority=10,in_port="+pa+",actions=output:"+pb,
		"priority=10,in_port="+pb+",actions=output:"+pa))
	if _, n := s.aggregate(t); n != 3 {
		t.Fatalf("%d flows after replace-flows, want 3", n)
	}
	s.a.NoPing(t, s.b.IP)

	// A bundle with a bad flow-mod changes nothing.
	if out, err := s.ofctlErr("--bundle", "replace-flows", "br0", writeFlows(t,
		"priority=10,actions=NORMAL", "priority=11,actions=group:77")); err == nil {
		t.Fatalf("a bundle with an unknown group committed:\n%s", out)
	}
	if _, n := s.aggregate(t); n != 3 {
		t.Fatalf("%d flows after a failed bundle, want 3 (rolled back)", n)
	}
}
