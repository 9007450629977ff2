package ofproto

import (
	"reflect"
	"testing"

	"github.com/govs/govs/internal/flow"
)

// fillFields sets every settable field of v (a struct) to a non-zero
// value derived from seed, recursing into structs and arrays, so that a
// field a copy forgets shows up as a difference.
func fillFields(v reflect.Value, seed *uint64) {
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fillFields(v.Field(i), seed)
			}
		}
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			fillFields(v.Index(i), seed)
		}
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		*seed++
		v.SetUint(*seed)
	case reflect.Int, reflect.Int64:
		*seed++
		v.SetInt(int64(*seed))
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fillFields(s.Index(0), seed)
		v.Set(s)
	}
}

// TestPackedFlowModRoundTrip: Unpack(Pack(fm)) gives fm back, every
// field of it, so a field added to FlowMod and forgotten in
// PackedFlowMod fails here.
func TestPackedFlowModRoundTrip(t *testing.T) {
	var fm FlowMod
	seed := uint64(0)
	fillFields(reflect.ValueOf(&fm).Elem(), &seed)
	// Matches are key bits under a mask: make the mask cover the key.
	fm.Match = Match{Key: flow.Key{EthType: 0x0800, NwSrc: 0x0a000001, TpSrc: 80},
		Mask: flow.Mask{EthType: 0xffff, NwSrc: 0xffffff00, TpSrc: 0xffff}}
	fm.Match.Key.NwSrc &= fm.Match.Mask.NwSrc
	p := fm.Pack()
	var back FlowMod
	back.Priority = 1 // Unpack overwrites everything
	p.Unpack(&back)
	if back.packed != &p.Match {
		t.Errorf("unpacked flow-mod does not keep its packed match")
	}
	back.packed = nil
	if !reflect.DeepEqual(back, fm) {
		t.Errorf("unpacked\n%+v\nwant\n%+v", back, fm)
	}
}

// TestFlowModsPackedAcrossChunks: a packed transaction spread over
// chunks applies every flow-mod in order, and a failing one rolls back
// the chunks before it.
func TestFlowModsPackedAcrossChunks(t *testing.T) {
	br := NewBridge("br0")
	var chunks [][]PackedFlowMod
	for c := 0; c < 3; c++ {
		var chunk []PackedFlowMod
		for i := 0; i < 5; i++ {
			fm := NewFlowMod(FlowAdd)
			fm.Priority = uint16(100 + c*5 + i)
			fm.Match = Match{Key: flow.Key{EthType: 0x0800, NwSrc: uint32(c*5 + i)},
				Mask: flow.Mask{EthType: 0xffff, NwSrc: 0xffffffff}}
			fm.Apply = []Action{{Type: ActOutput, Port: 2}}
			chunk = append(chunk, fm.Pack())
		}
		chunks = append(chunks, chunk)
	}
	chunks = append(chunks, nil) // an empty chunk is skipped
	if failed, err := br.FlowModsPacked(chunks); err != nil {
		t.Fatalf("flow-mod %d: %v", failed, err)
	}
	rules := br.Flows(AllFlows())
	if len(rules) != 15 {
		t.Fatalf("%d rules, want 15", len(rules))
	}
	for _, r := range rules {
		if want := uint32(r.Priority - 100); r.Match.Key().NwSrc != want {
			t.Errorf("rule at priority %d matches nw_src %d, want %d", r.Priority, r.Match.Key().NwSrc, want)
		}
	}

	bad := NewFlowMod(FlowAdd)
	bad.Table = MaxTables // no such table
	fresh := NewFlowMod(FlowAdd)
	fresh.Priority = 7
	if failed, err := br.FlowModsPacked([][]PackedFlowMod{{fresh.Pack()}, {}, {bad.Pack()}}); err == nil || failed != 1 {
		t.Fatalf("bad table: failed=%d err=%v, want flow-mod 1 to fail", failed, err)
	}
	if n := len(br.Flows(AllFlows())); n != 15 {
		t.Errorf("after a failed transaction %d rules, want 15", n)
	}
}
