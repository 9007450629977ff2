package ofagent

import (
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/of10"
	"github.com/govs/govs/internal/ofp/of13"
	"github.com/govs/govs/internal/ofproto"
)

// peer is a test controller on one end of a connection to the agent.
type peer struct {
	t  *testing.T
	nc net.Conn
	r  *ofp.Reader
}

// connect serves one side of a pipe as a controller connection and
// returns the other, after HELLO if version is not 0.
func connect(t *testing.T, ts *testSwitch, version uint8, controller bool) *peer {
	t.Helper()
	a, b := net.Pipe()
	c := newOfconn(ts.a, a, "test", controller)
	if !ts.a.addConn(c) {
		t.Fatal("agent closed")
	}
	ts.a.wg.Add(1)
	go func() { defer ts.a.wg.Done(); c.serve() }()
	p := &peer{t: t, nc: b, r: ofp.NewReader(b, 0)}
	t.Cleanup(func() { b.Close() })
	hello := p.read()
	if hello[1] != ofp.TypeHello {
		t.Fatalf("first message type %d", hello[1])
	}
	if version != 0 {
		p.write(helloMsg([]uint8{version}))
	}
	return p
}

func (p *peer) write(b []byte) {
	p.t.Helper()
	p.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := p.nc.Write(b); err != nil {
		p.t.Fatal(err)
	}
}

func (p *peer) read() []byte {
	p.t.Helper()
	p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	m, err := p.r.ReadMessage()
	if err != nil {
		p.t.Fatal(err)
	}
	return m
}

// expectError reads an OFPT_ERROR with type and code.
func (p *peer) expectError(typ, code uint16) {
	p.t.Helper()
	m := p.read()
	if m[1] != ofp.TypeError {
		p.t.Fatalf("got message type %d, want an error", m[1])
	}
	if gt, gc := binary.BigEndian.Uint16(m[8:]), binary.BigEndian.Uint16(m[10:]); gt != typ || gc != code {
		p.t.Fatalf("error %d/%d, want %d/%d", gt, gc, typ, code)
	}
}

// echo checks the connection still answers.
func (p *peer) echo(version uint8) {
	p.t.Helper()
	b, s := ofp.AppendHeader(nil, version, ofp.TypeEchoRequest, 99)
	b = append(b, "ping"...)
	p.write(ofp.EndMessage(b, s))
	m := p.read()
	if m[1] != ofp.TypeEchoReply || binary.BigEndian.Uint32(m[4:]) != 99 || string(m[8:]) != "ping" {
		p.t.Fatalf("echo reply %x", m)
	}
}

func TestHelloNegotiation(t *testing.T) {
	for _, c := range []struct {
		name  string
		hello []byte
		want  uint8
	}{
		{"bitmap 1.3", helloMsg([]uint8{ofp.Version13}), ofp.Version13},
		{"bitmap 1.0", helloMsg([]uint8{ofp.Version10}), ofp.Version10},
		{"bitmap 1.0 and 1.3", helloMsg([]uint8{ofp.Version10, ofp.Version13}), ofp.Version13},
		{"plain 1.0", []byte{1, 0, 0, 8, 0, 0, 0, 1}, ofp.Version10},
		{"plain 1.4 falls back to 1.3", []byte{5, 0, 0, 8, 0, 0, 0, 1}, ofp.Version13},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := newTestSwitch(t)
			p := connect(t, ts, 0, false)
			p.write(c.hello)
			p.echo(c.want)
		})
	}
	for _, c := range []struct {
		name  string
		hello []byte
	}{
		{"version 0", []byte{0, 0, 0, 8, 0, 0, 0, 1}},
		{"only 1.1", []byte{2, 0, 0, 8, 0, 0, 0, 1}},
		{"not a hello", []byte{4, 5, 0, 8, 0, 0, 0, 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := newTestSwitch(t)
			p := connect(t, ts, 0, false)
			p.write(c.hello)
			p.expectError(ofp.ETHelloFailed, 0)
		})
	}
}

func flowMod13(xid uint32, cmd uint8, prio uint16, match []ofp.OXM, insts ...of13.Instruction) []byte {
	fm := &of13.FlowMod{Xid: xid, Command: cmd, Priority: prio, BufferID: ofproto.NoBuffer,
		OutPort: ofproto.PortAny, OutGroup: ofproto.GroupAny,
		Match: of13.Match{Type: of13.OXMTypeMatch, Fields: match}, Instructions: insts}
	return fm.AppendTo(nil)
}

func applyOutput(port uint32) of13.Instruction {
	return &of13.Actions{Type: of13.InstApplyActions, Actions: []ofp.Action{&of13.Output{Port: port}}}
}

var ethTypeIP = ofp.OXM{Class: ofp.ClassOpenFlowBasic, Field: 5, Value: []byte{8, 0}}

func TestFlowModBarrierAndStats13(t *testing.T) {
	ts := newTestSwitch(t)
	p := connect(t, ts, ofp.Version13, true)
	p.write(flowMod13(1, 0, 10, []ofp.OXM{ethTypeIP}, applyOutput(2)))
	p.write(flowMod13(2, 0, 20, nil, applyOutput(1)))
	p.write(flowMod13(3, 1, 0, []ofp.OXM{ethTypeIP}, applyOutput(1))) // modify non-strict
	p.write((&of13.BarrierRequest{Xid: 4}).AppendTo(nil))
	m := p.read()
	if m[1] != of13.TypeBarrierReply || binary.BigEndian.Uint32(m[4:]) != 4 {
		t.Fatalf("barrier reply %x", m)
	}
	ts.mu.Lock()
	syncs := ts.syncs
	ts.mu.Unlock()
	if syncs != 1 {
		t.Fatalf("Sync called %d times before the barrier reply", syncs)
	}
	rules := ts.b.Flows(ofproto.AllFlows())
	if len(rules) != 2 {
		t.Fatalf("%d rules", len(rules))
	}
	req := &of13.FlowStatsRequest{TableID: ofproto.TableAll, OutPort: ofproto.PortAny, OutGroup: ofproto.GroupAny,
		Match: of13.Match{Type: of13.OXMTypeMatch}}
	p.write((&of13.MultipartRequest{Xid: 5, MPType: of13.MPFlow, Body: req.Append(nil)}).AppendTo(nil))
	rep, err := of13.Decode(p.read())
	if err != nil {
		t.Fatal(err)
	}
	body, err := of13.DecodeReplyBody(of13.MPFlow, rep.(*of13.MultipartReply).Body)
	if err != nil {
		t.Fatal(err)
	}
	stats := body.(*of13.FlowStatsList).Stats
	if len(stats) != 2 || stats[0].Priority != 20 || stats[1].Priority != 10 {
		t.Fatalf("flow stats %+v", stats)
	}
	out := stats[1].Instructions[0].(*of13.Actions).Actions[0].(*of13.Output)
	if out.Port != 1 {
		t.Fatalf("modify did not change the actions: %+v", out)
	}
	p.write(flowMod13(6, 3, 0, nil)) // delete all
	p.echo(ofp.Version13)
	if n := len(ts.b.Flows(ofproto.AllFlows())); n != 0 {
		t.Fatalf("%d rules after delete", n)
	}
}

func TestErrorsKeepConnection(t *testing.T) {
	ts := newTestSwitch(t)
	p := connect(t, ts, ofp.Version13, true)
	// Unknown message type.
	p.write([]byte{4, 99, 0, 8, 0, 0, 0, 1})
	p.expectError(ofp.ETBadRequest, ofp.BRCBadType)
	// Wrong version after negotiation.
	p.write([]byte{1, 2, 0, 8, 0, 0, 0, 2})
	p.expectError(ofp.ETBadRequest, ofp.BRCBadVersion)
	// Unknown match field.
	p.write(flowMod13(3, 0, 1, []ofp.OXM{{Class: ofp.ClassOpenFlowBasic, Field: 120, Value: []byte{1}}}))
	p.expectError(ofp.ETBadMatch, ofp.BMCBadField)
	// Output to a group that does not exist: the model's error.
	p.write(flowMod13(4, 0, 1, nil, &of13.Actions{Type: of13.InstApplyActions, Actions: []ofp.Action{&of13.Group{Group: 9}}}))
	p.expectError(ofp.ETBadAction, ofp.BACBadOutGroup)
	// Truncated body.
	p.write([]byte{4, of13.TypeFlowMod, 0, 12, 0, 0, 0, 5, 1, 2, 3, 4})
	p.expectError(ofp.ETBadRequest, ofp.BRCBadLen)
	// Unknown multipart.
	p.write((&of13.MultipartRequest{Xid: 6, MPType: 77}).AppendTo(nil))
	p.expectError(ofp.ETBadRequest, ofp.BRCBadMultipart)
	p.echo(ofp.Version13)
}

func TestRoles(t *testing.T) {
	ts := newTestSwitch(t)
	p1 := connect(t, ts, ofp.Version13, true)
	p2 := connect(t, ts, ofp.Version13, true)
	role := func(p *peer, r uint32, gen uint64) []byte {
		p.write((&of13.RoleRequest{Xid: 7, Role: r, GenerationID: gen}).AppendTo(nil))
		return p.read()
	}
	if m := role(p1, roleMaster, 5); m[1] != of13.TypeRoleReply || binary.BigEndian.Uint32(m[8:]) != roleMaster {
		t.Fatalf("master reply %x", m)
	}
	if m := role(p2, roleSlave, 5); binary.BigEndian.Uint32(m[8:]) != roleSlave {
		t.Fatalf("slave reply %x", m)
	}
	// Stale generation.
	p2.write((&of13.RoleRequest{Xid: 8, Role: roleMaster, GenerationID: 4}).AppendTo(nil))
	p2.expectError(ofp.ETRoleRequestFailed, 0)
	// Slaves may not change state.
	p2.write(flowMod13(9, 0, 1, nil, applyOutput(1)))
	p2.expectError(ofp.ETBadRequest, ofp.BRCIsSlave)
	p2.write(of13.NewBundleControl(11, 1, of13.BundleOpenRequest, 0).AppendTo(nil)) // nor open a bundle
	p2.expectError(ofp.ETBadRequest, ofp.BRCIsSlave)
	// A new master demotes the old one.
	role(p2, roleMaster, 6)
	p1.write(flowMod13(10, 0, 1, nil, applyOutput(1)))
	p1.expectError(ofp.ETBadRequest, ofp.BRCIsSlave)
	if st := ts.a.ControllerStatus(); len(st) != 0 {
		t.Fatalf("status of unconfigured targets: %+v", st)
	}
}

func TestPacketInAndPortStatus13(t *testing.T) {
	ts := newTestSwitch(t)
	p := connect(t, ts, ofp.Version13, true)
	p.echo(ofp.Version13) // HELLO done
	var k flow.Key
	k.InPort, k.Regs[0] = 1, 5
	ts.a.PacketIn(&ofproto.PacketIn{Reason: ofproto.ReasonAction, Cookie: 0x42, Match: k, Packet: []byte{1, 2, 3},
		TotalLen: 60, BufferID: ofproto.NoBuffer, MaxLen: 3})
	m, err := of13.Decode(p.read())
	if err != nil {
		t.Fatal(err)
	}
	pi := m.(*of13.PacketIn)
	if pi.Reason != 1 || pi.Cookie != 0x42 || pi.TotalLen != 60 || string(pi.Data) != "\x01\x02\x03" || len(pi.Match.Fields) != 2 {
		t.Fatalf("packet-in %+v", pi)
	}
	ts.b.RLock()
	port := *ts.b.Port(2)
	ts.b.RUnlock()
	ts.a.PortChanged(PortModified, &port)
	m, err = of13.Decode(p.read())
	if err != nil {
		t.Fatal(err)
	}
	if ps := m.(*of13.PortStatus); ps.Reason != PortModified || ps.Desc.PortNo != 2 {
		t.Fatalf("port status %+v", ps)
	}
}

func TestPacketIn10AndFlowRemoved(t *testing.T) {
	ts := newTestSwitch(t)
	p := connect(t, ts, ofp.Version10, true)
	p.echo(ofp.Version10)
	var k flow.Key
	k.InPort = ofproto.PortLocal
	ts.a.PacketIn(&ofproto.PacketIn{Reason: ofproto.ReasonNoMatch, Match: k, Packet: make([]byte, 200),
		TotalLen: 200, MaxLen: ofproto.ControllerMaxLenNoBuffer})
	m, err := of10.Decode(p.read())
	if err != nil {
		t.Fatal(err)
	}
	pi := m.(*of10.PacketIn)
	if pi.InPort != 0xfffe || len(pi.Data) != 128 || pi.TotalLen != 200 {
		t.Fatalf("packet-in in_port %#x len %d total %d (miss_send_len 128)", pi.InPort, len(pi.Data), pi.TotalLen)
	}
	fm := ofproto.NewFlowMod(ofproto.FlowAdd)
	fm.Priority, fm.Flags = 5, ofproto.FlagSendFlowRem
	if err := ts.b.FlowMod(fm); err != nil {
		t.Fatal(err)
	}
	del := ofproto.NewFlowMod(ofproto.FlowDelete)
	del.Table = ofproto.TableAll
	if err := ts.b.FlowMod(del); err != nil {
		t.Fatal(err)
	}
	m, err = of10.Decode(p.read())
	if err != nil {
		t.Fatal(err)
	}
	if fr := m.(*of10.FlowRemoved); fr.Priority != 5 || fr.Reason != uint8(ofproto.RemovedDelete) {
		t.Fatalf("flow removed %+v", fr)
	}
}

func TestConnectivityHook(t *testing.T) {
	ts := newTestSwitch(t)
	if ts.a.Connected() {
		t.Fatal("connected before any controller")
	}
	p := connect(t, ts, ofp.Version13, true)
	p.echo(ofp.Version13)
	if !ts.a.Connected() {
		t.Fatal("not connected")
	}
	p.nc.Close()
	deadline := time.Now().Add(5 * time.Second)
	for ts.a.Connected() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.conn) != 2 || !ts.conn[0] || ts.conn[1] {
		t.Fatalf("OnConnectivity calls %v", ts.conn)
	}
}

func TestActiveControllerReconnects(t *testing.T) {
	ts := newTestSwitch(t)
	l, target := controllerListener(t)
	if err := ts.a.SetControllers([]Controller{{Target: target}, {Target: "foo:1.2.3.4:6653"}}); err == nil {
		t.Fatal("unknown method accepted")
	}
	for i := 0; i < 2; i++ {
		nc, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		p := &peer{t: t, nc: nc, r: ofp.NewReader(nc, 0)}
		p.read()
		p.write(helloMsg([]uint8{ofp.Version13}))
		p.echo(ofp.Version13)
		st := ts.a.ControllerStatus()
		if len(st) != 1 || !st[0].IsConnected || st[0].Target != target {
			t.Fatalf("status %+v", st)
		}
		nc.Close() // the agent reconnects after its backoff
	}
	if err := ts.a.SetControllers(nil); err != nil {
		t.Fatal(err)
	}
	if st := ts.a.ControllerStatus(); len(st) != 0 {
		t.Fatalf("status after removing: %+v", st)
	}
}
