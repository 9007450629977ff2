package ofagent

import (
	"bytes"
	"testing"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/of13"
	"github.com/govs/govs/internal/ofproto"
)

// TestTLVPlanAgrees: a dump's plan writes every match exactly as
// AppendTLVsFromMatch does, whatever the match before it was. The
// matches come in pairs that share a mask but not the key values the
// choice of fields depends on (tcp_src against udp_src, ARP's spa
// against nw_src, ND solicit against advert, VLAN present or not).
func TestTLVPlanAgrees(t *testing.T) {
	specs := []string{
		"ip,nw_src=10.0.0.1", "ip,nw_src=10.0.0.2",
		"tcp,tp_src=80", "udp,tp_src=80", "tcp,tp_src=81", "sctp,tp_src=80",
		"arp,arp_spa=1.2.3.4", "ip,nw_src=1.2.3.4", "rarp,arp_spa=1.2.3.4",
		"icmp6,icmp_type=135,nd_target=::1", "icmp6,icmp_type=136,nd_target=::1",
		"icmp6,icmp_type=135,icmp_code=0", "icmp,icmp_type=8,icmp_code=0",
		"dl_vlan=10", "vlan_tci=0x0000/0x1000", "vlan_tci=0", "dl_vlan=11,dl_vlan_pcp=3",
		"in_port=1", "in_port=2", "in_port=LOCAL",
		"ip,nw_src=10.0.0.0/8,nw_dst=10.1.0.0/16", "ip,nw_src=11.0.0.0/8,nw_dst=10.2.0.0/16",
		"tcp,tcp_flags=+syn-ack", "ipv6,ipv6_src=2001:db8::1", "ipv6,ipv6_src=2001:db8::2",
		"",
	}
	var ms []ofproto.Match
	for _, s := range specs {
		k, mk, err := flow.ParseMatch(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		ms = append(ms, ofproto.NewMatch(&k, &mk))
	}
	for _, nxm := range []bool{false, true} {
		var plan tlvPlan
		var memo dumpMemo
		var dst, dst2 []ofp.OXM
		// Every match after every other one, each twice in a row; through
		// the plan alone, and through a dump's memo from the rule's
		// packed match.
		for i := range ms {
			for j := range ms {
				for _, m := range []*ofproto.Match{&ms[i], &ms[j], &ms[j]} {
					want := ofp.AppendOXMs(nil, AppendTLVsFromMatch(nil, m, nxm))
					dst = plan.append(dst[:0], m, nxm)
					if got := ofp.AppendOXMs(nil, dst); !bytes.Equal(got, want) {
						t.Fatalf("nxm=%v %q after %q: plan wrote %x, want %x", nxm, specs[j], specs[i], got, want)
					}
					mini := m.Mini()
					dst2 = memo.matchTLVs(dst2[:0], &mini, nxm)
					if got := ofp.AppendOXMs(nil, dst2); !bytes.Equal(got, want) {
						t.Fatalf("nxm=%v %q after %q: memo wrote %x, want %x", nxm, specs[j], specs[i], got, want)
					}
				}
			}
		}
	}
}

// TestDumpMemoAgrees: the memo's actions and instructions are always
// those of the rule at hand, through runs of equal lists held in
// different slices, lists that differ in one field, and nil against
// empty apply-actions.
func TestDumpMemoAgrees(t *testing.T) {
	out := func(port uint32) []ofproto.Action { return []ofproto.Action{{Type: ofproto.ActOutput, Port: port}} }
	note := func(s string) []ofproto.Action { return []ofproto.Action{{Type: ofproto.ActNote, Note: []byte(s)}} }
	instrs := []ofproto.Instructions{
		{GotoTable: -1, Apply: out(2)}, {GotoTable: -1, Apply: out(2)}, {GotoTable: -1, Apply: out(3)},
		{GotoTable: -1, Apply: []ofproto.Action{}}, {GotoTable: -1}, {GotoTable: -1, Apply: []ofproto.Action{}},
		{GotoTable: 1, Apply: out(3)}, {GotoTable: -1, Apply: out(3), Write: out(4)}, {GotoTable: -1, Write: out(4)},
		{GotoTable: -1, Apply: note("ab")}, {GotoTable: -1, Apply: note("cd")}, {GotoTable: -1, Apply: note("cd")},
		{GotoTable: -1, Meter: 1, Apply: out(3)}, {GotoTable: -1, ClearActions: true, Apply: out(3)},
		{GotoTable: -1, WriteMetadata: true, Metadata: 1, MetadataMask: 1, Apply: out(3)},
		{GotoTable: -1, WriteMetadata: true, Metadata: 2, MetadataMask: 3, Apply: out(3)},
		{GotoTable: -1, WriteMetadata: true, Metadata: 3, MetadataMask: 3, Apply: out(3)},
	}
	var memo dumpMemo
	// Instructions 2 against each one that differs from it in one field.
	for _, i := range []int{0, 1, 2, 3, 4, 5, 3, 2, 6, 2, 7, 8, 7, 9, 10, 11, 2, 12, 2, 13, 2, 14, 15, 16, 14, 0} {
		in := &instrs[i]
		got, want := encodeActs(memo.actions10(in.Apply)), encodeActs(ActionsTo10(in.Apply))
		if !bytes.Equal(got, want) {
			t.Errorf("instructions %d, OF1.0 actions: %x, want %x", i, got, want)
		}
		got13 := of13.AppendInstructions(nil, memo.instructions13(in))
		want13 := of13.AppendInstructions(nil, InstructionsTo13(in))
		if !bytes.Equal(got13, want13) {
			t.Errorf("instructions %d, OF1.3: %x, want %x", i, got13, want13)
		}
	}
}
