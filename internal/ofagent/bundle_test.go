package ofagent

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/govs/govs/internal/ofp/of13"
	"github.com/govs/govs/internal/ofp/ofpcorpus"
	"github.com/govs/govs/internal/ofproto"
)

// corpusFlowMods13 returns the OpenFlow 1.3 flow-mods ovs-ofctl sent in
// the codec's golden corpus, decoded.
func corpusFlowMods13(t *testing.T) []*of13.FlowMod {
	t.Helper()
	var out []*of13.FlowMod
	for _, c := range ofpcorpus.Load(t, "../ofp/testdata/corpus/of13") {
		if len(c.Data) < 2 || c.Data[1] != of13.TypeFlowMod {
			continue
		}
		var m of13.FlowMod
		if err := m.Decode(c.Data); err != nil {
			t.Fatalf("%s:%d: %v", c.File, c.Line, err)
		}
		out = append(out, &m)
	}
	if len(out) < 10 {
		t.Fatalf("only %d flow-mods in the corpus", len(out))
	}
	return out
}

// TestBundleFlowModAgrees: a bundle's flow-mods, converted the cheap way
// (bundleFlowMod, which remembers the last instructions), come out as
// the generic decoder and flowModFrom13 make them, errors included, in
// any order: the corpus's matches crossed with its instruction lists and
// with broken ones, each sent several times, shuffled.
func TestBundleFlowModAgrees(t *testing.T) {
	fms := corpusFlowMods13(t)
	var insts [][]byte
	for _, m := range fms {
		insts = append(insts, of13.AppendInstructions(nil, m.Instructions))
	}
	insts = append(insts,
		[]byte{0, 1, 0, 12, 2, 0, 0, 0, 0, 0, 0, 0},            // a length no multiple of 8
		[]byte{0, 0x63, 0, 8, 0, 0, 0, 0},                      // an unknown instruction
		[]byte{0, 1, 0, 8, 2, 0, 0, 0, 0, 1, 0, 8, 3, 0, 0, 0}) // goto_table twice
	var msgs [][]byte
	for i, m := range fms {
		for j, in := range insts {
			w := *m
			w.Xid = uint32(i*len(insts) + j)
			if j%7 == 3 {
				w.Command = uint8(ofproto.FlowDelete)
			}
			b := w.AppendTo(nil)
			b = b[:len(b)-len(of13.AppendInstructions(nil, m.Instructions))]
			b = append(b, in...)
			b[2], b[3] = byte(len(b)>>8), byte(len(b))
			msgs = append(msgs, b, b, b)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	rng.Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })
	c := &ofconn{}
	var failed int
	for i, b := range msgs {
		var want ofproto.FlowMod
		wantErr := func() error {
			m, err := of13.Decode(b)
			if err != nil {
				return err
			}
			return flowModFrom13(&want, m.(*of13.FlowMod))
		}()
		err := c.bundleFlowMod(b)
		if !reflect.DeepEqual(err, wantErr) {
			t.Fatalf("message %d %x: %v, want %v", i, b, err, wantErr)
		}
		if err != nil {
			failed++
			continue
		}
		if !reflect.DeepEqual(c.bundleFM, want) {
			t.Fatalf("message %d %x:\n%+v\nwant\n%+v", i, b, c.bundleFM, want)
		}
	}
	if failed == 0 || failed == len(msgs) {
		t.Fatalf("%d of %d messages failed", failed, len(msgs))
	}
}
