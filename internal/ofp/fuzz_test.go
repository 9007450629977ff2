package ofp_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/of10"
	"github.com/govs/govs/internal/ofp/of13"
)

func seedCorpus(f *testing.F, dir string) {
	for _, c := range loadCorpus(f, dir) {
		f.Add(c.Data)
	}
}

// FuzzDecodeOF13 checks that no input panics the OpenFlow 1.3 decoders and
// that whatever decodes re-encodes to something that decodes the same way.
func FuzzDecodeOF13(f *testing.F) {
	seedCorpus(f, "of13")
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := of13.Decode(b)
		if err != nil {
			return
		}
		checkStable(t, m.AppendTo(nil), func(b []byte) (ofp.Message, error) { return of13.Decode(b) })
		switch m := m.(type) {
		case *of13.MultipartRequest:
			_, _ = of13.DecodeRequestBody(m.MPType, m.Body)
		case *of13.MultipartReply:
			_, _ = of13.DecodeReplyBody(m.MPType, m.Body)
		}
	})
}

// FuzzDecodeOF10 is FuzzDecodeOF13 for OpenFlow 1.0 and Nicira messages.
func FuzzDecodeOF10(f *testing.F) {
	seedCorpus(f, "of10")
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := of10.Decode(b)
		if err != nil {
			return
		}
		checkStable(t, m.AppendTo(nil), func(b []byte) (ofp.Message, error) { return of10.Decode(b) })
		switch m := m.(type) {
		case *of10.Vendor:
			_, _, _ = of10.DecodeNicira(m)
		case *of10.StatsRequest:
			_, _, _ = of10.DecodeStatsRequestBody(m.StatsType, m.Body)
		}
	})
}

// FuzzFlowModHead13 checks that a flow-mod decoded in two steps,
// DecodeHead then DecodeInstructions (as a bundle's adds are), is the
// flow-mod Decode gives, and that each input fails in both or in neither,
// with the same error.
func FuzzFlowModHead13(f *testing.F) {
	for _, c := range loadCorpus(f, "of13") {
		if len(c.Data) > 1 && c.Data[1] == of13.TypeFlowMod {
			f.Add(c.Data)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var whole, head of13.FlowMod
		wantErr := whole.Decode(b)
		insts, err := head.DecodeHead(b)
		if err == nil {
			head.Instructions, err = of13.DecodeInstructions(insts)
		}
		if !reflect.DeepEqual(err, wantErr) {
			t.Fatalf("two steps: %v, Decode: %v", err, wantErr)
		}
		if err == nil && !reflect.DeepEqual(&head, &whole) {
			t.Fatalf("two steps: %+v\nDecode: %+v", &head, &whole)
		}
	})
}

// FuzzOXMs checks the TLV decoder keeps every byte.
func FuzzOXMs(f *testing.F) {
	f.Add([]byte{0x80, 0x00, 0x0a, 0x02, 0x08, 0x00})
	f.Add([]byte{0x00, 0x01, 0x01, 0x08, 0, 0, 0, 1, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		oxms, err := ofp.DecodeOXMs(b)
		if err != nil {
			return
		}
		if got := ofp.AppendOXMs(nil, oxms); !bytes.Equal(got, b) {
			t.Fatalf("got %x want %x", got, b)
		}
	})
}

// FuzzActions13 and FuzzInstructions13 exercise the list decoders alone.
func FuzzActions13(f *testing.F) {
	f.Add([]byte{0, 0, 0, 16, 0, 0, 0, 1, 0xff, 0xe5, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		acts, err := of13.DecodeActions(b)
		if err != nil {
			return
		}
		again, err := of13.DecodeActions(of13.AppendActions(nil, acts))
		if err != nil || len(again) != len(acts) {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

func FuzzInstructions13(f *testing.F) {
	f.Add([]byte{0, 1, 0, 8, 2, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := of13.DecodeInstructions(b)
		if err != nil {
			return
		}
		if _, err := of13.DecodeInstructions(of13.AppendInstructions(nil, in)); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

func FuzzActions10(f *testing.F) {
	f.Add([]byte{0, 0, 0, 8, 0, 1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		acts, err := of10.DecodeActions(b)
		if err != nil {
			return
		}
		if _, err := of10.DecodeActions(of10.AppendActions(nil, acts)); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

func checkStable(t *testing.T, enc []byte, decode func([]byte) (ofp.Message, error)) {
	t.Helper()
	m2, err := decode(enc)
	if err != nil {
		t.Fatalf("re-decode of %x: %v", enc, err)
	}
	if again := m2.AppendTo(nil); !bytes.Equal(again, enc) {
		t.Fatalf("unstable encoding:\n%x\n%x", enc, again)
	}
}
