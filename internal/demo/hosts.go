package demo

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const portTimeout = 15 * time.Second // an Interface gets its ofport

// host is one "machine" of the demo: a network namespace whose eth0 is one
// end of a veth pair; the other end (port) is a port of the bridge.
type host struct {
	label string // host-a, host-b, ...
	ns    string // network namespace
	port  string // host end of the veth, the bridge port
	ip    string // eth0's address, without the prefix length
}

// nsPrefix starts the namespace names of every demo; the pid after it
// finds leftovers of a demo that was killed.
const nsPrefix = "govs-demo-"

// makeHosts names n hosts for the demo with the given tag (its pid).
func makeHosts(tag string, n int) []host {
	hs := make([]host, n)
	for i := range hs {
		l := string(rune('a' + i))
		hs[i] = host{
			label: "host-" + l,
			ns:    nsPrefix + tag + "-" + l,
			port:  "gd" + tag + l,
			ip:    fmt.Sprintf("10.200.0.%d", i+1),
		}
	}
	return hs
}

// addHost creates h and attaches it to bridge br as an afxdp port. created
// is called as soon as there is something to clean up.
func addHost(ctx context.Context, r *runner, br string, h host, created func()) error {
	if _, err := r.run(ctx, showCmd, "ip", "netns", "add", h.ns); err != nil {
		return err
	}
	created()
	steps := [][]string{
		{"ip", "link", "add", h.port, "type", "veth", "peer", "name", "eth0", "netns", h.ns},
		{"ip", "-n", h.ns, "link", "set", "lo", "up"},
		{"ip", "-n", h.ns, "addr", "add", h.ip + "/24", "dev", "eth0"},
		{"ip", "-n", h.ns, "link", "set", "eth0", "up"},
		// afxdp ports take whole frames with finished checksums.
		{"ip", "netns", "exec", h.ns, "ethtool", "-K", "eth0", "tso", "off", "gso", "off", "tx", "off"},
		{"ip", "link", "set", h.port, "up"},
		{"ovs-vsctl", "--timeout=10", "add-port", br, h.port, "--", "set", "Interface", h.port, "type=afxdp"},
	}
	// IPv6 off on both ends: no router solicitations and DAD packets in
	// the counters.
	if _, err := r.run(ctx, quiet, "ip", "netns", "exec", h.ns, "sysctl", "-qw",
		"net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"); err != nil {
		return err
	}
	for i, s := range steps {
		if i == 1 {
			_, _ = r.run(ctx, quiet, "sysctl", "-qw", "net.ipv6.conf."+h.port+".disable_ipv6=1")
		}
		if _, err := r.run(ctx, showCmd, s[0], s[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// waitPort waits until govs has set the Interface's ofport and left its
// error empty; an error in the column fails at once.
func waitPort(ctx context.Context, r *runner, port string) (int, error) {
	var ofport int
	err := waitFor(ctx, portTimeout, "interface "+port+" to get an ofport", func() (bool, error) {
		out, err := r.run(ctx, quiet, "ovs-vsctl", "--timeout=5", "--format=json", "--columns=ofport,error", "find", "Interface", "name="+port)
		if err != nil {
			return false, nil
		}
		rows, err := parseTable(out)
		if err != nil || len(rows) != 1 {
			return false, nil
		}
		if e := rows[0].str("error"); e != "" {
			return false, fmt.Errorf("interface %s: %s", port, e)
		}
		ofport = rows[0].int("ofport")
		return ofport > 0, nil
	})
	return ofport, err
}

// delHost removes the namespace and the host end of the veth (deleting a
// namespace removes the pair, but asynchronously).
func delHost(ctx context.Context, r *runner, h host) error {
	var errs []string
	if _, err := os.Stat("/var/run/netns/" + h.ns); err == nil {
		if _, err := r.run(ctx, quiet, "ip", "netns", "del", h.ns); err != nil {
			errs = append(errs, err.Error())
		}
	}
	err := waitFor(ctx, 5*time.Second, "veth "+h.port+" to go", func() (bool, error) {
		if !linkExists(h.port) {
			return true, nil
		}
		_, _ = r.run(ctx, quiet, "ip", "link", "del", h.port)
		return !linkExists(h.port), nil
	})
	if err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func linkExists(name string) bool {
	_, err := os.Stat("/sys/class/net/" + name)
	return err == nil
}

var staleNS = regexp.MustCompile(`^` + nsPrefix + `(\d+)-[a-z]$`)

// staleHosts lists the namespaces of demos whose process is gone (killed
// before they could clean up).
func staleHosts() []host {
	ents, err := os.ReadDir("/var/run/netns")
	if err != nil {
		return nil
	}
	var hs []host
	for _, e := range ents {
		m := staleNS.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		if pid == os.Getpid() || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue
		}
		l := e.Name()[len(e.Name())-1:]
		hs = append(hs, host{label: "host-" + l, ns: e.Name(), port: "gd" + m[1] + l})
	}
	return hs
}
