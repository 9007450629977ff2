package ofp_test

import (
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"

	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/of10"
	"github.com/govs/govs/internal/ofp/of13"
)

// TestRepliesPrint checks that messages a switch sends, as we encode them,
// are understood by ovs-ofctl ofp-print.
func TestRepliesPrint(t *testing.T) {
	if _, err := exec.LookPath("ovs-ofctl"); err != nil {
		t.Skip("ovs-ofctl not installed")
	}
	var name [16]byte
	copy(name[:], "p1")
	port := of13.Port{PortNo: 1, HWAddr: [6]byte{2, 0, 0, 0, 0, 1}, Name: name, CurrSpeed: 1000000}
	ipDst := ofp.OXM{Class: ofp.ClassOpenFlowBasic, Field: 12, Value: []byte{10, 0, 0, 1}}
	ethType := ofp.OXM{Class: ofp.ClassOpenFlowBasic, Field: 5, Value: []byte{8, 0}}
	cases := []struct {
		name string
		msg  []byte
		want []string
	}{
		{"of13-features", (&of13.FeaturesReply{Xid: 1, DatapathID: 0xabc, NTables: 254}).AppendTo(nil), []string{"OFPT_FEATURES_REPLY", "dpid:0000000000000abc", "n_tables:254"}},
		{"of13-packet-in", (&of13.PacketIn{Xid: 2, BufferID: 0xffffffff, TotalLen: 4, TableID: 3, Match: of13.Match{Type: of13.OXMTypeMatch, Fields: []ofp.OXM{{Class: ofp.ClassOpenFlowBasic, Field: 0, Value: []byte{0, 0, 0, 7}}}}, Data: []byte{1, 2, 3, 4}}).AppendTo(nil), []string{"OFPT_PACKET_IN", "table_id=3", "in_port=7"}},
		{"of13-flow-removed", (&of13.FlowRemoved{Xid: 3, Priority: 9, Reason: 1, Match: of13.Match{Type: of13.OXMTypeMatch, Fields: []ofp.OXM{ethType, ipDst}}}).AppendTo(nil), []string{"OFPT_FLOW_REMOVED", "priority=9", "nw_dst=10.0.0.1", "reason=hard"}},
		{"of13-port-status", (&of13.PortStatus{Xid: 4, Reason: 0, Desc: port}).AppendTo(nil), []string{"OFPT_PORT_STATUS", "ADD: 1(p1)"}},
		{"of13-port-desc", of13.NewMultipartReply(5, of13.MPPortDesc, 0, &of13.PortList{Ports: []of13.Port{port}}).AppendTo(nil), []string{"OFPST_PORT_DESC reply", "1(p1)"}},
		{"of13-flow-stats", of13.NewMultipartReply(6, of13.MPFlow, 0, &of13.FlowStatsList{Stats: []of13.FlowStats{{TableID: 1, Priority: 5, PacketCount: 42, Match: of13.Match{Type: of13.OXMTypeMatch, Fields: []ofp.OXM{ethType, ipDst}}, Instructions: []of13.Instruction{&of13.Actions{Type: of13.InstApplyActions, Actions: []ofp.Action{&of13.Output{Port: 2}}}}}}}).AppendTo(nil), []string{"OFPST_FLOW reply", "table=1", "n_packets=42", "priority=5,ip,nw_dst=10.0.0.1", "actions=output:2"}},
		{"of13-bundle-reply", of13.NewBundleControl(7, 9, of13.BundleCommitReply, 0).AppendTo(nil), []string{"ONFT_BUNDLE_CONTROL", "bundle_id=0x9", "COMMIT_REPLY"}},
		{"of13-error", ofp.ErrorReply(nil, ofp.Version13, 8, ofp.ErrBadActionType, []byte{4, 2, 0, 8, 0, 0, 0, 8}), []string{"OFPT_ERROR", "OFPBAC_BAD_TYPE"}},
		{"of10-error", ofp.ErrorReply(nil, ofp.Version10, 9, ofp.ErrBadLen, []byte{1, 2, 0, 8, 0, 0, 0, 9}), []string{"OFPT_ERROR", "OFPBRC_BAD_LEN"}},
		{"of10-features", (&of10.FeaturesReply{Xid: 10, DatapathID: 1, NTables: 1, Ports: []of10.PhyPort{{PortNo: 1, Name: name}}}).AppendTo(nil), []string{"OFPT_FEATURES_REPLY", "1(p1)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := exec.Command("ovs-ofctl", "ofp-print", hex.EncodeToString(c.msg)).CombinedOutput()
			if err != nil {
				t.Fatalf("ofp-print: %v\n%s", err, out)
			}
			for _, w := range c.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("ofp-print output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(string(out), "***") {
				t.Errorf("ofp-print reports a decode problem:\n%s", out)
			}
		})
	}
}
