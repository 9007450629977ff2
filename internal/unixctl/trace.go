package unixctl

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/ofproto"
)

// ofproto/trace BRIDGE BR_FLOW [-generate|PACKET], printed as OVS's
// ofproto/trace does:
//
//	Flow: in_port=1,vlan_tci=0x0000,dl_src=..,dl_dst=..,dl_type=0x0000
//
//	bridge("br0")
//	-------------
//	 0. priority 0
//	    NORMAL
//	     -> no learned MAC for destination, flooding
//
//	Final flow: unchanged
//	Megaflow: recirc_id=0,in_port=1,dl_src=..,dl_dst=..,dl_type=0x0000
//	Datapath actions: 1,3
//
// BR_FLOW is in ovs-ofctl match syntax; in_port may be a port name. A
// PACKET (hex) gives the headers, BR_FLOW the metadata (in_port,
// registers). Departures: OVS's datapath-flow form ([dp] odp_flow) is not
// accepted, nested tables are not indented, and the Megaflow line has no
// "eth" packet-type keyword.

func (c *switchCmds) ofprotoTrace(call *Call) (string, error) {
	args := call.Args
	if len(args) == 1 {
		return "", fmt.Errorf("syntax error at %s (or the bridge name was omitted)", args[0])
	}
	brName, spec := args[0], args[1]
	br := c.sw.Bridge(brName)
	if br == nil {
		if strings.Contains(brName, "(") || strings.Contains(spec, "(") {
			return "", errors.New("datapath flows (odp_flow) are not supported by govs: use ofproto/trace BRIDGE BR_FLOW")
		}
		return "", fmt.Errorf("%s: unknown bridge", brName)
	}
	k, err := parseTraceFlow(br, spec)
	if err != nil {
		return "", err
	}
	if len(args) == 3 {
		switch opt := args[2]; {
		case opt == "-generate":
			// Tracing never executes the actions: nothing to generate.
		case strings.HasPrefix(opt, "-"):
			return "", fmt.Errorf("%s: unknown option", opt)
		default:
			pkt, err := hex.DecodeString(strings.Join(strings.Fields(opt), ""))
			if err != nil {
				return "", ovsErrorf("Trailing garbage in packet data")
			}
			var pk flow.Key
			flow.ParseBytes(pkt, &pk)
			pk.InPort, pk.Metadata, pk.Regs, pk.PktMark = k.InPort, k.Metadata, k.Regs, k.PktMark
			pk.TunID, pk.TunSrc, pk.TunDst = k.TunID, k.TunSrc, k.TunDst
			k = pk
		}
	}
	t, err := c.sw.Ofproto().Trace(brName, &k)
	if err != nil {
		return "", err
	}
	return c.formatTrace(t), nil
}

// parseTraceFlow parses BR_FLOW, resolving an in_port given by name.
func parseTraceFlow(br *ofproto.Bridge, spec string) (flow.Key, error) {
	toks := strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	for i, tok := range toks {
		name, val, ok := strings.Cut(tok, "=")
		if !ok || name != "in_port" {
			continue
		}
		if _, err := strconv.ParseUint(val, 0, 32); err == nil {
			continue
		}
		if _, reserved := reservedPortByName(val); reserved {
			continue
		}
		for _, p := range br.Ports() {
			if p.Name == val {
				toks[i] = "in_port=" + strconv.FormatUint(uint64(p.OFPort), 10)
			}
		}
	}
	k, _, err := flow.ParseMatch(strings.Join(toks, ","))
	if err != nil {
		return k, ovsErrorf("Bad openflow flow syntax: %s: %v", spec, err)
	}
	return k, nil
}

func reservedPortByName(s string) (uint32, bool) {
	for n, name := range reservedPorts {
		if name == s {
			return n, true
		}
	}
	return 0, false
}

// traceScope is a part of a trace that works on a copy of the packet (a
// patch port's peer bridge, a group bucket): its actions leave the final
// flow alone.
type traceScope struct {
	depth int
	patch bool // the peer bridge of a patch port: indented
}

func (c *switchCmds) formatTrace(t *ofproto.Trace) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Flow: %s\n", flowString(&t.Key))
	fmt.Fprintf(&b, "\nbridge(\"%s\")\n-------------\n", t.Bridge)
	final := t.Key
	var scopes []traceScope
	for i := range t.Steps {
		s := &t.Steps[i]
		for len(scopes) > 0 {
			top := scopes[len(scopes)-1]
			if (top.patch && s.Depth < top.depth) || (!top.patch && s.Depth <= top.depth) {
				scopes = scopes[:len(scopes)-1]
				continue
			}
			break
		}
		ind := ""
		for _, sc := range scopes {
			if sc.patch {
				ind += "    "
			}
		}
		switch s.Kind {
		case ofproto.TraceLookup:
			if s.Rule == nil {
				fmt.Fprintf(&b, "%s%2d. No match.\n", ind, s.Table)
				if i+1 >= len(t.Steps) || t.Steps[i+1].Kind != ofproto.TraceLookup {
					fmt.Fprintf(&b, "%s    drop\n", ind)
				}
				continue
			}
			line := fmt.Sprintf("%s%2d. ", ind, s.Table)
			rm := s.Rule.Match.Expand()
			if m := flow.FormatMatch(&rm.Key, &rm.Mask); m != "" {
				line += m + ", "
			}
			prio := uint32(s.Rule.Priority)
			if s.Rule.Hidden {
				prio += ofproto.HiddenPriorityBase
			}
			line += fmt.Sprintf("priority %d", prio)
			if s.Rule.Cookie != 0 {
				line += fmt.Sprintf(", cookie %#x", s.Rule.Cookie)
			}
			b.WriteString(line + "\n")
			if formatInstructions(&s.Rule.Instructions) == "drop" {
				fmt.Fprintf(&b, "%s    drop\n", ind)
			}
		case ofproto.TraceAction:
			fmt.Fprintf(&b, "%s    %s\n", ind, formatAction(&s.Action))
			if len(scopes) == 0 {
				applyToFlow(&final, &s.Action)
			}
			if s.Action.Type == ofproto.ActOutput && s.Action.Port == ofproto.PortNormal {
				if note := c.normalNote(t, i, &final); note != "" {
					fmt.Fprintf(&b, "%s     -> %s\n", ind, note)
				}
			}
		case ofproto.TracePatch:
			scopes = append(scopes, traceScope{depth: s.Depth, patch: true})
			ind += "    "
			fmt.Fprintf(&b, "\n%sbridge(\"%s\")\n%s-------------\n", ind, s.Bridge, ind)
		case ofproto.TraceBucket:
			fmt.Fprintf(&b, "%s     -> %s\n", ind, s.Text)
			scopes = append(scopes, traceScope{depth: s.Depth})
		case ofproto.TraceOutput:
			// The action above says it.
		default:
			fmt.Fprintf(&b, "%s     -> %s\n", ind, s.Text)
		}
	}
	b.WriteString("\nFinal flow: ")
	if final == t.Key {
		b.WriteString("unchanged\n")
	} else {
		b.WriteString(flowString(&final) + "\n")
	}
	fmt.Fprintf(&b, "Megaflow: %s\n", megaflowString(&t.Key, &t.Mask))
	fmt.Fprintf(&b, "Datapath actions: %s\n", t.Actions.String())
	if t.NoInstall {
		b.WriteString("This flow is handled by the userspace slow path: its megaflow is not installed.\n")
	}
	return b.String()
}

// normalNote explains the NORMAL action at step i as OVS does, unless the
// translation already said why it dropped.
func (c *switchCmds) normalNote(t *ofproto.Trace, i int, k *flow.Key) string {
	for _, s := range t.Steps[i+1:] {
		if s.Kind == ofproto.TraceAction || s.Kind == ofproto.TraceLookup {
			break
		}
		if s.Kind == ofproto.TraceNote && strings.HasPrefix(s.Text, "NORMAL:") {
			return ""
		}
	}
	if k.EthDst[0]&1 == 0 {
		vlan := uint16(0)
		if k.VLANs[0].TCI&flow.VLANCFI != 0 {
			vlan = k.VLANs[0].TCI & 0xfff
		} else if br := c.sw.Bridge(t.Steps[i].Bridge); br != nil {
			for _, p := range br.Ports() {
				if p.OFPort == k.InPort {
					vlan = p.Tag
				}
			}
		}
		if mt := c.sw.Ofproto().MACTable(t.Steps[i].Bridge); mt != nil {
			if _, ok := mt.Lookup(k.EthDst, vlan, c.now().UnixNano()); ok {
				return "forwarding to learned port"
			}
		}
	}
	return "no learned MAC for destination, flooding"
}

// applyToFlow changes k as action a changes the packet, for the "Final
// flow" line.
func applyToFlow(k *flow.Key, a *ofproto.Action) {
	switch a.Type {
	case ofproto.ActSetField:
		if f := flow.FieldByID(a.Field); f != nil {
			f.SetMasked(k, a.Value, a.Mask)
		}
	case ofproto.ActPushVLAN:
		k.VLANs[1] = k.VLANs[0]
		k.VLANs[0] = flow.VLAN{TPID: a.Ethertype, TCI: flow.VLANCFI | k.VLANs[1].TCI&^flow.VLANCFI}
	case ofproto.ActPopVLAN:
		k.VLANs[0], k.VLANs[1] = k.VLANs[1], flow.VLAN{}
	case ofproto.ActSetNwTTL:
		k.NwTTL = a.TTL
	case ofproto.ActDecNwTTL:
		if k.NwTTL > 0 {
			k.NwTTL--
		}
	}
}

// flowFields are the fields the Flow line shows when their prerequisites
// hold, as OVS's flow_format shows every field of the packet's headers.
var flowFields = []flow.FieldID{
	flow.FieldInPort, flow.FieldEthSrc, flow.FieldEthDst, flow.FieldEthType,
	flow.FieldMPLSLabel, flow.FieldMPLSTC, flow.FieldMPLSBOS, flow.FieldMPLSTTL,
	flow.FieldIPv4Src, flow.FieldIPv4Dst, flow.FieldIPv6Src, flow.FieldIPv6Dst, flow.FieldIPv6Label,
	flow.FieldArpSPA, flow.FieldArpTPA, flow.FieldArpOp, flow.FieldArpSHA, flow.FieldArpTHA,
	flow.FieldIPProto, flow.FieldNwTOS, flow.FieldIPECN, flow.FieldNwTTL, flow.FieldIPFrag,
	flow.FieldTCPSrc, flow.FieldTCPDst, flow.FieldTCPFlags, flow.FieldUDPSrc, flow.FieldUDPDst,
	flow.FieldSCTPSrc, flow.FieldSCTPDst,
	flow.FieldICMPv4Type, flow.FieldICMPv4Code, flow.FieldICMPv6Type, flow.FieldICMPv6Code,
	flow.FieldNdTarget, flow.FieldNdSLL, flow.FieldNdTLL,
}

// metaFields are shown when not zero.
var metaFields = []flow.FieldID{
	flow.FieldTunID, flow.FieldTunSrc, flow.FieldTunDst, flow.FieldMetadata, flow.FieldPktMark,
	flow.FieldReg0, flow.FieldReg1, flow.FieldReg2, flow.FieldReg3, flow.FieldReg4, flow.FieldReg5,
	flow.FieldReg6, flow.FieldReg7, flow.FieldReg8, flow.FieldReg9, flow.FieldReg10, flow.FieldReg11,
	flow.FieldReg12, flow.FieldReg13, flow.FieldReg14, flow.FieldReg15,
}

// flowString writes a whole packet key as the Flow lines of OVS's trace.
func flowString(k *flow.Key) string {
	var m flow.Mask
	for _, id := range metaFields {
		if f := flow.FieldByID(id); f != nil && f.Get(k) != ([16]byte{}) {
			f.Unwildcard(&m)
		}
	}
	// Prerequisites come before what needs them in flowFields, but
	// overlapping storage (ARP vs IPv4) needs a second look.
	for range 2 {
		for _, id := range flowFields {
			if f := flow.FieldByID(id); f != nil && f.PrereqsOK(k, &m) {
				f.Unwildcard(&m)
			}
		}
	}
	return ofctlTokens(k, &m, fmt.Sprintf("vlan_tci=0x%04x", k.VLANs[0].TCI))
}

// megaflowString writes the Megaflow line: recirc_id and the packet type
// first, as OVS does, then the match.
func megaflowString(k, m *flow.Key) string {
	mm := *m
	mm.RecircID = 0
	mk := *k
	mk.MaskFrom(k, &mm)
	vlan := ""
	if mm.VLANs[0].TCI != 0 {
		if mm.VLANs[0].TCI == 0xffff {
			vlan = fmt.Sprintf("vlan_tci=0x%04x", mk.VLANs[0].TCI)
		} else {
			vlan = fmt.Sprintf("vlan_tci=0x%04x/0x%04x", mk.VLANs[0].TCI, mm.VLANs[0].TCI)
		}
	}
	s := ofctlTokens(&mk, &mm, vlan)
	head := fmt.Sprintf("recirc_id=%s,eth", hexC(uint64(k.RecircID&m.RecircID)))
	if s == "" {
		return head
	}
	return head + "," + s
}

// ofctlTokens formats (k, m) with FormatMatch, VLAN aside, and spells
// fields as OVS's flow and match printers do: vlan (if not "") right after
// in_port, dl_type as 4 hex digits, nw_frag rather than ip_frag.
func ofctlTokens(k, m *flow.Key, vlan string) string {
	mm := *m
	mm.VLANs[0].TCI = 0
	s := flow.FormatMatch(k, &mm)
	var toks []string
	if s != "" {
		toks = strings.Split(s, ",")
	}
	at := 0
	for i, tok := range toks {
		name, val, _ := strings.Cut(tok, "=")
		switch name {
		case "in_port":
			at = i + 1
		case "dl_type":
			if v, err := strconv.ParseUint(val, 0, 16); err == nil {
				toks[i] = fmt.Sprintf("dl_type=0x%04x", v)
			}
		case "ip_frag":
			toks[i] = "nw_frag=" + val
		case "tcp_flags":
			if val == "0x0" {
				toks[i] = "tcp_flags=0"
			}
		}
	}
	if vlan != "" {
		toks = append(toks[:at], append([]string{vlan}, toks[at:]...)...)
	}
	return strings.Join(toks, ",")
}
