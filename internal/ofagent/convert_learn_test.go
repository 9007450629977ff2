package ofagent

import (
	"bytes"
	"errors"
	"testing"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/nx"
	"github.com/govs/govs/internal/ofproto"
)

// macLearnWire is learn(table=1,hard_timeout=60,NXM_OF_ETH_DST[]=
// NXM_OF_ETH_SRC[],load:0x5->NXM_NX_REG0[4..11],output:NXM_OF_IN_PORT[]).
func macLearnWire() *nx.Learn {
	return &nx.Learn{TableID: 1, HardTimeout: 60, Priority: 0x8000, Specs: []nx.LearnSpec{
		{NBits: 48, Src: 0x00000406, Dst: 0x00000206},
		{NBits: 8, Immediate: true, Imm: []byte{0, 5}, DstType: nx.LearnDstLoad, Dst: 0x00010004, DstOfs: 4},
		{NBits: 16, Src: 0x00000002, DstType: nx.LearnDstOutput},
	}}
}

// TestLearnConvertRoundTrip: a wire learn becomes the model with field ids
// and comes back byte for byte, in OpenFlow 1.0 and 1.3 action lists.
func TestLearnConvertRoundTrip(t *testing.T) {
	w := macLearnWire()
	want := w.AppendAction(nil)
	a, err := actionFromNX(w)
	if err != nil {
		t.Fatal(err)
	}
	l := a.Learn
	if a.Type != ofproto.ActLearn || l.Table != 1 || l.HardTimeout != 60 || len(l.Specs) != 3 ||
		l.Specs[0].SrcField != flow.FieldEthSrc || l.Specs[0].DstField != flow.FieldEthDst ||
		l.Specs[1].Dst != ofproto.LearnLoad || l.Specs[1].Imm[15] != 5 || l.Specs[1].DstField != flow.FieldReg0 ||
		l.Specs[2].Dst != ofproto.LearnOutput || l.Specs[2].SrcField != flow.FieldInPort {
		t.Fatalf("model: %+v", l)
	}
	for name, acts := range map[string][]ofp.Action{
		"of10": ActionsTo10([]ofproto.Action{a}),
		"of13": ActionsTo13([]ofproto.Action{a}),
	} {
		if len(acts) != 1 || !bytes.Equal(acts[0].AppendAction(nil), want) {
			t.Fatalf("%s: %d actions, %x, want %x", name, len(acts), ofp.AppendActions(nil, acts), want)
		}
	}
}

// TestLearnConvertUnknownField: a spec naming a field govs does not know
// is refused, not dropped.
func TestLearnConvertUnknownField(t *testing.T) {
	w := macLearnWire()
	w.Specs[0].Src = 0x7fff0004
	if _, err := actionFromNX(w); !errors.Is(err, errLearnField) {
		t.Fatalf("got %v", err)
	}
}
