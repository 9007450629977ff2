// Package linuxtest builds throw-away kernel topologies for the tests of the
// kernel-facing port types: a network namespace holding one end of a veth
// pair, and a raw AF_PACKET socket inside it to play the far side. Every
// name starts with "gvk" plus a random suffix so tests running side by side
// on a shared machine never collide, and everything is removed in
// t.Cleanup.
package linuxtest

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// EtherType is the IEEE local experimental EtherType the test frames carry,
// so nothing in the kernel answers them and filters can tell them from
// the IPv6 chatter a fresh interface produces.
const EtherType = 0x88b5

// RequireRoot skips the test unless it runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces, raw sockets)")
	}
}

// Name returns "gvk" + prefix + a random suffix, at most 15 bytes (IFNAMSIZ-1).
func Name(prefix string) string {
	var b [3]byte
	rand.Read(b[:])
	n := "gvk" + prefix + hex.EncodeToString(b[:])
	if len(n) > 15 {
		n = n[:15]
	}
	return n
}

// Run runs a command and fails the test with its output if it fails.
func Run(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// Veth is a veth pair: Host in the test's namespace, Peer inside NS.
type Veth struct {
	NS, Host, Peer string
	HostMAC        net.HardwareAddr
	PeerMAC        net.HardwareAddr
}

// VethOptions shape the pair.
type VethOptions struct {
	Queues int // rx and tx queues on each end; 0 means 1
}

// NewVeth creates a namespace and a veth pair with one end in it, both up,
// IPv6 off (no router solicitations to filter out). It is removed when the
// test ends.
func NewVeth(t testing.TB, o VethOptions) *Veth {
	t.Helper()
	RequireRoot(t)
	v := &Veth{NS: Name("n"), Host: Name("h"), Peer: Name("p")}
	Run(t, "ip", "netns", "add", v.NS)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", v.NS).Run() })
	args := []string{"link", "add", v.Host}
	if o.Queues > 1 {
		q := fmt.Sprint(o.Queues)
		args = append(args, "numrxqueues", q, "numtxqueues", q)
	}
	args = append(args, "type", "veth", "peer", "name", v.Peer, "netns", v.NS)
	if o.Queues > 1 {
		q := fmt.Sprint(o.Queues)
		args = append(args, "numrxqueues", q, "numtxqueues", q)
	}
	Run(t, "ip", args...)
	t.Cleanup(func() { exec.Command("ip", "link", "del", v.Host).Run() })
	os.WriteFile("/proc/sys/net/ipv6/conf/"+v.Host+"/disable_ipv6", []byte("1"), 0)
	Run(t, "ip", "netns", "exec", v.NS, "sysctl", "-qw", "net.ipv6.conf."+v.Peer+".disable_ipv6=1")
	Run(t, "ip", "link", "set", v.Host, "up")
	Run(t, "ip", "-n", v.NS, "link", "set", v.Peer, "up")
	v.HostMAC = mac(t, "", v.Host)
	v.PeerMAC = mac(t, v.NS, v.Peer)
	return v
}

func mac(t testing.TB, ns, name string) net.HardwareAddr {
	t.Helper()
	args := []string{"-o", "link", "show", name}
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	out, err := exec.Command("ip", args...).Output()
	if err != nil {
		t.Fatalf("ip link show %s: %v", name, err)
	}
	f := strings.Fields(string(out))
	for i, w := range f {
		if w == "link/ether" && i+1 < len(f) {
			m, err := net.ParseMAC(f[i+1])
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatalf("no MAC in %q", out)
	return nil
}

// InNS runs fn with the calling thread in namespace ns. Sockets created by
// fn stay in ns after it returns.
func InNS(t testing.TB, ns string, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	h, err := netns.GetFromName(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := netns.Set(h); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := netns.Set(orig); err != nil {
			panic("cannot return to the original network namespace: " + err.Error())
		}
	}()
	fn()
}

// Socket is a raw AF_PACKET socket bound to one interface: the far side of
// a port under test.
type Socket struct {
	fd int
}

// Open opens a raw socket on the interface name of namespace ns ("" for the
// test's own), receiving only EtherType frames.
func Open(t testing.TB, ns, name string) *Socket {
	t.Helper()
	var s Socket
	open := func() {
		ifi, err := net.InterfaceByName(name)
		if err != nil {
			t.Fatal(err)
		}
		s.fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(EtherType)))
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Bind(s.fd, &unix.SockaddrLinklayer{Protocol: htons(EtherType), Ifindex: ifi.Index}); err != nil {
			t.Fatal(err)
		}
	}
	if ns == "" {
		open()
	} else {
		InNS(t, ns, open)
	}
	t.Cleanup(func() { unix.Close(s.fd) })
	return &s
}

// Send transmits frame.
func (s *Socket) Send(t testing.TB, frame []byte) {
	t.Helper()
	if _, err := unix.Write(s.fd, frame); err != nil {
		t.Fatalf("send: %v", err)
	}
}

// Recv returns the next frame, or nil after timeout.
func (s *Socket) Recv(t testing.TB, timeout time.Duration) []byte {
	t.Helper()
	tv := unix.NsecToTimeval(timeout.Nanoseconds())
	unix.SetsockoptTimeval(s.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	buf := make([]byte, 65536)
	n, _, err := unix.Recvfrom(s.fd, buf, 0)
	if err == unix.EAGAIN || err == unix.EINTR {
		return nil
	}
	if err != nil {
		t.Fatalf("recv: %v", err)
	}
	return buf[:n]
}

// Frame builds an Ethernet frame of EtherType carrying seq then filler up
// to size bytes (at least 60).
func Frame(dst, src net.HardwareAddr, seq uint32, size int) []byte {
	size = max(size, 60)
	f := make([]byte, size)
	copy(f[0:6], dst)
	copy(f[6:12], src)
	binary.BigEndian.PutUint16(f[12:14], EtherType)
	binary.BigEndian.PutUint32(f[14:18], seq)
	for i := 18; i < size; i++ {
		f[i] = byte(i)
	}
	return f
}

// Seq returns the sequence number of a Frame, or false if f is not one.
func Seq(f []byte) (uint32, bool) {
	if len(f) < 18 || binary.BigEndian.Uint16(f[12:14]) != EtherType {
		return 0, false
	}
	return binary.BigEndian.Uint32(f[14:18]), true
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Eventually polls cond every millisecond until it holds or d passes.
func Eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return cond()
}

// Deadline returns a function that reports whether d has passed since now.
func Deadline(d time.Duration) func() bool {
	end := time.Now().Add(d)
	return func() bool { return time.Now().After(end) }
}
