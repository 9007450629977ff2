package unixctl

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/ofproto"
)

// OpenFlow rules and actions in ovs-ofctl's syntax, for bridge/dump-flows
// and ofproto/trace. govs keeps one action type for OF1.0's mod_* actions
// and OF1.3's set_field, so a whole-field rewrite of a field OF1.0 could
// rewrite prints as mod_* (as rules added by plain ovs-ofctl show), any
// other as set_field:VALUE->FIELD (VALUE/MASK for a partial rewrite).

var reservedPorts = map[uint32]string{
	ofproto.PortInPort: "IN_PORT", ofproto.PortTable: "TABLE", ofproto.PortNormal: "NORMAL",
	ofproto.PortFlood: "FLOOD", ofproto.PortAll: "ALL", ofproto.PortController: "CONTROLLER",
	ofproto.PortLocal: "LOCAL", ofproto.PortAny: "ANY",
}

// ofPortName writes an OpenFlow port number as ovs-ofctl does.
func ofPortName(p uint32) string {
	if s, ok := reservedPorts[p]; ok {
		return s
	}
	return strconv.FormatUint(uint64(p), 10)
}

var modNames = map[flow.FieldID]string{
	flow.FieldEthSrc: "mod_dl_src", flow.FieldEthDst: "mod_dl_dst",
	flow.FieldIPv4Src: "mod_nw_src", flow.FieldIPv4Dst: "mod_nw_dst",
	flow.FieldNwTOS: "mod_nw_tos", flow.FieldIPECN: "mod_nw_ecn", flow.FieldNwTTL: "mod_nw_ttl",
	flow.FieldTCPSrc: "mod_tp_src", flow.FieldTCPDst: "mod_tp_dst",
	flow.FieldUDPSrc: "mod_tp_src", flow.FieldUDPDst: "mod_tp_dst",
	flow.FieldVLANVID: "mod_vlan_vid", flow.FieldVLANPCP: "mod_vlan_pcp",
}

var reasonNames = []string{"no_match", "action", "invalid_ttl", "action_set", "group", "packet_out"}

// formatFieldValue writes a field value (wire order, left-aligned, as
// flow.Field.Get returns it) in ovs-ofctl's syntax for that field.
func formatFieldValue(f *flow.Field, v, mask [16]byte) string {
	exact := mask == f.AllOnes()
	var s, ms string
	switch f.Format {
	case flow.FormatEthernet:
		s, ms = macStr([6]byte(v[:6])), macStr([6]byte(mask[:6]))
	case flow.FormatIPv4:
		s = netip.AddrFrom4([4]byte(v[:4])).String()
		ms = netip.AddrFrom4([4]byte(mask[:4])).String()
	case flow.FormatIPv6:
		s, ms = netip.AddrFrom16(v).String(), netip.AddrFrom16(mask).String()
	case flow.FormatOFPort:
		s = ofPortName(uint32(f.Uint(v)))
	case flow.FormatDecimal:
		if exact {
			s = strconv.FormatUint(f.Uint(v), 10)
			break
		}
		fallthrough
	default:
		if f.Bytes > 8 {
			s, ms = hex16(v), hex16(mask)
		} else {
			s, ms = hexC(f.Uint(v)), hexC(f.Uint(mask))
			if s == "0" {
				s = "0x0"
			}
		}
	}
	if exact || ms == "" {
		return s
	}
	return s + "/" + ms
}

func fieldName(id flow.FieldID) string {
	if f := flow.FieldByID(id); f != nil {
		return f.Name
	}
	return fmt.Sprintf("field%d", id)
}

// formatAction writes one OpenFlow action as ovs-ofctl dump-flows does.
func formatAction(a *ofproto.Action) string {
	switch a.Type {
	case ofproto.ActOutput:
		switch a.Port {
		case ofproto.PortController:
			return fmt.Sprintf("CONTROLLER:%d", a.MaxLen)
		case ofproto.PortInPort, ofproto.PortTable, ofproto.PortNormal, ofproto.PortFlood,
			ofproto.PortAll, ofproto.PortLocal:
			return reservedPorts[a.Port]
		}
		return "output:" + ofPortName(a.Port)
	case ofproto.ActGroup:
		return fmt.Sprintf("group:%d", a.Group)
	case ofproto.ActSetQueue:
		return fmt.Sprintf("set_queue:%d", a.Queue)
	case ofproto.ActSetField:
		f := flow.FieldByID(a.Field)
		if f == nil {
			return fmt.Sprintf("set_field:?->field%d", a.Field)
		}
		if a.Field == flow.FieldVLANVID && a.Mask == f.AllOnes() {
			// OpenFlow 1.3's vlan_vid carries OFPVID_PRESENT (0x1000);
			// mod_vlan_vid takes the bare VID.
			return fmt.Sprintf("mod_vlan_vid:%d", f.Uint(a.Value)&0xfff)
		}
		if n, ok := modNames[a.Field]; ok && a.Mask == f.AllOnes() {
			return n + ":" + formatFieldValue(f, a.Value, a.Mask)
		}
		return "set_field:" + formatFieldValue(f, a.Value, a.Mask) + "->" + f.Name
	case ofproto.ActPushVLAN:
		return fmt.Sprintf("push_vlan:0x%04x", a.Ethertype)
	case ofproto.ActPopVLAN:
		return "pop_vlan"
	case ofproto.ActPushMPLS:
		return fmt.Sprintf("push_mpls:0x%04x", a.Ethertype)
	case ofproto.ActPopMPLS:
		return fmt.Sprintf("pop_mpls:0x%04x", a.Ethertype)
	case ofproto.ActPushPBB:
		return fmt.Sprintf("push_pbb:0x%04x", a.Ethertype)
	case ofproto.ActPopPBB:
		return "pop_pbb"
	case ofproto.ActSetNwTTL:
		return fmt.Sprintf("mod_nw_ttl:%d", a.TTL)
	case ofproto.ActDecNwTTL:
		if len(a.Controllers) == 0 {
			return "dec_ttl"
		}
		ids := make([]string, len(a.Controllers))
		for i, id := range a.Controllers {
			ids[i] = strconv.Itoa(int(id))
		}
		return "dec_ttl(" + strings.Join(ids, ",") + ")"
	case ofproto.ActSetMPLSTTL:
		return fmt.Sprintf("set_mpls_ttl(%d)", a.TTL)
	case ofproto.ActDecMPLSTTL:
		return "dec_mpls_ttl"
	case ofproto.ActCopyTTLOut:
		return "copy_ttl_out"
	case ofproto.ActCopyTTLIn:
		return "copy_ttl_in"
	case ofproto.ActController:
		if a.Reason == uint8(ofproto.ReasonAction) && a.ControllerID == 0 {
			return fmt.Sprintf("CONTROLLER:%d", a.MaxLen)
		}
		var parts []string
		if a.MaxLen != ofproto.ControllerMaxLenNoBuffer {
			parts = append(parts, fmt.Sprintf("max_len=%d", a.MaxLen))
		}
		if int(a.Reason) < len(reasonNames) {
			parts = append(parts, "reason="+reasonNames[a.Reason])
		} else {
			parts = append(parts, fmt.Sprintf("reason=%d", a.Reason))
		}
		if a.ControllerID != 0 {
			parts = append(parts, fmt.Sprintf("id=%d", a.ControllerID))
		}
		return "controller(" + strings.Join(parts, ",") + ")"
	case ofproto.ActResubmit:
		// OFPP_IN_PORT (and ANY) mean "the packet's in_port": ovs-ofctl
		// leaves the port out.
		port := ""
		if a.Port != ofproto.PortAny && a.Port != ofproto.PortInPort {
			port = ofPortName(a.Port)
		}
		if a.Table == ofproto.TableAll {
			return "resubmit:" + port
		}
		return fmt.Sprintf("resubmit(%s,%d)", port, a.Table)
	case ofproto.ActRegMove:
		return fmt.Sprintf("move:%s[%d..%d]->%s[%d..%d]",
			fieldName(a.SrcField), a.SrcOfs, int(a.SrcOfs)+int(a.NBits)-1,
			fieldName(a.Field), a.DstOfs, int(a.DstOfs)+int(a.NBits)-1)
	case ofproto.ActOutputReg:
		return fmt.Sprintf("output:%s[%d..%d]", fieldName(a.SrcField), a.SrcOfs, int(a.SrcOfs)+int(a.NBits)-1)
	case ofproto.ActNote:
		hexes := make([]string, len(a.Note))
		for i, x := range a.Note {
			hexes[i] = fmt.Sprintf("%02x", x)
		}
		return "note:" + strings.Join(hexes, ".")
	case ofproto.ActEnqueue:
		return fmt.Sprintf("enqueue:%s:%d", ofPortName(a.Port), a.Queue)
	case ofproto.ActMeter:
		return fmt.Sprintf("meter:%d", a.Meter)
	}
	return fmt.Sprintf("action%d", a.Type)
}

func formatActionList(acts []ofproto.Action) string {
	parts := make([]string, len(acts))
	for i := range acts {
		parts[i] = formatAction(&acts[i])
	}
	return strings.Join(parts, ",")
}

// formatInstructions writes a rule's instructions as the "actions=" value
// of ovs-ofctl dump-flows.
func formatInstructions(in *ofproto.Instructions) string {
	var parts []string
	if in.Meter != 0 {
		parts = append(parts, fmt.Sprintf("meter:%d", in.Meter))
	}
	if len(in.Apply) > 0 {
		parts = append(parts, formatActionList(in.Apply))
	}
	if in.ClearActions {
		parts = append(parts, "clear_actions")
	}
	if in.Write != nil {
		parts = append(parts, "write_actions("+formatActionList(in.Write)+")")
	}
	if in.WriteMetadata {
		s := fmt.Sprintf("write_metadata:%#x", in.Metadata)
		if in.MetadataMask != ^uint64(0) {
			s += fmt.Sprintf("/%#x", in.MetadataMask)
		}
		parts = append(parts, s)
	}
	if in.GotoTable >= 0 {
		parts = append(parts, fmt.Sprintf("goto_table:%d", in.GotoTable))
	}
	if len(parts) == 0 {
		return "drop"
	}
	return strings.Join(parts, ",")
}

// formatRule writes one line of bridge/dump-flows (OVS's flow_stats_ds).
func formatRule(r *ofproto.FlowView, now time.Time) string {
	var b strings.Builder
	if r.Table != 0 {
		fmt.Fprintf(&b, "table_id=%d, ", r.Table)
	}
	fmt.Fprintf(&b, "duration=%ds, n_packets=%d, n_bytes=%d, ", int64(now.Sub(r.Created).Seconds()),
		r.Packets.Load(), r.Bytes.Load())
	if r.IdleTimeout != 0 {
		fmt.Fprintf(&b, "idle_timeout=%d, ", r.IdleTimeout)
	}
	if r.HardTimeout != 0 {
		fmt.Fprintf(&b, "hard_timeout=%d, ", r.HardTimeout)
	}
	fmt.Fprintf(&b, "priority=%d", r.Priority)
	rm := r.Match.Expand()
	if m := flow.FormatMatch(&rm.Key, &rm.Mask); m != "" {
		b.WriteString(",")
		b.WriteString(m)
	}
	b.WriteString(",actions=")
	b.WriteString(formatInstructions(&r.Instructions))
	return b.String()
}

// bridgeDumpFlows lists every rule of a bridge, with the counters OVS
// shows; govs has no hidden rules, so this is every rule there is.
func (c *switchCmds) bridgeDumpFlows(call *Call) (string, error) {
	args := call.Args
	if len(args) == 2 {
		if args[0] != "--offload-stats" {
			return "", fmt.Errorf("unknown option %s", args[0])
		}
		args = args[1:]
	}
	b, err := c.bridge(args[0], "Unknown bridge")
	if err != nil {
		return "", err
	}
	now := c.now()
	var sb strings.Builder
	// Flows lists by table, then priority (highest first), as OVS does.
	for _, r := range b.Flows(ofproto.AllFlows()) {
		sb.WriteString(formatRule(&r, now))
		sb.WriteString("\n")
	}
	return sb.String(), nil
}
