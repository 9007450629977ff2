package ofproto

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/govs/govs/internal/dpif"
	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
)

// The megaflow property (issue 2 item 4): for random rule sets and packets,
// every packet inside the megaflow of packet p1 (same bits under p1's mask)
// gets exactly p1's datapath actions, so a megaflow never gives a packet
// what the pipeline would not.

func randomRules(t *testing.T, rng *rand.Rand, b *Bridge, nports int) {
	port := func() uint32 { return uint32(1 + rng.IntN(nports)) }
	addGroup(t, b, 1, GroupTypeAll,
		Bucket{Actions: []Action{setFieldAct(flow.FieldEthSrc, 0x0a), outAct(port())}},
		Bucket{Actions: []Action{outAct(port())}})
	addGroup(t, b, 2, GroupTypeSelect,
		Bucket{Weight: 1, Actions: []Action{outAct(port())}},
		Bucket{Weight: 2, Actions: []Action{setFieldAct(flow.FieldEthDst, 0x0b), outAct(port())}})
	addGroup(t, b, 3, GroupTypeIndirect, Bucket{Actions: []Action{outAct(port())}})
	const tables = 4
	for table := uint8(0); table < tables; table++ {
		n := 3 + rng.IntN(5)
		for range n {
			var m Match
			ip, tcp := false, false
			set := func(id flow.FieldID, v, mask uint64) {
				f := flow.FieldByID(id)
				f.Set(&m.Mask, f.Value(mask))
				f.Set(&m.Key, f.Value(v&mask))
			}
			if rng.IntN(2) == 0 {
				set(flow.FieldInPort, uint64(port()), 0xffffffff)
			}
			if rng.IntN(3) == 0 {
				set(flow.FieldReg0, uint64(rng.IntN(3)), 0xffffffff)
			}
			if rng.IntN(3) > 0 {
				ip = true
				set(flow.FieldEthType, flow.EthTypeIPv4, 0xffff)
				if rng.IntN(2) == 0 {
					set(flow.FieldIPv4Src, uint64(rng.IntN(8)), uint64(1+rng.IntN(7)))
				}
				if rng.IntN(2) == 0 {
					tcp = true
					set(flow.FieldIPProto, 6, 0xff)
					if rng.IntN(2) == 0 {
						set(flow.FieldTCPDst, uint64(rng.IntN(4)), 0xffff)
					}
				}
			}
			var acts []Action
			for range rng.IntN(4) {
				switch rng.IntN(9) {
				case 0, 1:
					acts = append(acts, outAct(port()))
				case 2:
					acts = append(acts, setFieldAct(flow.FieldReg0, uint64(rng.IntN(3))))
				case 3:
					if ip {
						acts = append(acts, setFieldAct(flow.FieldIPv4Src, uint64(rng.IntN(8))))
					}
				case 4:
					if tcp {
						acts = append(acts, setFieldAct(flow.FieldTCPDst, uint64(rng.IntN(4))))
					}
				case 5:
					acts = append(acts, Action{Type: ActResubmit, Port: PortInPort, Table: uint8(rng.IntN(tables))})
				case 6:
					acts = append(acts, Action{Type: ActGroup, Group: uint32(1 + rng.IntN(3))})
				case 7:
					if ip {
						acts = append(acts, Action{Type: ActDecNwTTL})
					}
				case 8:
					acts = append(acts, Action{Type: ActPushVLAN, Ethertype: flow.EthTypeVLAN}, setFieldAct(flow.FieldVLANVID, 0x1000|uint64(rng.IntN(3))))
				}
			}
			in := Instructions{Apply: acts, GotoTable: -1}
			if rng.IntN(3) == 0 {
				in.Write = []Action{outAct(port())}
			}
			if table+1 < tables && rng.IntN(2) == 0 {
				in.GotoTable = int(table) + 1 + rng.IntN(tables-int(table)-1)
			}
			fm := NewFlowMod(FlowAdd)
			fm.Table, fm.Priority, fm.Match, fm.Instructions = table, uint16(rng.IntN(4)), m, in
			if err := b.FlowMod(fm); err != nil {
				t.Fatalf("flow-mod %+v: %v", fm, err)
			}
		}
	}
}

func randomPacket(rng *rand.Rand, nports int) flow.Key {
	k := tcpKey(uint32(1+rng.IntN(nports)), uint32(rng.IntN(8)), uint32(rng.IntN(4)), uint16(rng.IntN(4)), uint16(rng.IntN(4)))
	k.NwTTL = uint8(rng.IntN(3))
	if rng.IntN(4) == 0 {
		k.NwProto = flow.IPProtoUDP
	}
	if rng.IntN(6) == 0 {
		k = flow.Key{InPort: k.InPort, EthType: flow.EthTypeARP, NwSrc: k.NwSrc, NwDst: k.NwDst}
	}
	if rng.IntN(5) == 0 {
		k.VLANs[0] = flow.VLAN{TPID: flow.EthTypeVLAN, TCI: flow.VLANCFI | uint16(rng.IntN(3))}
	}
	k.EthSrc[5] = byte(rng.IntN(3))
	return k
}

// inMegaflow returns p1's masked bits with the other bits from q.
func inMegaflow(p1, q *flow.Key, m *flow.Mask) flow.Key {
	var out flow.Key
	o, a, b, mw := out.Words(), p1.Words(), q.Words(), m.Words()
	for i := range o {
		o[i] = a[i]&mw[i] | b[i]&^mw[i]
	}
	return out
}

func sameActions(a, b odp.Actions) bool {
	if len(a) != len(b) {
		return false
	}
	return len(a) == 0 || reflect.DeepEqual([]odp.Action(a), []odp.Action(b))
}

func TestMegaflowPropertyRandomRuleSets(t *testing.T) {
	const nports = 3
	for seed := uint64(1); seed <= 40; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		o, b, _ := newTestSwitch(t, nports)
		randomRules(t, rng, b, nports)
		for range 30 {
			p1 := randomPacket(rng, nports)
			u1 := upcall(t, o, p1)
			acts1 := append(odp.Actions(nil), u1.Actions...)
			mask := u1.Mask
			for range 30 {
				q := randomPacket(rng, nports)
				p2 := inMegaflow(&p1, &q, &mask)
				u2 := upcall(t, o, p2)
				if !sameActions(acts1, u2.Actions) {
					t.Fatalf("seed %d: packets in one megaflow translate differently\np1 %+v\np2 %+v\nmask %+v\nacts1 %+v\nacts2 %+v",
						seed, p1, p2, mask, acts1, u2.Actions)
				}
				if !reflect.DeepEqual(execODP(p2, acts1), execODP(p2, u2.Actions)) {
					t.Fatalf("seed %d: megaflow actions on p2 differ from the pipeline's", seed)
				}
				o.Release(u2.Ref, 0, 0, 0)
			}
			o.Release(u1.Ref, 0, 0, 0)
		}
		if o.XCacheLen() != 0 {
			t.Fatalf("xcache leaked %d entries", o.XCacheLen())
		}
	}
}

// TestRevalidateAfterRuleChange installs megaflows, changes one rule and
// checks that revalidation changes exactly the megaflows whose translation
// changed.
func TestRevalidateAfterRuleChange(t *testing.T) {
	o, b, _ := newTestSwitch(t, 3)
	addFlow(t, b, 0, 10, matchOf(flow.FieldInPort, 1), Instructions{GotoTable: 1})
	addFlow(t, b, 0, 10, matchOf(flow.FieldInPort, 2), apply(outAct(3)))
	addFlow(t, b, 1, 10, tcpMatch(), apply(outAct(2)))
	type mf struct {
		key  flow.Key
		mask flow.Mask
		acts odp.Actions
		ref  uint64
	}
	var flows []mf
	for _, k := range []flow.Key{tcpKey(1, 1, 2, 3, 80), tcpKey(1, 1, 2, 3, 22), tcpKey(2, 1, 2, 3, 80), tcpKey(3, 1, 2, 3, 80)} {
		u := upcall(t, o, k)
		flows = append(flows, mf{k, u.Mask, append(odp.Actions(nil), u.Actions...), u.Ref})
	}
	// New rule: TCP port 80 from in_port 1 goes to port 3.
	addFlow(t, b, 1, 20, matchOf(flow.FieldEthType, flow.EthTypeIPv4, flow.FieldIPProto, 6, flow.FieldTCPDst, 80), apply(outAct(3)))
	wantChanged := []bool{true, true, false, false} // the second one's mask now includes tp_dst
	for i, f := range flows {
		r := &dpif.Revalidation{Key: f.key, Mask: f.mask, Actions: append(odp.Actions(nil), f.acts...), Ref: f.ref, Packets: 2, Bytes: 120, Used: 5}
		if err := o.Revalidate(r); err != nil {
			t.Fatal(err)
		}
		changed := r.Mask != f.mask || !sameActions(r.Actions, f.acts)
		if changed != wantChanged[i] {
			t.Errorf("megaflow %d: changed %v, want %v (mask %+v acts %+v)", i, changed, wantChanged[i], r.Mask, r.Actions)
		}
		fresh := upcall(t, o, f.key)
		if r.Mask != fresh.Mask || !sameActions(r.Actions, fresh.Actions) {
			t.Errorf("megaflow %d: revalidation differs from a fresh translation", i)
		}
	}
	// Statistics went to the rules of the old translation.
	r0 := b.Table(0).Find(&Match{Key: matchOf(flow.FieldInPort, 2).Key, Mask: matchOf(flow.FieldInPort, 2).Mask}, 10)
	if r0 == nil || r0.Packets.Load() < 3 || r0.Used.Load() < 5 {
		t.Errorf("stats not pushed: %+v", r0)
	}
}
