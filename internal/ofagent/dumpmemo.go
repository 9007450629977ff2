package ofagent

import (
	"bytes"
	"unsafe"

	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/of13"
	"github.com/govs/govs/internal/ofproto"
)

// dumpMemo is what a flow dump works out once for a run of rules rather
// than once per rule: which match fields to write (tlvPlan), and the
// wire form of the last rule's actions or instructions, which the next
// rule reuses when its own are the same (a table of 100 000 flows often
// has a handful of distinct action lists). Entries are encoded before
// the next rule is looked at, so sharing the wire form is safe.
type dumpMemo struct {
	plan tlvPlan

	// match is the last rule's match, expanded from mini. A rule of the
	// same mask (most of a big table's) only has its key words written
	// over it.
	okMatch bool
	mini    ofproto.MiniMatch
	match   ofproto.Match

	ok10   bool
	apply  []ofproto.Action // what acts10 encodes
	acts10 []ofp.Action

	ok13    bool
	instr   ofproto.Instructions // what instr13 encodes
	instr13 []of13.Instruction
}

// matchTLVs appends mm's TLVs to dst, as AppendTLVsFromMatch would.
// The plan is given no other match than d.match, so when mm has the
// last one's mask the plan's is the same too.
func (d *dumpMemo) matchTLVs(dst []ofp.OXM, mm *ofproto.MiniMatch, nxm bool) []ofp.OXM {
	same := d.okMatch && mm.SameMask(&d.mini)
	if same {
		mm.ExpandKeyInto(&d.match)
	} else {
		d.okMatch, d.mini, d.match = true, *mm, mm.Expand()
	}
	return d.plan.appendKnown(dst, &d.match, nxm, same)
}

// actions10 is ActionsTo10(in), reusing the previous result when in
// is the same list.
func (d *dumpMemo) actions10(in []ofproto.Action) []ofp.Action {
	if !d.ok10 || !sameActions(d.apply, in) {
		d.ok10, d.apply, d.acts10 = true, in, ActionsTo10(in)
	}
	return d.acts10
}

// instructions13 is InstructionsTo13(in), reusing the previous result
// when in is the same.
func (d *dumpMemo) instructions13(in *ofproto.Instructions) []of13.Instruction {
	if !d.ok13 || !sameInstructions(&d.instr, in) {
		d.ok13, d.instr, d.instr13 = true, *in, InstructionsTo13(in)
	}
	return d.instr13
}

func sameInstructions(a, b *ofproto.Instructions) bool {
	return a.Meter == b.Meter && a.ClearActions == b.ClearActions && a.WriteMetadata == b.WriteMetadata &&
		a.Metadata == b.Metadata && a.MetadataMask == b.MetadataMask && a.GotoTable == b.GotoTable &&
		sameActions(a.Apply, b.Apply) && sameActions(a.Write, b.Write)
}

// sameActions reports whether a and b encode alike: both nil or
// neither (an empty apply-actions instruction is not a missing one), and
// the same actions, compared as memory. Slices and pointers inside an
// action (dec_ttl's controllers, a note, a learn spec) are so compared
// by identity, and padding takes part: either can only make equal lists
// look different, which costs the memo a miss, never a wrong encoding.
func sameActions(a, b []ofproto.Action) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	if len(a) == 0 || &a[0] == &b[0] { // rules may share one list
		return true
	}
	n := len(a) * int(unsafe.Sizeof(a[0]))
	return bytes.Equal(unsafe.Slice((*byte)(unsafe.Pointer(&a[0])), n), unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), n))
}
