package ofagent

import (
	"bytes"
	"errors"
	"testing"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/nx"
	"github.com/govs/govs/internal/ofp/of10"
	"github.com/govs/govs/internal/ofp/of13"
	"github.com/govs/govs/internal/ofproto"
)

// sampleValue is a value for f that is valid on its own: all of its bits
// set except where the field has fixed meanings.
func sampleValue(f *flow.Field) [16]byte {
	v := f.AllOnes()
	switch f.ID {
	case flow.FieldVLANVID:
		v = f.Value(flow.VLANCFI | 10)
	case flow.FieldInPort:
		v = f.Value(7)
	}
	return v
}

// prereqMatches spells each prerequisite as a match that meets it.
var prereqMatches = map[flow.Prereq]string{
	flow.PrereqInPort: "in_port=1", flow.PrereqVLAN: "dl_vlan=10", flow.PrereqIP: "ip",
	flow.PrereqIPv4: "ip", flow.PrereqCtIPv4: "ip", flow.PrereqIPv6: "ipv6", flow.PrereqARP: "arp",
	flow.PrereqMPLS: "mpls", flow.PrereqPBB: "dl_type=0x88e7", flow.PrereqTCP: "tcp",
	flow.PrereqUDP: "udp", flow.PrereqSCTP: "sctp", flow.PrereqICMPv4: "icmp",
	flow.PrereqICMPv6: "icmp6", flow.PrereqND: "icmp6,icmpv6_type=135",
	flow.PrereqNDSolicit: "icmp6,icmpv6_type=135", flow.PrereqNDAdvert: "icmp6,icmpv6_type=136",
}

// prereqTLVs is the TLVs that meet f's prerequisites, in OXM or NXM.
func prereqTLVs(t *testing.T, f *flow.Field, nxm bool) []ofp.OXM {
	s, ok := prereqMatches[f.Prereqs]
	if !ok {
		return nil
	}
	k, mk, err := flow.ParseMatch(s)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	m := ofproto.NewMatch(&k, &mk)
	return TLVsFromMatch(&m, nxm)
}

// TestMatchRoundTripEveryField writes every field with an OXM or NXM code
// as a TLV after the TLVs of its prerequisites, converts it to the model
// and back, and expects the same TLV.
func TestMatchRoundTripEveryField(t *testing.T) {
	for _, f := range flow.Fields() {
		for _, nxm := range []bool{false, true} {
			var o ofp.OXM
			switch {
			case !nxm && f.OXMClass != 0:
				o = ofp.OXM{Class: f.OXMClass, Field: f.OXMField}
			case nxm && f.NXMHeader != 0 && f.ID != flow.FieldInPort:
				o = ofp.OXM{Class: uint16(f.NXMHeader >> 16), Field: uint8(f.NXMHeader>>9) & 0x7f}
			default:
				continue
			}
			v := sampleValue(f)
			o.Value = v[:f.Bytes]
			m, err := MatchFromTLVs(append(prereqTLVs(t, f, nxm), o))
			if err != nil {
				t.Errorf("%s (nxm %v): %v", f.Name, nxm, err)
				continue
			}
			if got := f.Get(&m.Key); got != v {
				t.Errorf("%s: model value %x, want %x", f.Name, got, v)
			}
			// tlvFor writes one field back without the prerequisite
			// checks TLVsFromMatch makes (covered below).
			var out []ofp.OXM
			o2, ok := tlvFor(f, f.Get(&m.Key), f.MaskValue(&m.Mask), true, nxm, nil, nil)
			if !ok {
				t.Errorf("%s: no TLV back", f.Name)
				continue
			}
			out = append(out, o2)
			if o2.Header() != o.Header() && !(nxm && o.Class == ofp.ClassOpenFlowBasic) {
				t.Errorf("%s (nxm %v): header %#x, want %#x", f.Name, nxm, o2.Header(), o.Header())
			}
			if !bytes.Equal(out[0].Value, o.Value) {
				t.Errorf("%s: value %x, want %x", f.Name, out[0].Value, o.Value)
			}
		}
	}
}

// TestMatchRoundTripWithPrereqs goes through TLVsFromMatch, which checks
// prerequisites, for typical matches.
func TestMatchRoundTripWithPrereqs(t *testing.T) {
	for _, s := range []string{
		"in_port=1,dl_dst=00:00:00:00:00:02,dl_type=0x0800,nw_src=10.0.0.0/8,nw_proto=6,tp_dst=80",
		"udp,udp_src=53",
		"arp,arp_spa=10.0.0.1,arp_op=1,arp_sha=00:11:22:33:44:55",
		"ipv6,ipv6_src=2001:db8::1,icmp6,icmpv6_type=135,nd_target=2001:db8::2",
		"reg0=5,reg3=0x10/0xf0,tun_id=0x99,metadata=0x1/0xff,pkt_mark=3",
		"dl_vlan=10,dl_vlan_pcp=3",
		"tcp,tcp_flags=+syn-ack,nw_tos=16",
		"mpls,mpls_label=5",
	} {
		k, mk, err := flow.ParseMatch(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		m := ofproto.NewMatch(&k, &mk)
		for _, nxm := range []bool{false, true} {
			back, err := MatchFromTLVs(TLVsFromMatch(&m, nxm))
			if err != nil {
				t.Fatalf("%s (nxm %v): %v", s, nxm, err)
			}
			if back != m {
				t.Errorf("%s (nxm %v): got %s", s, nxm, flow.FormatMatch(&back.Key, &back.Mask))
			}
		}
	}
}

// TestMatchErrors expects each bad match refused with OVS's error code.
func TestMatchErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		tlvs []ofp.OXM
		want *ofp.Error
	}{
		{"unknown OXM field", []ofp.OXM{{Class: ofp.ClassOpenFlowBasic, Field: 100, Value: []byte{1}}}, errBadField},
		{"unknown class", []ofp.OXM{{Class: 0x1234, Field: 1, Value: []byte{1}}}, errBadField},
		{"wrong length", []ofp.OXM{{Class: ofp.ClassOpenFlowBasic, Field: 5, Value: []byte{8}}}, errBadField},
		{"masked eth_type", []ofp.OXM{{Class: ofp.ClassOpenFlowBasic, Field: 5, HasMask: true, Value: []byte{8, 0}, Mask: []byte{0xff, 0}}}, errBadMask},
		{"value outside mask", []ofp.OXM{{Class: ofp.ClassOpenFlowBasic, Field: 3, HasMask: true,
			Value: []byte{1, 2, 3, 4, 5, 6}, Mask: []byte{0xff, 0, 0, 0, 0, 0}}}, errBadWild},
		{"vlan_vid too wide", []ofp.OXM{{Class: ofp.ClassOpenFlowBasic, Field: 6, Value: []byte{0x3f, 0xff}}}, errBadValue},
		{"duplicate", []ofp.OXM{{Class: ofp.ClassOpenFlowBasic, Field: 5, Value: []byte{8, 0}},
			{Class: ofp.ClassOpenFlowBasic, Field: 5, Value: []byte{8, 0}}}, errDupField},
		// OXM vlan_pcp needs a VLAN (vlan_vid present), as OVS and OF1.3
		// §7.2.3.8 say, though NXM's vlan_tci may match the same bits alone.
		{"vlan_pcp without vlan_vid", []ofp.OXM{{Class: ofp.ClassOpenFlowBasic, Field: 7, Value: []byte{3}}}, errPrereq},
		{"tcp_src without ip_proto", []ofp.OXM{{Class: ofp.ClassOpenFlowBasic, Field: 5, Value: []byte{8, 0}},
			{Class: ofp.ClassOpenFlowBasic, Field: 13, Value: []byte{0, 80}}}, errPrereq},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := MatchFromTLVs(c.tlvs); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestMatch10RoundTrip(t *testing.T) {
	for _, s := range []string{
		"in_port=1,dl_src=00:11:22:33:44:55,dl_vlan=10,dl_vlan_pcp=3,ip,nw_src=10.0.0.0/8,nw_dst=192.168.0.1,nw_tos=16,tcp,tp_src=1234,tp_dst=80",
		"arp,arp_op=2,arp_spa=1.2.3.4",
		"icmp,icmp_type=8,icmp_code=0",
		"dl_vlan=0xffff",
		"in_port=LOCAL",
	} {
		k, mk, err := flow.ParseMatch(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		m := ofproto.NewMatch(&k, &mk)
		w := MatchTo10(&m)
		if back := MatchFrom10(&w); back != m {
			t.Errorf("%s: got %s", s, flow.FormatMatch(&back.Key, &back.Mask))
		}
		if !Fits10(&m) {
			t.Errorf("%s: does not fit OF1.0", s)
		}
	}
	k, mk, _ := flow.ParseMatch("reg0=1")
	m := ofproto.NewMatch(&k, &mk)
	if Fits10(&m) {
		t.Error("reg0 fits OF1.0")
	}
}

func TestPorts16(t *testing.T) {
	for _, c := range []struct {
		p16 uint16
		p32 uint32
	}{{1, 1}, {0xfff8, ofproto.PortInPort}, {0xfffd, ofproto.PortController}, {0xfffe, ofproto.PortLocal}, {0xffff, ofproto.PortAny}} {
		if got := ofproto.PortFrom16(c.p16); got != c.p32 {
			t.Errorf("ofproto.PortFrom16(%#x) = %#x", c.p16, got)
		}
		if got := ofproto.PortTo16(c.p32); got != c.p16 {
			t.Errorf("ofproto.PortTo16(%#x) = %#x", c.p32, got)
		}
	}
}

func encodeActs(acts []ofp.Action) []byte {
	var b []byte
	for _, a := range acts {
		b = a.AppendAction(b)
	}
	return b
}

func TestActions13RoundTrip(t *testing.T) {
	wire := []ofp.Action{
		&of13.Output{Port: 2, MaxLen: 0}, &of13.Output{Port: ofproto.PortController, MaxLen: 128},
		&of13.Group{Group: 3}, &of13.SetQueue{Queue: 4},
		&of13.Ethertype{Type: of13.ActPushVLAN, Ethertype: 0x8100}, &of13.NoArg{Type: of13.ActPopVLAN},
		&of13.Ethertype{Type: of13.ActPushMPLS, Ethertype: 0x8847}, &of13.Ethertype{Type: of13.ActPopMPLS, Ethertype: 0x0800},
		&of13.SetTTL{Type: of13.ActSetNwTTL, TTL: 9}, &of13.NoArg{Type: of13.ActDecNwTTL},
		&of13.SetTTL{Type: of13.ActSetMPLSTTL, TTL: 8}, &of13.NoArg{Type: of13.ActDecMPLSTTL},
		&of13.NoArg{Type: of13.ActCopyTTLOut}, &of13.NoArg{Type: of13.ActCopyTTLIn},
		&of13.SetField{Field: ofp.OXM{Class: ofp.ClassOpenFlowBasic, Field: 12, Value: []byte{10, 0, 0, 1}}},
		&nx.Resubmit{Subtype: nx.ActResubmitTable, InPort: 0xfff8, Table: 3},
		&nx.Resubmit{Subtype: nx.ActResubmit, InPort: 4, Table: 0xff},
		&nx.RegLoad{OfsNBits: nx.OfsNBits(0, 16), Dst: 0x00010404, Value: 5},
		&nx.RegMove{NBits: 32, Src: 0x00010004, Dst: 0x00010604},
		&nx.Note{Data: []byte{1, 2, 3, 4, 5, 0}},
		&nx.OutputReg{OfsNBits: nx.OfsNBits(0, 16), Src: 0x00010004, MaxLen: 0xffff},
		&nx.Controller{MaxLen: 100, ControllerID: 4, Reason: 0},
		&nx.DecTTLCntIDs{IDs: []uint16{1, 2, 3}},
	}
	model, err := ActionsFrom13(wire)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := encodeActs(ActionsTo13(model)), encodeActs(wire); !bytes.Equal(got, want) {
		t.Fatalf("round trip:\n got %x\nwant %x", got, want)
	}
}

func TestActions10RoundTrip(t *testing.T) {
	wire := []ofp.Action{
		&of10.Output{Port: 2}, &of10.Output{Port: 0xfffd, MaxLen: 128},
		&of10.Set16{Type: of10.ActSetVLANVID, Value: 20}, &of10.Set8{Type: of10.ActSetVLANPCP, Value: 2},
		&of10.Set8{Type: of10.ActStripVLAN},
		&of10.SetDLAddr{Type: of10.ActSetDLSrc, Addr: [6]byte{0, 0, 0, 0, 0, 1}},
		&of10.SetNwAddr{Type: of10.ActSetNwDst, Addr: 0x05060708},
		&of10.Set8{Type: of10.ActSetNwTOS, Value: 4}, &of10.Set16{Type: of10.ActSetTpSrc, Value: 1},
		&of10.Enqueue{Port: 1, QueueID: 3},
		&nx.RegLoad{OfsNBits: nx.OfsNBits(0, 16), Dst: 0x00010404, Value: 5},
		&nx.NoArg{Subtype: nx.ActDecTTL},
	}
	k, mk, _ := flow.ParseMatch("tcp")
	m := ofproto.NewMatch(&k, &mk)
	model, err := ActionsFrom10(wire, &m)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := encodeActs(ActionsTo10(model)), encodeActs(wire); !bytes.Equal(got, want) {
		t.Fatalf("round trip:\n got %x\nwant %x", got, want)
	}
}

func TestActionsRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		act  ofp.Action
		want *ofp.Error
	}{
		{"other experimenter", &of13.ExperimenterAction{Experimenter: 0x1234, Data: make([]byte, 8)}, errBadExperimenter},
		{"nx exit", &nx.NoArg{Subtype: nx.ActExit}, errBadExpType},
		{"nx unknown subtype", &nx.Raw{Subtype: 200, Data: make([]byte, 6)}, errBadExpType},
		{"set_field unknown field", &of13.SetField{Field: ofp.OXM{Class: ofp.ClassOpenFlowBasic, Field: 99, Value: []byte{1}}}, errBadSetType},
		{"set_field read-only field", &of13.SetField{Field: ofp.OXM{Class: ofp.ClassOpenFlowBasic, Field: 5, Value: []byte{8, 0}}}, errBadSetType},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ActionsFrom13([]ofp.Action{c.act}); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestInstructionsRoundTrip(t *testing.T) {
	wire := []of13.Instruction{
		&of13.Meter{MeterID: 1},
		&of13.Actions{Type: of13.InstApplyActions, Actions: []ofp.Action{&of13.Output{Port: 1}}},
		&of13.Actions{Type: of13.InstClearActions},
		&of13.Actions{Type: of13.InstWriteActions, Actions: []ofp.Action{&of13.Group{Group: 2}}},
		&of13.WriteMetadata{Metadata: 0x10, Mask: 0xff},
		&of13.GotoTable{TableID: 5},
	}
	model, err := InstructionsFrom13(wire)
	if err != nil {
		t.Fatal(err)
	}
	got, want := of13.AppendInstructions(nil, InstructionsTo13(&model)), of13.AppendInstructions(nil, wire)
	if !bytes.Equal(got, want) {
		t.Fatalf("round trip:\n got %x\nwant %x", got, want)
	}
	if _, err := InstructionsFrom13([]of13.Instruction{&of13.GotoTable{TableID: 1}, &of13.GotoTable{TableID: 2}}); err == nil {
		t.Fatal("duplicate goto accepted")
	}
	if _, err := InstructionsFrom13([]of13.Instruction{&of13.ExperimenterInstruction{Experimenter: 1}}); !errors.Is(err, errBadInstExp) {
		t.Fatalf("experimenter instruction: %v", err)
	}
}
