// Command ofload gives an OpenFlow switch bench/flows.sh's flows from
// messages encoded before the clock starts, so the time it reports is the
// switch's rather than its client's.
//
// ovs-ofctl parses the flow file and prints the dump itself: for 100 000
// flows that costs it about 0.8 s of CPU for a bundle and 0.5 s for a dump,
// more than either switch spends, and on a two-CPU machine it shares a CPU
// with the switch's control threads. ofload sends the same flows (the
// awk-made table of flows.sh: priority=100,ip,nw_src=10.a.b.c,
// nw_dst=192.168.0.1,actions=output:2) in OpenFlow 1.3 and counts the dump's
// entries without decoding them.
//
//	ofload -sock RUNDIR/br0.mgmt -n 100000 bundle  # ONF bundle, as ovs-ofctl --bundle
//	ofload -sock RUNDIR/br0.mgmt -n 100000 add     # flow-mod + barrier per flow, as add-flows
//	ofload -sock RUNDIR/br0.mgmt -n 100000 dump    # one flow-stats request, all replies
//
// It prints the seconds from the first byte sent to the last reply awaited,
// and fails on any OFPT_ERROR or a dump that does not hold n entries.
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"syscall"
	"time"
	"unsafe"

	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/of13"
)

// OXM basic field numbers of the flows' match.
const (
	oxmEthType = 5
	oxmIPv4Src = 11
	oxmIPv4Dst = 12
)

// bundleFlags are ovs-ofctl's: atomic and ordered.
const bundleFlags = 3

func main() {
	sock := flag.String("sock", "", "the switch's OpenFlow unix socket (RUNDIR/br0.mgmt)")
	n := flag.Int("n", 100000, "flows")
	flag.Parse()
	if *sock == "" || flag.NArg() != 1 || *n <= 0 || *n > 1<<24 {
		fmt.Fprintln(os.Stderr, "usage: ofload -sock PATH [-n N] bundle|add|dump")
		os.Exit(2)
	}
	// Pinned to one CPU by taskset, Go would run one P; bundle's reader
	// needs its own while the writer blocks in a raw write.
	runtime.GOMAXPROCS(2)
	c, err := dial(*sock)
	if err != nil {
		fail(err)
	}
	var d time.Duration
	switch flag.Arg(0) {
	case "bundle":
		d, err = c.bundle(*n)
	case "add":
		d, err = c.add(*n)
	case "dump":
		d, err = c.dump(*n)
	default:
		err = fmt.Errorf("unknown mode %q", flag.Arg(0))
	}
	if err != nil {
		fail(err)
	}
	fmt.Printf("%.6f\n", d.Seconds())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "ofload:", err)
	os.Exit(1)
}

type conn struct {
	nc  fdConn
	r   *ofp.Reader
	xid uint32
}

// fdConn is a blocking socket read and written with raw system calls.
// For a round trip per flow, Go's netpoller (park, epoll, wake) would add
// its own latency to the switch's, and so would a blocking syscall.Read:
// while it waits, the runtime's sysmon thread wakes every 20 µs on the
// client's CPU, which is also the switch's control CPU. A raw call keeps
// its goroutine's P, so main sets GOMAXPROCS to 2 for bundle's reader.
type fdConn int

func (fd fdConn) Read(b []byte) (int, error) {
	for {
		n, _, errno := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			return 0, errno
		}
		if n == 0 {
			return 0, io.EOF
		}
		return int(n), nil
	}
}

func (fd fdConn) Write(b []byte) (int, error) {
	total := 0
	for len(b) > 0 {
		n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			return total, errno
		}
		total += int(n)
		b = b[n:]
	}
	return total, nil
}

// dial connects and exchanges HELLOs; the switch must speak OpenFlow 1.3.
func dial(path string) (*conn, error) {
	s, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := syscall.Connect(s, &syscall.SockaddrUnix{Name: path}); err != nil {
		syscall.Close(s)
		return nil, fmt.Errorf("connect %s: %w", path, err)
	}
	nc := fdConn(s)
	c := &conn{nc: nc, r: ofp.NewReader(bufio.NewReaderSize(nc, 1<<16), 0)}
	hello := of13.Hello{Xid: c.next()}
	if _, err := nc.Write(hello.AppendTo(nil)); err != nil {
		return nil, err
	}
	msg, err := c.r.ReadMessage()
	if err != nil {
		return nil, fmt.Errorf("hello: %w", err)
	}
	if msg[1] != ofp.TypeHello || msg[0] < ofp.Version13 {
		return nil, fmt.Errorf("hello: got type %d version %d, want a HELLO of version 4 or above", msg[1], msg[0])
	}
	return c, nil
}

func (c *conn) next() uint32 { c.xid++; return c.xid }

// flowMod appends flow i's OFPFC_ADD.
func flowMod(b []byte, xid uint32, i int) []byte {
	fm := of13.FlowMod{
		Xid: xid, Priority: 100, BufferID: 0xffffffff, OutPort: 0xffffffff, OutGroup: 0xffffffff,
		Match: of13.Match{Type: of13.OXMTypeMatch, Fields: []ofp.OXM{
			{Class: ofp.ClassOpenFlowBasic, Field: oxmEthType, Value: []byte{0x08, 0x00}},
			{Class: ofp.ClassOpenFlowBasic, Field: oxmIPv4Src, Value: []byte{10, byte(i >> 16), byte(i >> 8), byte(i)}},
			{Class: ofp.ClassOpenFlowBasic, Field: oxmIPv4Dst, Value: []byte{192, 168, 0, 1}},
		}},
		Instructions: []of13.Instruction{&of13.Actions{Type: of13.InstApplyActions,
			Actions: []ofp.Action{&of13.Output{Port: 2}}}},
	}
	return fm.AppendTo(b)
}

func (c *conn) barrier(b []byte) ([]byte, uint32) {
	m := of13.BarrierRequest{Xid: c.next()}
	return m.AppendTo(b), m.Xid
}

func (c *conn) bundleControl(b []byte, typ uint16) []byte {
	return of13.NewBundleControl(c.next(), 1, typ, bundleFlags).AppendTo(b)
}

// bundle sends an open, n BUNDLE_ADDs, a barrier and a commit, as
// `ovs-ofctl -O OpenFlow13 --bundle add-flows` does, and waits for the
// commit's reply. A reader drains the switch's replies meanwhile, so an
// error for each of 100 000 adds cannot fill both socket buffers.
func (c *conn) bundle(n int) (time.Duration, error) {
	buf := c.bundleControl(nil, of13.BundleOpenRequest)
	var inner []byte
	for i := range n {
		xid := c.next()
		inner = flowMod(inner[:0], xid, i)
		add := of13.BundleAdd{BundleID: 1, Flags: bundleFlags, Message: inner}
		m := of13.Experimenter{Xid: xid, Experimenter: of13.ONFExperimenter, ExpType: of13.ONFTBundleAddMessage, Data: add.Append(nil)}
		buf = m.AppendTo(buf)
	}
	buf, _ = c.barrier(buf)
	buf = c.bundleControl(buf, of13.BundleCommitRequest)
	commit := c.xid

	done := make(chan error, 1)
	start := time.Now()
	go func() {
		for {
			msg, err := c.read()
			if err != nil {
				done <- err
				return
			}
			if h, _ := ofp.ParseHeader(msg); h.Xid == commit {
				done <- nil
				return
			}
		}
	}()
	if _, err := c.nc.Write(buf); err != nil {
		return 0, err
	}
	if err := <-done; err != nil {
		return 0, fmt.Errorf("bundle: %w", err)
	}
	return time.Since(start), nil
}

// add sends each flow-mod with a barrier and waits for the barrier's reply,
// as plain `ovs-ofctl add-flows` does.
func (c *conn) add(n int) (time.Duration, error) {
	msgs := make([][]byte, n)
	xids := make([]uint32, n)
	for i := range n {
		b := flowMod(nil, c.next(), i)
		msgs[i], xids[i] = c.barrier(b)
	}
	start := time.Now()
	for i, m := range msgs {
		if _, err := c.nc.Write(m); err != nil {
			return 0, err
		}
		if err := c.await(xids[i]); err != nil {
			return 0, fmt.Errorf("flow %d: %w", i, err)
		}
	}
	return time.Since(start), nil
}

// dump asks for every table's flows and counts the entries of the replies.
func (c *conn) dump(n int) (time.Duration, error) {
	body := (&of13.FlowStatsRequest{TableID: 0xff, OutPort: 0xffffffff, OutGroup: 0xffffffff,
		Match: of13.Match{Type: of13.OXMTypeMatch}}).Append(nil)
	req := of13.MultipartRequest{Xid: c.next(), MPType: of13.MPFlow, Body: body}
	b := req.AppendTo(nil)
	start := time.Now()
	if _, err := c.nc.Write(b); err != nil {
		return 0, err
	}
	entries := 0
	for {
		msg, err := c.read()
		if err != nil {
			return 0, err
		}
		h, _ := ofp.ParseHeader(msg)
		if h.Type != of13.TypeMultipartReply || h.Xid != req.Xid {
			continue
		}
		// ofp_multipart_reply: header, type, flags, 4 pad; then
		// ofp_flow_stats entries, each led by its length.
		if len(msg) < 16 {
			return 0, errors.New("short multipart reply")
		}
		for p := 16; p < len(msg); {
			if len(msg)-p < 2 {
				return 0, errors.New("truncated flow stats")
			}
			l := int(binary.BigEndian.Uint16(msg[p:]))
			if l < 56 || p+l > len(msg) {
				return 0, fmt.Errorf("flow stats entry of %d bytes", l)
			}
			entries++
			p += l
		}
		if binary.BigEndian.Uint16(msg[10:])&of13.MultipartMore == 0 {
			break
		}
	}
	d := time.Since(start)
	if entries != n {
		return 0, fmt.Errorf("dump: %d entries, want %d", entries, n)
	}
	return d, nil
}

// await reads until the reply with xid.
func (c *conn) await(xid uint32) error {
	for {
		msg, err := c.read()
		if err != nil {
			return err
		}
		if h, _ := ofp.ParseHeader(msg); h.Xid == xid {
			return nil
		}
	}
}

// read returns the next message other than an echo request (answered
// here); an OFPT_ERROR is returned as an error.
func (c *conn) read() ([]byte, error) {
	for {
		msg, err := c.r.ReadMessage()
		if err != nil {
			return nil, err
		}
		h, err := ofp.ParseHeader(msg)
		if err != nil {
			return nil, err
		}
		switch h.Type {
		case of13.TypeEchoRequest:
			reply := of13.EchoReply{Xid: h.Xid, Data: msg[ofp.HeaderLen:]}
			if _, err := c.nc.Write(reply.AppendTo(nil)); err != nil {
				return nil, err
			}
			continue
		case of13.TypeError:
			if len(msg) < 12 {
				return nil, fmt.Errorf("short OFPT_ERROR for xid %d", h.Xid)
			}
			return nil, fmt.Errorf("OFPT_ERROR type %d code %d for xid %d",
				binary.BigEndian.Uint16(msg[8:]), binary.BigEndian.Uint16(msg[10:]), h.Xid)
		}
		return msg, nil
	}
}
