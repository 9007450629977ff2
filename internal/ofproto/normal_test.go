package ofproto

import (
	"testing"
	"time"

	"github.com/govs/govs/internal/dpif"
	"github.com/govs/govs/internal/flow"
)

func addGroup(t testing.TB, b *Bridge, id uint32, typ GroupType, buckets ...Bucket) {
	t.Helper()
	for i := range buckets {
		if buckets[i].WatchPort == 0 {
			buckets[i].WatchPort = PortAny
		}
		if buckets[i].WatchGroup == 0 {
			buckets[i].WatchGroup = GroupAny
		}
	}
	if err := b.GroupMod(&GroupMod{Command: GroupAdd, GroupSpec: GroupSpec{ID: id, Type: typ, Buckets: buckets}}); err != nil {
		t.Fatal(err)
	}
}

func TestGroupAllBucketsSeeOriginalPacket(t *testing.T) {
	o, b, _ := newTestSwitch(t, 3)
	addGroup(t, b, 1, GroupTypeAll,
		Bucket{Actions: []Action{setFieldAct(flow.FieldTCPDst, 80), outAct(2)}},
		Bucket{Actions: []Action{outAct(3)}})
	addFlow(t, b, 0, 10, tcpMatch(), apply(Action{Type: ActGroup, Group: 1}))
	k := tcpKey(1, 1, 2, 3, 4)
	u := upcall(t, o, k)
	outs := execODP(k, u.Actions)
	if len(outs) != 2 || outs[0].key.TpDst != 80 || outs[1].key.TpDst != 4 {
		t.Fatalf("outs %+v", outs)
	}
	if u.Mask.TpDst != 0xffff {
		// The second bucket sets tp_dst back to the packet's own value.
		t.Errorf("restored field not exact in the megaflow")
	}
	g := b.Group(1)
	if g.Packets.Load() != 1 || g.Buckets[0].Packets.Load() != 1 {
		t.Errorf("group stats %d/%d", g.Packets.Load(), g.Buckets[0].Packets.Load())
	}
}

func TestGroupIndirect(t *testing.T) {
	o, b, _ := newTestSwitch(t, 3)
	addGroup(t, b, 1, GroupTypeIndirect, Bucket{Actions: []Action{outAct(3)}})
	addFlow(t, b, 0, 10, MatchAll(), apply(Action{Type: ActGroup, Group: 1}))
	if got := outPorts(upcall(t, o, tcpKey(1, 1, 2, 3, 4)).Actions); !eqPorts(got, []uint32{13}) {
		t.Errorf("outputs %v", got)
	}
}

func TestGroupFastFailover(t *testing.T) {
	o, b, _ := newTestSwitch(t, 3)
	addGroup(t, b, 1, GroupTypeFastFailover,
		Bucket{WatchPort: 2, Actions: []Action{outAct(2)}},
		Bucket{WatchPort: 3, Actions: []Action{outAct(3)}})
	addFlow(t, b, 0, 10, MatchAll(), apply(Action{Type: ActGroup, Group: 1}))
	k := tcpKey(1, 1, 2, 3, 4)
	u := upcall(t, o, k)
	if got := outPorts(u.Actions); !eqPorts(got, []uint32{12}) {
		t.Fatalf("live port 2: %v", got)
	}
	b.SetPortState(2, StateLinkDown)
	r := &dpif.Revalidation{Key: k, Mask: u.Mask, Actions: append(u.Actions[:0:0], u.Actions...), Ref: u.Ref}
	if err := o.Revalidate(r); err != nil {
		t.Fatal(err)
	}
	if got := outPorts(r.Actions); !eqPorts(got, []uint32{13}) {
		t.Errorf("after port 2 down, revalidation gives %v", got)
	}
}

func TestGroupSelectStableAndWeighted(t *testing.T) {
	o, b, _ := newTestSwitch(t, 4)
	addGroup(t, b, 1, GroupTypeSelect,
		Bucket{Weight: 1, Actions: []Action{outAct(2)}},
		Bucket{Weight: 3, Actions: []Action{outAct(3)}},
		Bucket{Weight: 0, Actions: []Action{outAct(4)}})
	addFlow(t, b, 0, 10, MatchAll(), apply(Action{Type: ActGroup, Group: 1}))
	count := map[uint32]int{}
	for i := 0; i < 400; i++ {
		k := tcpKey(1, uint32(i), 2, uint16(1000+i), 80)
		u1 := upcall(t, o, k)
		u2 := upcall(t, o, k)
		p1, p2 := outPorts(u1.Actions), outPorts(u2.Actions)
		if len(p1) != 1 || !eqPorts(p1, p2) {
			t.Fatalf("unstable or bad choice %v %v", p1, p2)
		}
		count[p1[0]]++
		if u1.Mask.NwSrc != 0xffffffff || u1.Mask.TpSrc != 0xffff {
			t.Fatalf("hash fields not in the megaflow")
		}
	}
	if count[14] != 0 || count[13] <= count[12] || count[12] == 0 {
		t.Errorf("distribution %v: want weight 0 unused and port 3 > port 2 > 0", count)
	}
}

func TestNormalLearningAndFlooding(t *testing.T) {
	o, b, _ := newTestSwitch(t, 3)
	addFlow(t, b, 0, 0, MatchAll(), apply(outAct(PortNormal)))
	a := [6]byte{0, 0, 0, 0, 0, 0xa}
	c := [6]byte{0, 0, 0, 0, 0, 0xc}
	k := tcpKey(1, 1, 2, 3, 4)
	k.EthSrc, k.EthDst = a, c
	if got := outPorts(upcall(t, o, k).Actions); !eqPorts(got, []uint32{12, 13}) {
		t.Fatalf("unknown destination floods: %v", got)
	}
	k2 := tcpKey(3, 1, 2, 3, 4)
	k2.EthSrc, k2.EthDst = c, a
	u := upcall(t, o, k2)
	if got := outPorts(u.Actions); !eqPorts(got, []uint32{11}) {
		t.Fatalf("learned destination: %v", got)
	}
	if u.Mask.EthSrc != allOnes6 || u.Mask.EthDst != allOnes6 {
		t.Errorf("NORMAL megaflow not exact on MACs")
	}
	if got := outPorts(upcall(t, o, k).Actions); !eqPorts(got, []uint32{13}) {
		t.Fatalf("after learning c on port 3: %v", got)
	}
	// No reflection: a frame for a MAC learned on the ingress port drops.
	k3 := tcpKey(1, 1, 2, 3, 4)
	k3.EthSrc, k3.EthDst = [6]byte{0, 0, 0, 0, 0, 0xe}, a
	if got := outPorts(upcall(t, o, k3).Actions); len(got) != 0 {
		t.Errorf("reflected to ingress: %v", got)
	}
	// Reserved multicast is dropped.
	k4 := tcpKey(1, 1, 2, 3, 4)
	k4.EthDst = [6]byte{0x01, 0x80, 0xc2, 0, 0, 0}
	if got := outPorts(upcall(t, o, k4).Actions); len(got) != 0 {
		t.Errorf("reserved multicast forwarded: %v", got)
	}
}

func TestNormalVLANs(t *testing.T) {
	o, b, _ := newTestSwitch(t, 4)
	b.UpdatePort(1, func(p *Port) { p.Tag = 10 })                                          // access 10
	b.UpdatePort(2, func(p *Port) { p.Tag = 20 })                                          // access 20
	b.UpdatePort(3, func(p *Port) { p.VLANMode = VLANModeTrunk; p.Trunks = []uint16{10} }) // trunk 10
	b.UpdatePort(4, func(p *Port) { p.VLANMode = VLANModeNativeUntagged; p.Tag = 10 })     // native 10
	addFlow(t, b, 0, 0, MatchAll(), apply(outAct(PortNormal)))
	k := tcpKey(1, 1, 2, 3, 4)
	k.EthDst = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	u := upcall(t, o, k)
	outs := execODP(k, u.Actions)
	if len(outs) != 2 || outs[0].port != 13 || outs[1].port != 14 {
		t.Fatalf("flood in VLAN 10 from access port: %+v", outs)
	}
	if tci := outs[0].key.VLANs[0].TCI; tci != flow.VLANCFI|10 {
		t.Errorf("trunk output tci %#x, want tagged 10", tci)
	}
	if tci := outs[1].key.VLANs[0].TCI; tci != 0 {
		t.Errorf("native-untagged output tci %#x, want untagged", tci)
	}
	// Tagged frame on an access port: dropped.
	k.VLANs[0] = flow.VLAN{TPID: flow.EthTypeVLAN, TCI: flow.VLANCFI | 10}
	if got := outPorts(upcall(t, o, k).Actions); len(got) != 0 {
		t.Errorf("tagged frame on access port forwarded: %v", got)
	}
	// Tagged 10 on the trunk reaches access 10 untagged and the native port.
	k.InPort = 13
	outs = execODP(k, upcall(t, o, k).Actions)
	if len(outs) != 2 || outs[0].port != 11 || outs[0].key.VLANs[0].TCI != 0 || outs[1].port != 14 {
		t.Errorf("trunk to access: %+v", outs)
	}
	// VLAN 20 is not on the trunk: dropped.
	k.VLANs[0].TCI = flow.VLANCFI | 20
	if got := outPorts(upcall(t, o, k).Actions); len(got) != 0 {
		t.Errorf("VLAN outside trunks forwarded: %v", got)
	}
}

func TestNormalMACMoveBumpsSeqAndRevalidates(t *testing.T) {
	o, b, _ := newTestSwitch(t, 3)
	addFlow(t, b, 0, 0, MatchAll(), apply(outAct(PortNormal)))
	a := [6]byte{0, 0, 0, 0, 0, 0xa}
	k := tcpKey(1, 1, 2, 3, 4)
	k.EthSrc = a
	upcall(t, o, k)
	k2 := tcpKey(2, 1, 2, 3, 4)
	k2.EthSrc, k2.EthDst = [6]byte{0, 0, 0, 0, 0, 0xb}, a
	u := upcall(t, o, k2)
	if got := outPorts(u.Actions); !eqPorts(got, []uint32{11}) {
		t.Fatalf("to a: %v", got)
	}
	seq := o.MACSeq()
	k.InPort = 13 // a moves to port 3
	upcall(t, o, k)
	if o.MACSeq() == seq {
		t.Error("MAC move did not change MACSeq")
	}
	r := &dpif.Revalidation{Key: k2, Mask: u.Mask, Actions: u.Actions, Ref: u.Ref}
	o.Revalidate(r)
	if got := outPorts(r.Actions); !eqPorts(got, []uint32{13}) {
		t.Errorf("revalidated after move: %v", got)
	}
}

func TestMACTableAging(t *testing.T) {
	mt := NewMACTable(300, 10)
	m := [6]byte{1}
	mt.Learn(m, 0, 1, 0)
	if p, ok := mt.Lookup(m, 0, 299e9); !ok || p != 1 {
		t.Fatal("entry gone before aging time")
	}
	if _, ok := mt.Lookup(m, 0, 300e9); ok {
		t.Fatal("entry alive after aging time")
	}
	mt.Learn(m, 0, 1, 200e9) // refresh (as revalidation does)
	if _, ok := mt.Lookup(m, 0, 400e9); !ok {
		t.Fatal("refreshed entry expired")
	}
	if n := mt.Expire(600e9); n != 1 || mt.Len() != 0 {
		t.Errorf("expire removed %d, len %d", n, mt.Len())
	}
}

func TestMACTableLimitEvictsOldest(t *testing.T) {
	mt := NewMACTable(300, 3)
	for i := 0; i < 3; i++ {
		mt.Learn([6]byte{byte(i)}, 0, 1, int64(i))
	}
	mt.Learn([6]byte{0}, 0, 1, 10) // refresh 0: 1 is now the oldest
	mt.Learn([6]byte{9}, 0, 2, 11)
	if _, ok := mt.Lookup([6]byte{1}, 0, 12); ok {
		t.Error("oldest entry not evicted")
	}
	for _, m := range [][6]byte{{0}, {2}, {9}} {
		if _, ok := mt.Lookup(m, 0, 12); !ok {
			t.Errorf("entry %v evicted", m)
		}
	}
	if mt.Len() != 3 {
		t.Errorf("len %d", mt.Len())
	}
}

func TestMACTableSeparatesVLANs(t *testing.T) {
	mt := NewMACTable(300, 10)
	mt.Learn([6]byte{1}, 10, 1, 0)
	if _, ok := mt.Lookup([6]byte{1}, 20, 1); ok {
		t.Error("MAC learned in VLAN 10 found in VLAN 20")
	}
}

func TestNormalAgingViaRun(t *testing.T) {
	o, b, clk := newTestSwitch(t, 3)
	addFlow(t, b, 0, 0, MatchAll(), apply(outAct(PortNormal)))
	k := tcpKey(1, 1, 2, 3, 4)
	k.EthSrc = [6]byte{0, 0, 0, 0, 0, 0xa}
	upcall(t, o, k)
	seq := o.MACSeq()
	clk.t = clk.t.Add(301 * time.Second)
	o.Run()
	if o.MACSeq() == seq || o.MACTable("br0").Len() != 0 {
		t.Error("aged MAC not expired by Run")
	}
}
