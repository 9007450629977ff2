package ofagent

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/of13"
	"github.com/govs/govs/internal/ofproto"
)

// ofconn is one OpenFlow connection (OVS's ofconn): a controller's or a
// management tool's.
//
// Inbound flow: serve reads one message at a time and handles it to
// completion before reading the next, so every reply, error and barrier
// follows the order of the requests. Outbound: every message goes through
// out to the writer goroutine; replies wait for room, asynchronous
// messages (packet-in, flow-removed, port-status) are dropped and counted
// when the controller does not keep up, as OVS's rconn does.
//
// The negotiated state below mu is written by the serving goroutine and
// read by the goroutines that send asynchronous messages.
type ofconn struct {
	a          *Agent
	nc         net.Conn
	target     string
	controller bool // counts for fail_mode, probed, gets packet-ins by default
	since      time.Time

	out     chan []byte
	done    chan struct{}
	once    sync.Once
	ready   atomic.Bool  // HELLO done
	lastRx  atomic.Int64 // unix ns of the last byte received
	probe   atomic.Int64 // controllers: inactivity probe interval (ns), <= 0 none
	dropped atomic.Uint64
	reason  atomic.Pointer[error] // why the switch hung up, when it did

	mu             sync.Mutex
	version        uint8
	role           uint32 // OF1.3 numbering: roleEqual, roleMaster, roleSlave
	async          asyncConfig
	missSendLen    uint16
	configFlags    uint16
	nxmFlowFormat  bool // NXT_SET_FLOW_FORMAT nxm: flow stats/removed as NX
	nxPacketIn     bool // NXT_SET_PACKET_IN_FORMAT nxt_packet_in
	flowModTableID bool // NXT_FLOW_MOD_TABLE_ID: table in the command's high byte
	controllerID   uint16

	bundles    map[uint32]*bundle // serving goroutine only
	bundleWire of13.FlowMod       // bundleAdd's decoding, serving goroutine only
	onfWire    of13.Experimenter  // handle13's ONF messages, serving goroutine only
	bundleFM   ofproto.FlowMod    // bundleAdd's conversions, serving goroutine only
	bundleInst instMemo           // bundleFlowMod's last instructions, serving goroutine only
}

// outQueue bounds the messages waiting for the writer.
const outQueue = 256

func newOfconn(a *Agent, nc net.Conn, target string, controller bool) *ofconn {
	c := &ofconn{
		a: a, nc: nc, target: target, controller: controller, since: time.Now(),
		out:     make(chan []byte, outQueue),
		done:    make(chan struct{}),
		role:    roleEqual,
		async:   defaultAsync,
		bundles: map[uint32]*bundle{},
	}
	if controller {
		// Service connections (ovs-ofctl) get no table-miss packet-ins
		// until they ask with SET_CONFIG, as in OVS.
		c.missSendLen = 128
		c.probe.Store(int64(a.opts.ProbeInterval))
	}
	c.lastRx.Store(time.Now().UnixNano())
	return c
}

func (c *ofconn) close() {
	c.closeWith(nil)
}

// closeWith closes the connection for reason (nil: no error to report),
// which serve then returns (Controller.status last_error).
func (c *ofconn) closeWith(reason error) {
	c.once.Do(func() {
		if reason != nil {
			c.reason.Store(&reason)
		}
		close(c.done)
		c.nc.Close()
	})
}

// serve runs the connection until it closes and returns why.
func (c *ofconn) serve() error {
	defer c.a.delConn(c)
	var wg sync.WaitGroup
	defer func() {
		c.close() // stops the writer and the prober
		wg.Wait()
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.writer()
	}()
	if c.controller {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.prober()
		}()
	}
	// Buffered: one read syscall brings many messages (a bundle or an
	// add-flows stream), not two per message.
	r := ofp.NewReader(bufio.NewReaderSize(rxCounter{c}, 64<<10), 0)
	c.send(helloMsg(c.a.opts.Versions))
	msg, err := r.ReadMessage()
	if err != nil {
		return err
	}
	if err := c.hello(msg); err != nil {
		c.flush()
		return err
	}
	c.ready.Store(true)
	if c.controller {
		c.a.controllerUp()
		defer c.a.controllerDown()
	}
	for {
		msg, err := r.ReadMessage()
		if err != nil {
			if errors.Is(err, ofp.ErrBadLen) && len(msg) >= ofp.HeaderLen {
				// The stream is lost: answer, then hang up.
				c.sendError(ofp.ErrBadLen, msg)
				c.flush()
			}
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				if why := c.reason.Load(); why != nil {
					return *why
				}
				return nil
			}
			return err
		}
		c.handle(msg)
	}
}

// flush waits (briefly) until the writer sent what is queued.
func (c *ofconn) flush() {
	deadline := time.Now().Add(time.Second)
	for len(c.out) > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(5 * time.Millisecond)
}

type rxCounter struct{ c *ofconn }

func (r rxCounter) Read(b []byte) (int, error) {
	n, err := r.c.nc.Read(b)
	if n > 0 {
		r.c.lastRx.Store(time.Now().UnixNano())
	}
	return n, err
}

func (c *ofconn) writer() {
	for {
		select {
		case <-c.done:
			return
		case b := <-c.out:
			c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.nc.Write(b); err != nil {
				c.close()
				return
			}
		}
	}
}

// prober sends an echo request after a probe interval of silence and
// drops the connection after another interval without an answer (OVS's
// inactivity probe). The interval is read at every check, so a changed
// Controller.inactivity_probe applies to the live connection.
func (c *ofconn) prober() {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	probed := false
	for {
		interval := time.Duration(c.probe.Load())
		check := time.Second // probes disabled: look again later
		if interval > 0 {
			check = max(interval/4, time.Millisecond)
		}
		t.Reset(check)
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		if interval = time.Duration(c.probe.Load()); interval <= 0 {
			probed = false
			continue
		}
		idle := time.Since(time.Unix(0, c.lastRx.Load()))
		switch {
		case idle < interval:
			probed = false
		case idle >= 2*interval:
			c.a.log.Info("openflow connection timed out", "target", c.target, "idle", idle)
			c.closeWith(fmt.Errorf("no response to inactivity probe after %v, disconnecting", idle.Round(time.Second)))
			return
		case !probed && c.ready.Load():
			probed = true
			c.sendAsync(echoRequest(c.version))
		}
	}
}

// send queues a reply, waiting for room.
func (c *ofconn) send(b []byte) {
	select {
	case c.out <- b:
	case <-c.done:
	}
}

// sendAsync queues an asynchronous message, dropping it if the queue is
// full.
func (c *ofconn) sendAsync(b []byte) {
	select {
	case c.out <- b:
	default:
		c.dropped.Add(1)
	}
}

// sendError answers msg with err: an *ofp.Error or *ofproto.OFError is
// sent as is, anything else as OFPBRC_EPERM.
func (c *ofconn) sendError(err error, msg []byte) {
	var e *ofp.Error
	var oe *ofproto.OFError
	switch {
	case errors.As(err, &e):
	case errors.As(err, &oe):
		e = &ofp.Error{Type: oe.Type, Code: oe.Code}
	default:
		c.a.log.Warn("openflow request failed", "target", c.target, "err", err)
		e = &ofp.Error{Type: ofp.ETBadRequest, Code: ofp.BRCEperm}
	}
	var xid uint32
	if len(msg) >= ofp.HeaderLen {
		xid = uint32(msg[4])<<24 | uint32(msg[5])<<16 | uint32(msg[6])<<8 | uint32(msg[7])
	}
	v := c.getVersion()
	if v == 0 && len(msg) > 0 {
		v = msg[0]
	}
	c.send(ofp.ErrorReply(nil, v, xid, e, msg))
}

func (c *ofconn) getVersion() uint8 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version
}

// sendMsg encodes and queues a reply.
func (c *ofconn) sendMsg(m ofp.Message) { c.send(m.AppendTo(nil)) }

// handle dispatches one message by the negotiated version; no message
// makes it panic (FuzzHandle), and a bad one gets an OFPT_ERROR.
func (c *ofconn) handle(msg []byte) {
	if msg[0] != c.version {
		if msg[1] == ofp.TypeHello {
			return
		}
		c.sendError(ofp.ErrBadVersion, msg)
		return
	}
	var err error
	if c.version == ofp.Version13 {
		err = c.handle13(msg)
	} else {
		err = c.handle10(msg)
	}
	if err != nil {
		c.sendError(err, msg)
	}
}
