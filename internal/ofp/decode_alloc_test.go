package ofp_test

import (
	"bytes"
	"testing"

	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/of13"
	"github.com/govs/govs/internal/race"
)

// TestDecodeInstructionsOneBlock: a list with each instruction type once
// decodes into one allocation (plus its action lists); a repeated type
// still decodes, into a block of its own, and re-encodes as it came.
func TestDecodeInstructionsOneBlock(t *testing.T) {
	race.SkipAllocs(t)
	list := []of13.Instruction{
		&of13.Actions{Type: of13.InstApplyActions, Actions: []ofp.Action{&of13.Output{Port: 2, MaxLen: 0xffff}}},
		&of13.WriteMetadata{Metadata: 5, Mask: 0xff},
		&of13.GotoTable{TableID: 3},
	}
	b := of13.AppendInstructions(nil, list)
	if n := testing.AllocsPerRun(100, func() {
		if _, err := of13.DecodeInstructions(b); err != nil {
			t.Fatal(err)
		}
	}); n != 3 { // the block, the action list, the output action
		t.Errorf("DecodeInstructions: %v allocations, want 3", n)
	}

	dup := append(list, &of13.Actions{Type: of13.InstApplyActions}, &of13.GotoTable{TableID: 4},
		&of13.Meter{MeterID: 9}, &of13.Actions{Type: of13.InstClearActions})
	b = of13.AppendInstructions(nil, dup)
	got, err := of13.DecodeInstructions(b)
	if err != nil || len(got) != len(dup) {
		t.Fatalf("decoded %d instructions, err %v", len(got), err)
	}
	if got[2].(*of13.GotoTable).TableID != 3 || got[4].(*of13.GotoTable).TableID != 4 {
		t.Errorf("a repeated goto_table overwrote the first: %+v %+v", got[2], got[4])
	}
	if re := of13.AppendInstructions(nil, got); !bytes.Equal(re, b) {
		t.Errorf("re-encoded %x, want %x", re, b)
	}
}

// TestDecodeOXMsOneAllocation: the TLV list is sized before it is filled.
func TestDecodeOXMsOneAllocation(t *testing.T) {
	race.SkipAllocs(t)
	oxms := []ofp.OXM{
		{Class: ofp.ClassOpenFlowBasic, Field: 5, Value: []byte{8, 0}},
		{Class: ofp.ClassOpenFlowBasic, Field: 11, HasMask: true, Value: []byte{10, 0, 0, 0}, Mask: []byte{255, 0, 0, 0}},
		{Class: ofp.ClassOpenFlowBasic, Field: 0, Value: []byte{0, 0, 0, 1}},
	}
	b := ofp.AppendOXMs(nil, oxms)
	if n := testing.AllocsPerRun(100, func() {
		if got, err := ofp.DecodeOXMs(b); err != nil || len(got) != 3 {
			t.Fatal(len(got), err)
		}
	}); n != 1 {
		t.Errorf("DecodeOXMs: %v allocations, want 1", n)
	}
	if _, err := ofp.DecodeOXMs(append(b, 0x80, 0, 10)); err == nil {
		t.Error("a truncated TLV decoded")
	}
}
