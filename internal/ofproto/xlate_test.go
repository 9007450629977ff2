package ofproto

import (
	"testing"

	"github.com/govs/govs/internal/dpif"
	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
	"github.com/govs/govs/internal/packet"
	"github.com/govs/govs/internal/race"
)

func TestXlateOutputAndMask(t *testing.T) {
	o, b, _ := newTestSwitch(t, 3)
	addFlow(t, b, 0, 10, matchOf(flow.FieldInPort, 1), apply(outAct(2)))
	u := upcall(t, o, tcpKey(1, 1, 2, 3, 4))
	if got := outPorts(u.Actions); !eqPorts(got, []uint32{12}) {
		t.Fatalf("outputs %v, want [12]", got)
	}
	want := flow.Mask{InPort: 0xffffffff, RecircID: 0xffffffff}
	if u.Mask != want {
		t.Errorf("mask has more than in_port: %+v", u.Mask)
	}
	if u.Ref == 0 || o.XCacheLen() != 1 {
		t.Errorf("no xcache entry: ref %d, len %d", u.Ref, o.XCacheLen())
	}
}

func TestXlateNoOutputToIngressUnlessInPort(t *testing.T) {
	o, b, _ := newTestSwitch(t, 3)
	addFlow(t, b, 0, 10, matchOf(flow.FieldInPort, 1), apply(outAct(1), outAct(2)))
	addFlow(t, b, 0, 10, matchOf(flow.FieldInPort, 2), apply(outAct(PortInPort)))
	if got := outPorts(upcall(t, o, tcpKey(1, 1, 2, 3, 4)).Actions); !eqPorts(got, []uint32{12}) {
		t.Errorf("output:1 from port 1: %v, want [12]", got)
	}
	if got := outPorts(upcall(t, o, tcpKey(2, 1, 2, 3, 4)).Actions); !eqPorts(got, []uint32{12}) {
		t.Errorf("IN_PORT from port 2: %v, want [12]", got)
	}
}

func TestXlateMissDrops(t *testing.T) {
	o, _, _ := newTestSwitch(t, 2)
	if u := upcall(t, o, tcpKey(1, 1, 2, 3, 4)); len(u.Actions) != 0 {
		t.Errorf("miss gave actions %v", u.Actions)
	}
}

func TestXlateSetFieldCommitsBeforeOutput(t *testing.T) {
	o, b, _ := newTestSwitch(t, 3)
	m := matchOf(flow.FieldEthType, flow.EthTypeIPv4)
	addFlow(t, b, 0, 10, m, apply(outAct(2), setFieldAct(flow.FieldIPv4Src, 0x0a000009), outAct(3)))
	u := upcall(t, o, tcpKey(1, 1, 2, 3, 4))
	if len(u.Actions) != 3 || u.Actions[0].Op != odp.OpOutput || u.Actions[1].Op != odp.OpSet ||
		u.Actions[1].Field != odp.FieldIPv4Src || u.Actions[2].Op != odp.OpOutput {
		t.Fatalf("actions %+v", u.Actions)
	}
	if u.Mask.NwSrc != 0 {
		t.Errorf("set-field made nw_src part of the megaflow")
	}
	outs := execODP(u.Key, u.Actions)
	if outs[0].key.NwSrc != 1 || outs[1].key.NwSrc != 0x0a000009 {
		t.Errorf("outputs saw nw_src %x, %x", outs[0].key.NwSrc, outs[1].key.NwSrc)
	}
}

func TestXlateGotoWriteMetadataAndActionSet(t *testing.T) {
	o, b, _ := newTestSwitch(t, 3)
	addFlow(t, b, 0, 10, tcpMatch(), Instructions{
		Write:         []Action{outAct(3), setFieldAct(flow.FieldTCPDst, 80), {Type: ActPushVLAN, Ethertype: flow.EthTypeVLAN}},
		WriteMetadata: true, Metadata: 7, MetadataMask: 0xff, GotoTable: 1,
	})
	addFlow(t, b, 1, 10, matchOf(flow.FieldMetadata, 7), Instructions{
		Write: []Action{setFieldAct(flow.FieldVLANVID, 0x1000|5)}, GotoTable: -1,
	})
	u := upcall(t, o, tcpKey(1, 1, 2, 3, 4))
	// Action set order: push_vlan, then set-fields, then output.
	var ops []odp.Op
	for _, a := range u.Actions {
		ops = append(ops, a.Op)
	}
	outs := execODP(u.Key, u.Actions)
	if len(outs) != 1 || outs[0].port != 13 {
		t.Fatalf("outputs %+v (ops %v)", outs, ops)
	}
	k := outs[0].key
	if k.VLANs[0].TCI != flow.VLANCFI|5 || k.VLANs[0].TPID != flow.EthTypeVLAN || k.TpDst != 80 {
		t.Errorf("packet out: vlan %+v tp_dst %d", k.VLANs[0], k.TpDst)
	}
}

func TestXlateClearActions(t *testing.T) {
	o, b, _ := newTestSwitch(t, 3)
	addFlow(t, b, 0, 10, MatchAll(), Instructions{Write: []Action{outAct(3)}, GotoTable: 1})
	addFlow(t, b, 1, 10, MatchAll(), Instructions{ClearActions: true, Write: []Action{outAct(2)}, GotoTable: -1})
	if got := outPorts(upcall(t, o, tcpKey(1, 1, 2, 3, 4)).Actions); !eqPorts(got, []uint32{12}) {
		t.Errorf("outputs %v, want [12]", got)
	}
}

func TestXlateResubmitSeesModifiedFields(t *testing.T) {
	o, b, _ := newTestSwitch(t, 3)
	addFlow(t, b, 0, 10, MatchAll(), apply(setFieldAct(flow.FieldReg0, 5), Action{Type: ActResubmit, Port: PortInPort, Table: 1}))
	addFlow(t, b, 1, 10, matchOf(flow.FieldReg0, 5), apply(outAct(3)))
	addFlow(t, b, 1, 5, MatchAll(), apply(outAct(2)))
	u := upcall(t, o, tcpKey(1, 1, 2, 3, 4))
	if got := outPorts(u.Actions); !eqPorts(got, []uint32{13}) {
		t.Errorf("outputs %v, want [13]", got)
	}
	if u.Mask.Regs != [flow.NumRegs]uint32{} {
		t.Errorf("registers leaked into the datapath mask")
	}
}

func TestXlateResubmitLoopIsBounded(t *testing.T) {
	o, b, _ := newTestSwitch(t, 2)
	addFlow(t, b, 0, 10, MatchAll(), apply(outAct(2), Action{Type: ActResubmit, Port: PortInPort, Table: 0}))
	if u := upcall(t, o, tcpKey(1, 1, 2, 3, 4)); len(u.Actions) != 0 {
		t.Errorf("looping translation produced %d actions, want drop", len(u.Actions))
	}
}

func TestXlateDecTTL(t *testing.T) {
	var got []*PacketIn
	o, b, _ := newTestSwitch(t, 2)
	o.opts.OnPacketIn = func(_ string, pi *PacketIn) { got = append(got, pi) }
	addFlow(t, b, 0, 10, MatchAll(), apply(Action{Type: ActDecNwTTL, Controllers: []uint16{3}}, outAct(2)))
	k := tcpKey(1, 1, 2, 3, 4)
	u := upcall(t, o, k)
	outs := execODP(k, u.Actions)
	if len(outs) != 1 || outs[0].key.NwTTL != 63 || u.Mask.NwTTL != 0xff {
		t.Fatalf("ttl 64: outs %+v mask ttl %#x", outs, u.Mask.NwTTL)
	}
	k.NwTTL = 1
	u = upcall(t, o, k)
	if len(u.Actions) != 1 || u.Actions[0].Op != odp.OpUserspace {
		t.Fatalf("ttl 1: actions %+v, want one userspace", u.Actions)
	}
	ck, ok := o.cookies.get(u.Actions[0].Arg)
	if !ok || ck.reason != ReasonInvalidTTL || ck.controllerID != 3 {
		t.Errorf("cookie %+v", ck)
	}
}

func TestXlatePushPopVLANAndMPLS(t *testing.T) {
	o, b, _ := newTestSwitch(t, 2)
	addFlow(t, b, 0, 10, MatchAll(), apply(
		Action{Type: ActPushVLAN, Ethertype: flow.EthTypeQinQ},
		setFieldAct(flow.FieldVLANVID, 0x1000|9),
		Action{Type: ActPushMPLS, Ethertype: flow.EthTypeMPLS},
		Action{Type: ActDecMPLSTTL},
		outAct(2),
		Action{Type: ActPopMPLS, Ethertype: flow.EthTypeIPv4},
		Action{Type: ActPopVLAN},
		outAct(2)))
	k := tcpKey(1, 1, 2, 3, 4)
	u := upcall(t, o, k)
	outs := execODP(k, u.Actions)
	if len(outs) != 2 {
		t.Fatalf("outs %+v", outs)
	}
	a := outs[0].key
	if a.VLANs[0].TPID != flow.EthTypeQinQ || a.VLANs[0].TCI&0xfff != 9 || a.EthType != flow.EthTypeMPLS ||
		a.MPLS[0]&0xff != 63 || a.MPLS[0]&mplsBOS == 0 {
		t.Errorf("first output %+v", a)
	}
	if c := outs[1].key; c.VLANs[0].TCI != 0 || c.EthType != flow.EthTypeIPv4 {
		t.Errorf("second output %+v", c)
	}
}

func TestXlateFloodAndAll(t *testing.T) {
	o, b, _ := newTestSwitch(t, 4)
	b.SetPortConfig(3, PortNoFlood, PortNoFlood)
	addFlow(t, b, 0, 10, matchOf(flow.FieldInPort, 1), apply(outAct(PortFlood)))
	addFlow(t, b, 0, 10, matchOf(flow.FieldInPort, 2), apply(outAct(PortAll)))
	if got := outPorts(upcall(t, o, tcpKey(1, 1, 2, 3, 4)).Actions); !eqPorts(got, []uint32{12, 14}) {
		t.Errorf("flood: %v", got)
	}
	if got := outPorts(upcall(t, o, tcpKey(2, 1, 2, 3, 4)).Actions); !eqPorts(got, []uint32{11, 13, 14}) {
		t.Errorf("all: %v", got)
	}
}

func TestXlateController(t *testing.T) {
	o, b, _ := newTestSwitch(t, 2)
	var got *PacketIn
	o.opts.OnPacketIn = func(br string, pi *PacketIn) { got = pi }
	addFlow(t, b, 0, 0, MatchAll(), apply(Action{Type: ActOutput, Port: PortController, MaxLen: 4}))
	u := upcall(t, o, tcpKey(1, 1, 2, 3, 4))
	if len(u.Actions) != 1 || u.Actions[0].Op != odp.OpUserspace || u.Actions[0].Arg2 != 4 {
		t.Fatalf("actions %+v", u.Actions)
	}
	ck, _ := o.cookies.get(u.Actions[0].Arg)
	if ck.reason != ReasonNoMatch || ck.inPort != 1 {
		t.Errorf("table-miss entry cookie %+v", ck)
	}
	_ = got
}

func TestXlatePatchPort(t *testing.T) {
	o, b, _ := newTestSwitch(t, 2)
	b2 := NewBridge("br1")
	b2.AddPort(&Port{OFPort: 1, Name: "peer-b", ODPPort: NoODPPort, PatchPeer: "peer-a"})
	b2.AddPort(&Port{OFPort: 2, Name: "q2", ODPPort: 22})
	b.AddPort(&Port{OFPort: 3, Name: "peer-a", ODPPort: NoODPPort, PatchPeer: "peer-b"})
	o.AddBridge(b2)
	addFlow(t, b, 0, 10, matchOf(flow.FieldInPort, 1), apply(setFieldAct(flow.FieldReg1, 1), outAct(3), outAct(2)))
	addFlow(t, b2, 0, 10, matchOf(flow.FieldInPort, 1, flow.FieldReg1, 0, flow.FieldEthType, flow.EthTypeIPv4, flow.FieldIPProto, 6), apply(setFieldAct(flow.FieldTCPDst, 99), outAct(2)))
	k := tcpKey(1, 1, 2, 3, 4)
	u := upcall(t, o, k)
	outs := execODP(k, u.Actions)
	if len(outs) != 2 || outs[0].port != 22 || outs[0].key.TpDst != 99 || outs[1].port != 12 || outs[1].key.TpDst != 4 {
		t.Fatalf("outs %+v", outs)
	}
}

func TestXlateRegMoveAndOutputReg(t *testing.T) {
	o, b, _ := newTestSwitch(t, 3)
	addFlow(t, b, 0, 10, tcpMatch(), apply(
		Action{Type: ActRegMove, SrcField: flow.FieldTCPDst, SrcOfs: 0, Field: flow.FieldReg2, DstOfs: 0, NBits: 16},
		Action{Type: ActOutputReg, SrcField: flow.FieldReg2, SrcOfs: 0, NBits: 16, MaxLen: 0xffff}))
	addFlow(t, b, 0, 20, matchOf(flow.FieldEthType, flow.EthTypeARP), apply())
	u := upcall(t, o, tcpKey(1, 1, 2, 3, 3))
	if got := outPorts(u.Actions); !eqPorts(got, []uint32{13}) {
		t.Errorf("output_reg: %v", got)
	}
	if u.Mask.TpDst != 0xffff {
		t.Errorf("reg_move source not in the megaflow")
	}
}

func TestTraceRecordsLookups(t *testing.T) {
	o, b, _ := newTestSwitch(t, 2)
	addFlow(t, b, 0, 10, MatchAll(), Instructions{GotoTable: 1})
	addFlow(t, b, 1, 10, MatchAll(), apply(outAct(2)))
	k := tcpKey(1, 1, 2, 3, 4)
	k.InPort = 1
	tr, err := o.Trace("br0", &k)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range tr.Steps {
		if s.Kind == TraceLookup && s.Rule != nil {
			n++
		}
	}
	if n != 2 || len(tr.Actions) != 1 || tr.String() == "" {
		t.Errorf("trace: %d lookups, actions %v\n%s", n, tr.Actions, tr)
	}
	if _, err := o.Trace("nope", &k); err == nil {
		t.Error("trace of unknown bridge succeeded")
	}
}

func TestPacketOutTable(t *testing.T) {
	o, b, _ := newTestSwitch(t, 2)
	addFlow(t, b, 0, 10, MatchAll(), apply(outAct(2)))
	pkt := make([]byte, 60)
	pkt[12], pkt[13] = 0x08, 0x06
	acts, err := o.PacketOut("br0", PortController, []Action{outAct(PortTable), outAct(1)}, pkt)
	if err != nil {
		t.Fatal(err)
	}
	if got := outPorts(acts); !eqPorts(got, []uint32{12, 11}) {
		t.Errorf("packet-out outputs %v", got)
	}
}

func TestUpcallAllocs(t *testing.T) {
	race.SkipAllocs(t)
	o, b, _ := newTestSwitch(t, 3)
	addFlow(t, b, 0, 10, matchOf(flow.FieldEthType, flow.EthTypeIPv4), apply(setFieldAct(flow.FieldIPv4Dst, 9), outAct(2)))
	u := upcall(t, o, tcpKey(1, 1, 2, 3, 4))
	o.Release(u.Ref, 0, 0, 0)
	allocs := testing.AllocsPerRun(100, func() {
		u.Key = tcpKey(1, 1, 2, 3, 4)
		o.Upcall(u)
		o.Release(u.Ref, 0, 0, 0)
	})
	if allocs != 0 {
		t.Errorf("upcall allocates %.1f times", allocs)
	}
}

func tcpMatch() Match { return matchOf(flow.FieldEthType, flow.EthTypeIPv4, flow.FieldIPProto, 6) }

// TestXlatePushFillsNewHeader: a first MPLS label gets label 0, TC 0 and
// the IP TTL, or TTL 0 on a non-IP packet (OF1.3 §5.12.1); a further
// label copies the outer one; a pushed VLAN tag starts at VID 0, PCP 0
// whatever tag it covers, as OVS does.
func TestXlatePushFillsNewHeader(t *testing.T) {
	o, b, _ := newTestSwitch(t, 2)
	addFlow(t, b, 0, 10, matchOf(flow.FieldInPort, 1), apply(Action{Type: ActPushMPLS, Ethertype: flow.EthTypeMPLS}, outAct(2)))
	addFlow(t, b, 0, 10, matchOf(flow.FieldInPort, 2), apply(Action{Type: ActPushVLAN, Ethertype: flow.EthTypeVLAN}, outAct(1)))
	ip := tcpKey(1, 1, 2, 3, 4)
	ip.NwTOS, ip.NwTTL = 0xe0, 33 // precedence 7: not copied
	arp := flow.Key{InPort: 11, EthType: flow.EthTypeARP, ArpOp: 1, NwTTL: 0}
	labelled := flow.Key{InPort: 11, EthType: flow.EthTypeMPLS, MPLS: [flow.MaxMPLS]uint32{5<<12 | 3<<9 | mplsBOS | 17}}
	for _, tc := range []struct {
		name string
		k    flow.Key
		want [2]uint32
	}{
		{"ipv4", ip, [2]uint32{mplsBOS | 33, 0}},
		{"arp", arp, [2]uint32{mplsBOS, 0}},
		{"labelled", labelled, [2]uint32{5<<12 | 3<<9 | 17, labelled.MPLS[0]}},
	} {
		outs := execODP(tc.k, upcall(t, o, tc.k).Actions)
		if len(outs) != 1 || outs[0].key.EthType != flow.EthTypeMPLS || [2]uint32(outs[0].key.MPLS[:2]) != tc.want {
			t.Errorf("%s: outs %+v, want labels %#x", tc.name, outs, tc.want)
		}
	}
	tagged := tcpKey(2, 1, 2, 3, 4)
	tagged.VLANs[0] = flow.VLAN{TPID: flow.EthTypeVLAN, TCI: flow.VLANCFI | 5<<13 | 9}
	outs := execODP(tagged, upcall(t, o, tagged).Actions)
	if len(outs) != 1 || outs[0].key.VLANs[0] != (flow.VLAN{TPID: flow.EthTypeVLAN, TCI: flow.VLANCFI}) || outs[0].key.VLANs[1] != tagged.VLANs[0] {
		t.Errorf("push_vlan on a tagged packet: outs %+v", outs)
	}
}

// upcallFrame runs an upcall of frame arriving on datapath port 11 and
// executes its actions on the frame's key.
func upcallFrame(t *testing.T, o *Ofproto, frame []byte) (*dpif.Upcall, []outRec) {
	t.Helper()
	var buf packet.Buffer
	buf.Reset(frame, 0, len(frame))
	u := &dpif.Upcall{Packet: &buf}
	flow.Parse(&buf, &u.Key)
	u.Key.InPort = 11
	if err := o.Upcall(u); err != nil {
		t.Fatal(err)
	}
	return u, execODP(u.Key, u.Actions)
}

// TestXlatePopMPLSReparsesPacket: after pop_mpls of the bottom label,
// a later table matches and rewrites the IP and TCP headers under it,
// read from the upcall's packet (OVS recirculates); the megaflow is not
// installed. Without the packet (revalidation) translation stops there.
func TestXlatePopMPLSReparsesPacket(t *testing.T) {
	o, b, _ := newTestSwitch(t, 2)
	in := apply(Action{Type: ActPopMPLS, Ethertype: flow.EthTypeIPv4})
	in.GotoTable = 1
	addFlow(t, b, 0, 10, MatchAll(), in)
	addFlow(t, b, 1, 10, matchOf(flow.FieldEthType, int(flow.EthTypeIPv4), flow.FieldIPProto, int(flow.IPProtoTCP), flow.FieldTCPDst, 80),
		apply(Action{Type: ActDecNwTTL}, setFieldAct(flow.FieldTCPDst, 8080), outAct(2)))

	// 02:..:02 <- 02:..:01, MPLS label 5 (bottom, TTL 9), IPv4 TCP 10.0.0.1:1234 -> 10.0.0.2:80, TTL 64.
	frame := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0x47, 0, 0, 0x51, 9,
		0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0x04, 0xd2, 0, 80, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0}
	u, outs := upcallFrame(t, o, frame)
	if len(outs) != 1 || outs[0].port != 12 {
		t.Fatalf("actions %+v: outputs %+v, want one to port 12", u.Actions, outs)
	}
	k := outs[0].key
	if k.EthType != flow.EthTypeIPv4 || k.MPLS[0] != 0 || k.NwTTL != 63 || k.TpDst != 8080 || !u.NoInstall {
		t.Errorf("output %+v (install %v), want IPv4 TTL 63 to port 8080, no MPLS, not installed", k, !u.NoInstall)
	}

	r := &dpif.Revalidation{Key: u.Key, Actions: u.Actions}
	if err := o.Revalidate(r); err != nil {
		t.Fatal(err)
	}
	if got := outPorts(r.Actions); len(got) != 0 {
		t.Errorf("without a packet: outputs %v, want none", got)
	}
}
