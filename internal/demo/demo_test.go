package demo

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

func TestPreflight(t *testing.T) {
	all := func(name string) (string, error) { return "/usr/bin/" + name, nil }
	for _, tc := range []struct {
		name    string
		euid    int
		missing []string
		wantErr []string // substrings; none: success
	}{
		{name: "root with every tool", euid: 0},
		{name: "not root", euid: 1000, wantErr: []string{"must run as root", "sudo"}},
		{name: "not root and tools missing: root first", euid: 1000, missing: []string{"iperf3"}, wantErr: []string{"must run as root"}},
		{name: "iperf3 missing", missing: []string{"iperf3"},
			wantErr: []string{"iperf3 (Debian package iperf3)", "scripts/install-deps.sh", "apt-get install iperf3"}},
		{name: "ping and ovs-vsctl missing", missing: []string{"ping", "ovs-vsctl"},
			wantErr: []string{"ping (Debian package iputils-ping)", "ovs-vsctl (Debian package openvswitch-switch)", "apt-get install iputils-ping openvswitch-switch"}},
		{name: "ovsdb tools missing: one package", missing: []string{"ovsdb-server", "ovsdb-tool"},
			wantErr: []string{"apt-get install openvswitch-common\n", "ovsdb-server", "ovsdb-tool"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			look := func(name string) (string, error) {
				for _, m := range tc.missing {
					if m == name {
						return "", exec.ErrNotFound
					}
				}
				return all(name)
			}
			paths, err := preflight(tc.euid, look)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if paths["iperf3"] != "/usr/bin/iperf3" {
					t.Errorf("paths = %v", paths)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error()+"\n", w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if _, err := preflight(1, all); !errors.Is(err, errNotRoot) {
		t.Errorf("not root: %v", err)
	}
}

func TestParsePing(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      pingResult
		wantErr   bool
	}{
		{name: "all replies", out: `PING 10.200.0.2 (10.200.0.2) 56(84) bytes of data.
64 bytes from 10.200.0.2: icmp_seq=1 ttl=64 time=0.512 ms

--- 10.200.0.2 ping statistics ---
5 packets transmitted, 5 received, 0% packet loss, time 810ms
rtt min/avg/max/mdev = 0.085/1.340/6.216/2.438 ms
`, want: pingResult{sent: 5, received: 5, loss: "0", avgRTT: "1.340"}},
		{name: "no reply", out: `--- 10.200.0.2 ping statistics ---
5 packets transmitted, 0 received, +3 errors, 100% packet loss, time 4099ms
`, want: pingResult{sent: 5, received: 0, loss: "100"}},
		{name: "partial", out: "5 packets transmitted, 4 received, 20% packet loss, time 800ms\nrtt min/avg/max/mdev = 0.1/0.2/0.3/0.05 ms\n",
			want: pingResult{sent: 5, received: 4, loss: "20", avgRTT: "0.2"}},
		{name: "garbage", out: "ping: connect: Network is unreachable\n", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parsePing(tc.out)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseIperf(t *testing.T) {
	out := `Connecting to host 10.200.0.2, port 5201
[  5] local 10.200.0.1 port 34636 connected to 10.200.0.2 port 5201
[ ID] Interval           Transfer     Bitrate         Retr  Cwnd
[  5]   0.00-1.00   sec   164 MBytes  1.38 Gbits/sec    0   1.19 MBytes
- - - - - - - - - - - - - - - - - - - - - - - - -
[ ID] Interval           Transfer     Bitrate         Retr
[  5]   0.00-3.00   sec   524 MBytes  1.47 Gbits/sec    1             sender
[  5]   0.00-3.02   sec   523 MBytes  1.45 Gbits/sec                  receiver

iperf Done.
`
	got, err := parseIperf(out)
	if err != nil {
		t.Fatal(err)
	}
	want := iperfResult{transfer: "523 MBytes", bitrate: "1.45 Gbits/sec", retransmits: "1"}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := parseIperf("iperf3: error - unable to connect to server\n"); err == nil {
		t.Error("no error for a failed run")
	}
	mb := "[  5]   0.00-3.01   sec   247 MBytes   688 Mbits/sec                  receiver\n"
	if got, _ := parseIperf(mb); got.bitrate != "688 Mbits/sec" {
		t.Errorf("Mbits: got %+v", got)
	}
}

func TestParseTable(t *testing.T) {
	out := `{"data":[["gd1a",1,"afxdp",["map",[["driver_name","veth"],["xdp-mode","native"]]],["map",[["rx_bytes",270739170],["rx_packets",178857],["tx_dropped",2],["rx_dropped",1]]]],` +
		`["gdemo1",65534,"internal",["map",[]],["map",[]]],["gd1b",["set",[]],"",["map",[]],["map",[]]]],` +
		`"headings":["name","ofport","type","status","statistics"]}`
	rows, err := parseTable(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows", len(rows))
	}
	r := rows[0]
	if r.str("name") != "gd1a" || r.int("ofport") != 1 || r.dict("status")["xdp-mode"] != "native" || r.dict("statistics")["rx_bytes"] != "270739170" {
		t.Errorf("row 0: %v", r)
	}
	if rows[2].int("ofport") != 0 || rows[2].str("type") != "" {
		t.Errorf("unset columns: %v", rows[2])
	}
	is := []ifaceStats{{name: "gd1a", typ: "afxdp", xdpMode: "native", ofport: 1, stats: r.dict("statistics")}}
	var b strings.Builder
	printStats(&printer{w: &b}, is, map[string]string{"gd1a": "host-a"})
	for _, w := range []string{"host-a", "afxdp (native)", "270.7 MB", "178857", "3 "} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("table lacks %q:\n%s", w, b.String())
		}
	}
	if _, err := parseTable("ovs-vsctl: no row"); err == nil {
		t.Error("no error for non-JSON")
	}
}

func TestStatsKey(t *testing.T) {
	a := []ifaceStats{{name: "x", stats: map[string]string{"rx_packets": "1", "tx_packets": "2"}}}
	b := []ifaceStats{{name: "x", stats: map[string]string{"tx_packets": "2", "rx_packets": "1"}}}
	c := []ifaceStats{{name: "x", stats: map[string]string{"tx_packets": "3", "rx_packets": "1"}}}
	if statsKey(a) != statsKey(b) || statsKey(a) == statsKey(c) {
		t.Errorf("keys: %q %q %q", statsKey(a), statsKey(b), statsKey(c))
	}
}

func TestHumanBytes(t *testing.T) {
	for in, want := range map[string]string{"0": "0 B", "999": "999 B", "1500": "1.5 kB", "270739170": "270.7 MB", "5000000000": "5.0 GB", "": "0 B"} {
		if got := humanBytes(in); got != want {
			t.Errorf("humanBytes(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCommandLine(t *testing.T) {
	got := commandLine("ovs-vsctl", "add-port", "br0", "p1", "--", "set", "Interface", "p1", "type=afxdp", "a b", "", "it's")
	want := `ovs-vsctl add-port br0 p1 -- set Interface p1 type=afxdp 'a b' '' 'it'\''s'`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestMakeHosts(t *testing.T) {
	hs := makeHosts("4194304", 6) // the largest pid Linux hands out
	seen := map[string]bool{}
	for i, h := range hs {
		if len(h.port) > 15 {
			t.Errorf("port name %q longer than IFNAMSIZ-1", h.port)
		}
		if !staleNS.MatchString(h.ns) {
			t.Errorf("namespace %q not recognised as a demo's", h.ns)
		}
		if seen[h.port] || seen[h.ns] || seen[h.ip] {
			t.Errorf("host %d not unique: %+v", i, h)
		}
		seen[h.port], seen[h.ns], seen[h.ip] = true, true, true
	}
	if hs[1].label != "host-b" || hs[1].ip != "10.200.0.2" {
		t.Errorf("host 1: %+v", hs[1])
	}
}

func TestOVSEnv(t *testing.T) {
	t.Setenv("OVS_RUNDIR", "/var/run/openvswitch")
	t.Setenv("OVS_FOO", "x")
	env := ovsEnv("/tmp/d")
	n := 0
	for _, kv := range env {
		if strings.HasPrefix(kv, "OVS_") {
			n++
			if !strings.HasPrefix(kv[strings.IndexByte(kv, '=')+1:], "/tmp/d/") {
				t.Errorf("%s not under the demo's directory", kv)
			}
		}
	}
	if n != 4 {
		t.Errorf("%d OVS_ variables, want 4: %v", n, env)
	}
}
