package nx

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/govs/govs/internal/ofp"
)

// neutronLearn is the learn action of OpenStack Neutron's OVS agent plus
// an immediate match, a partial load and the flags, as ovs-ofctl prints
// it.
const neutronText = "learn(table=20,idle_timeout=10,hard_timeout=300,fin_idle_timeout=2,fin_hard_timeout=4,priority=1,send_flow_rem,delete_learned,cookie=0x1," +
	"NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],eth_type=0x800,load:0->NXM_OF_VLAN_TCI[]," +
	"load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],load:0xabcdef->NXM_NX_REG1[4..27],output:NXM_OF_IN_PORT[])"

func neutronLearn() *Learn {
	const (
		tci   = 0x00000802 // NXM_OF_VLAN_TCI
		ethD  = 0x00000206 // NXM_OF_ETH_DST
		ethS  = 0x00000406 // NXM_OF_ETH_SRC
		typ   = 0x00000602 // NXM_OF_ETH_TYPE
		tunID = 0x00012008 // NXM_NX_TUN_ID
		reg1  = 0x00010204 // NXM_NX_REG1
		inP   = 0x00000002 // NXM_OF_IN_PORT
	)
	return &Learn{TableID: 20, IdleTimeout: 10, HardTimeout: 300, FinIdleTimeout: 2, FinHardTimeout: 4,
		Priority: 1, Cookie: 1, Flags: LearnSendFlowRem | LearnDeleteLearned, Specs: []LearnSpec{
			{NBits: 12, Src: tci, Dst: tci},
			{NBits: 48, Src: ethS, Dst: ethD},
			{NBits: 16, Immediate: true, Imm: []byte{0x08, 0x00}, Dst: typ},
			{NBits: 16, Immediate: true, Imm: []byte{0, 0}, DstType: LearnDstLoad, Dst: tci},
			{NBits: 64, Src: tunID, DstType: LearnDstLoad, Dst: tunID},
			{NBits: 24, Immediate: true, Imm: []byte{0, 0xab, 0xcd, 0xef}, DstType: LearnDstLoad, Dst: reg1, DstOfs: 4},
			{NBits: 16, Src: inP, DstType: LearnDstOutput},
		}}
}

// packetOut10 wraps actions in an OpenFlow 1.0 PACKET_OUT, which
// ovs-ofctl ofp-print prints with its actions.
func packetOut10(acts []byte) []byte {
	b := []byte{1, 13, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	b = binary.BigEndian.AppendUint16(b, uint16(len(acts)))
	b = append(b, acts...)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

// TestLearnRoundTripAndPrint: the encoding decodes to the same action and
// re-encodes byte for byte, and OVS's own ovs-ofctl ofp-print reads it
// back as the learn it stands for.
func TestLearnRoundTripAndPrint(t *testing.T) {
	enc := neutronLearn().AppendAction(nil)
	if len(enc)%8 != 0 {
		t.Fatalf("length %d not a multiple of 8", len(enc))
	}
	a, err := DecodeAction(enc)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.AppendAction(nil); !bytes.Equal(got, enc) {
		t.Fatalf("re-encode:\n got %x\nwant %x", got, enc)
	}
	// Extra zero padding after the specs round-trips too.
	padded := append(append([]byte{}, enc...), make([]byte, 8)...)
	binary.BigEndian.PutUint16(padded[2:], uint16(len(padded)))
	if a, err := DecodeAction(padded); err != nil || !bytes.Equal(a.AppendAction(nil), padded) {
		t.Fatalf("padded learn: %v", err)
	}
	if _, err := exec.LookPath("ovs-ofctl"); err != nil {
		t.Skip("ovs-ofctl not installed")
	}
	out, err := exec.Command("ovs-ofctl", "ofp-print", hex.EncodeToString(packetOut10(enc))).CombinedOutput()
	if err != nil {
		t.Fatalf("ofp-print: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "actions="+neutronText) {
		t.Fatalf("ofp-print:\n%s\nwant actions=%s", out, neutronText)
	}
}

// TestLearnDecodeErrors: malformed learns get OVS's errors.
func TestLearnDecodeErrors(t *testing.T) {
	good := neutronLearn().AppendAction(nil)
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte{}, good...)) }
	badArg := &ofp.Error{Type: ofp.ETBadAction, Code: ofp.BACBadArgument}
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{
		{"pad not zero", mut(func(b []byte) []byte { b[27] = 1; return b }), badArg},
		{"table 255", mut(func(b []byte) []byte { b[26] = 0xff; return b }), badArg},
		{"unknown flag", mut(func(b []byte) []byte { b[25] |= 4; return b }), badArg},
		{"reserved spec bit", mut(func(b []byte) []byte { b[32] |= 0x80; return b }), badArg},
		{"reserved destination", mut(func(b []byte) []byte { b[32] |= 0x18; return b }), badArg},
		{"non-zero tail", mut(func(b []byte) []byte { b[len(b)-1] = 1; return b }), badArg},
		{"spec overruns", mut(func(b []byte) []byte {
			b = b[:40]
			binary.BigEndian.PutUint16(b[2:], 40)
			return b
		}), ofp.ErrBadActionLen},
		{"short", good[:24], ofp.ErrBadActionLen},
	} {
		if _, err := DecodeAction(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

// FuzzLearn: no input panics the learn decoder, and what decodes
// re-encodes to the same bytes.
func FuzzLearn(f *testing.F) {
	f.Add(neutronLearn().AppendAction(nil)[10:])
	f.Add((&Learn{TableID: 1}).AppendAction(nil)[10:])
	f.Fuzz(func(t *testing.T, body []byte) {
		n := 10 + len(body)
		n += ofp.Pad8(n)
		b := header(nil, ActLearn, n)
		b = append(b, body...)
		b = append(b, make([]byte, n-len(b))...)
		a, err := DecodeAction(b)
		if err != nil {
			return
		}
		if got := a.AppendAction(nil); !bytes.Equal(got, b) {
			t.Fatalf("re-encode:\n got %x\nwant %x", got, b)
		}
	})
}
