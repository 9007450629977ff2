package ofproto

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/govs/govs/internal/dpif"
	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
)

// testClock is a settable clock for MAC aging.
type testClock struct{ t time.Time }

func (c *testClock) now() time.Time { return c.t }

// newTestSwitch returns an Ofproto with bridge br0 and ports 1..n whose
// datapath ports are 10+ofport.
func newTestSwitch(t testing.TB, n int) (*Ofproto, *Bridge, *testClock) {
	t.Helper()
	clk := &testClock{t: time.Unix(1000, 0)}
	o := New(Options{Now: clk.now})
	b := NewBridge("br0")
	for i := 1; i <= n; i++ {
		if err := b.AddPort(&Port{OFPort: uint32(i), Name: "p" + itoa(i), ODPPort: uint32(10 + i)}); err != nil {
			t.Fatal(err)
		}
	}
	o.AddBridge(b)
	return o, b, clk
}

func addFlow(t testing.TB, b *Bridge, table uint8, prio uint16, m Match, in Instructions) {
	t.Helper()
	fm := NewFlowMod(FlowAdd)
	fm.Table, fm.Priority, fm.Match = table, prio, m
	fm.Instructions = in
	if in.GotoTable == 0 {
		fm.Instructions.GotoTable = -1
	}
	if err := b.FlowMod(fm); err != nil {
		t.Fatalf("flow-mod: %v", err)
	}
}

func apply(acts ...Action) Instructions { return Instructions{Apply: acts, GotoTable: -1} }

func outAct(port uint32) Action { return Action{Type: ActOutput, Port: port, MaxLen: 0xffff} }

func setFieldAct(id flow.FieldID, x uint64) Action {
	f := flow.FieldByID(id)
	return Action{Type: ActSetField, Field: id, Value: f.Value(x), Mask: f.AllOnes()}
}

// matchOf builds a match from (field, value) pairs, exact.
func matchOf(pairs ...any) Match {
	var m Match
	for i := 0; i < len(pairs); i += 2 {
		f := flow.FieldByID(pairs[i].(flow.FieldID))
		var v [16]byte
		switch x := pairs[i+1].(type) {
		case int:
			v = f.Value(uint64(x))
		case [16]byte:
			v = x
		}
		f.Set(&m.Key, v)
		f.Unwildcard(&m.Mask)
	}
	return m
}

// tcpKey returns an IPv4/TCP key arriving on datapath port 10+inPort.
func tcpKey(inPort uint32, src, dst uint32, sport, dport uint16) flow.Key {
	return flow.Key{
		InPort:  10 + inPort,
		EthSrc:  [6]byte{0, 0, 0, 0, 0, 1},
		EthDst:  [6]byte{0, 0, 0, 0, 0, 2},
		EthType: flow.EthTypeIPv4,
		NwSrc:   src, NwDst: dst,
		NwProto: flow.IPProtoTCP, NwTTL: 64,
		TpSrc: sport, TpDst: dport,
	}
}

func upcall(t testing.TB, o *Ofproto, k flow.Key) *dpif.Upcall {
	t.Helper()
	u := &dpif.Upcall{Key: k}
	if err := o.Upcall(u); err != nil {
		t.Fatal(err)
	}
	return u
}

// outRec is one packet a datapath action list emits.
type outRec struct {
	port uint32
	key  flow.Key
}

// execODP runs datapath actions on a key the way the datapath would run
// them on the packet, and returns the packets output (userspace actions
// count as output to port 0xffff0000|arg).
func execODP(k flow.Key, acts odp.Actions) []outRec {
	var out []outRec
	for _, a := range acts {
		switch a.Op {
		case odp.OpOutput:
			out = append(out, outRec{a.Arg, k})
		case odp.OpUserspace:
			out = append(out, outRec{0xffff0000 | a.Arg, k})
		case odp.OpPushVLAN:
			copy(k.VLANs[1:], k.VLANs[:flow.MaxVLANs-1])
			k.VLANs[0] = flow.VLAN{TPID: uint16(a.Arg), TCI: uint16(a.Arg2) | flow.VLANCFI}
		case odp.OpPopVLAN:
			copy(k.VLANs[:], k.VLANs[1:])
			k.VLANs[flow.MaxVLANs-1] = flow.VLAN{}
		case odp.OpPushMPLS:
			if !isMPLS(k.EthType) {
				k.MPLS = [flow.MaxMPLS]uint32{}
			}
			copy(k.MPLS[1:], k.MPLS[:flow.MaxMPLS-1])
			k.MPLS[0] = a.Arg2
			k.EthType = uint16(a.Arg)
		case odp.OpPopMPLS:
			bos := k.MPLS[0]&mplsBOS != 0
			copy(k.MPLS[:], k.MPLS[1:])
			k.MPLS[flow.MaxMPLS-1] = 0
			if bos {
				k.MPLS = [flow.MaxMPLS]uint32{}
				k.EthType = uint16(a.Arg)
			}
		case odp.OpSet:
			setODP(&k, &a)
		}
	}
	return out
}

func setODP(k *flow.Key, a *odp.Action) {
	u16 := func(p *uint16) {
		v, m := binary.BigEndian.Uint16(a.Value[:]), binary.BigEndian.Uint16(a.Mask[:])
		*p = *p&^m | v&m
	}
	u32 := func(p *uint32) {
		v, m := binary.BigEndian.Uint32(a.Value[:]), binary.BigEndian.Uint32(a.Mask[:])
		*p = *p&^m | v&m
	}
	u8 := func(p *uint8) { *p = *p&^a.Mask[0] | a.Value[0]&a.Mask[0] }
	bytes := func(p []byte) {
		for i := range p {
			p[i] = p[i]&^a.Mask[i] | a.Value[i]&a.Mask[i]
		}
	}
	switch a.Field {
	case odp.FieldEthSrc:
		bytes(k.EthSrc[:])
	case odp.FieldEthDst:
		bytes(k.EthDst[:])
	case odp.FieldVLANTCI:
		u16(&k.VLANs[0].TCI)
	case odp.FieldMPLSLSE:
		u32(&k.MPLS[0])
	case odp.FieldIPv4Src, odp.FieldArpSPA:
		u32(&k.NwSrc)
	case odp.FieldIPv4Dst, odp.FieldArpTPA:
		u32(&k.NwDst)
	case odp.FieldIPv4TOS, odp.FieldIPv6TC:
		u8(&k.NwTOS)
	case odp.FieldIPv4TTL, odp.FieldIPv6HopLimit:
		u8(&k.NwTTL)
	case odp.FieldTpSrc:
		u16(&k.TpSrc)
	case odp.FieldTpDst:
		u16(&k.TpDst)
	case odp.FieldICMPType:
		x := uint8(k.TpSrc)
		u8(&x)
		k.TpSrc = uint16(x)
	case odp.FieldICMPCode:
		x := uint8(k.TpDst)
		u8(&x)
		k.TpDst = uint16(x)
	case odp.FieldPktMark:
		u32(&k.PktMark)
	case odp.FieldIPv6Src:
		bytes(k.IPv6Src[:])
	case odp.FieldIPv6Dst:
		bytes(k.IPv6Dst[:])
	case odp.FieldArpSHA, odp.FieldNdSLL:
		bytes(k.ArpSHA[:])
	case odp.FieldArpTHA, odp.FieldNdTLL:
		bytes(k.ArpTHA[:])
	case odp.FieldArpOp:
		u16(&k.ArpOp)
	}
}

// outPorts lists the output ports of acts.
func outPorts(acts odp.Actions) []uint32 {
	var ps []uint32
	for _, a := range acts {
		if a.Op == odp.OpOutput {
			ps = append(ps, a.Arg)
		}
	}
	return ps
}

func eqPorts(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
