package flow

import (
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
)

// Matches in ovs-ofctl's syntax: "tcp,in_port=1,nw_src=10.0.0.0/8,tp_dst=80".
// ParseMatch reads the match part of a flow (the caller strips priority,
// actions and other non-match keywords); FormatMatch writes a match so that
// ParseMatch reads back the same (Key, Mask).

// shorthands are the protocol keywords and what they pin.
var shorthands = map[string]struct {
	ethType uint16
	proto   uint8 // 0: none
}{
	"ip": {EthTypeIPv4, 0}, "ipv6": {EthTypeIPv6, 0},
	"icmp": {EthTypeIPv4, IPProtoICMP}, "icmp6": {EthTypeIPv6, IPProtoICMPv6},
	"tcp": {EthTypeIPv4, IPProtoTCP}, "tcp6": {EthTypeIPv6, IPProtoTCP},
	"udp": {EthTypeIPv4, IPProtoUDP}, "udp6": {EthTypeIPv6, IPProtoUDP},
	"sctp": {EthTypeIPv4, IPProtoSCTP}, "sctp6": {EthTypeIPv6, IPProtoSCTP},
	"arp": {EthTypeARP, 0}, "rarp": {EthTypeRARP, 0},
	"mpls": {EthTypeMPLS, 0}, "mplsm": {EthTypeMPLSM, 0},
}

// Reserved OpenFlow port names for in_port (OF1.3 32-bit numbers).
var portNames = map[string]uint32{
	"IN_PORT": 0xfffffff8, "TABLE": 0xfffffff9, "NORMAL": 0xfffffffa, "FLOOD": 0xfffffffb,
	"ALL": 0xfffffffc, "CONTROLLER": 0xfffffffd, "LOCAL": 0xfffffffe, "ANY": 0xffffffff,
	"NONE": 0xffffffff,
}

var tcpFlagNames = []string{"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns"}

var ctStateNames = []string{"new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat"}

// ParseMatch parses a match in ovs-ofctl syntax. Fields may come in any
// order; every field's prerequisites must be present in the end.
func ParseMatch(s string) (Key, Mask, error) {
	var k Key
	var m Mask
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		name, val, hasVal := strings.Cut(tok, "=")
		if !hasVal {
			sh, ok := shorthands[name]
			if !ok {
				return k, m, fmt.Errorf("match: unknown keyword %q", name)
			}
			k.EthType, m.EthType = sh.ethType, 0xffff
			if sh.proto != 0 {
				k.NwProto, m.NwProto = sh.proto, 0xff
			}
			continue
		}
		if err := parseField(&k, &m, name, val); err != nil {
			return k, m, fmt.Errorf("match: %s: %w", name, err)
		}
	}
	k.MaskFrom(&k, &m)
	if bad, ok := MatchPrereqsOK(&k, &m); !ok {
		if bad == nil {
			return k, m, errors.New("match: bits outside every field")
		}
		return k, m, fmt.Errorf("match: %s: prerequisites not met", bad.Name)
	}
	return k, m, nil
}

func parseField(k *Key, m *Mask, name, val string) error {
	switch name {
	case "dl_vlan": // OF1.0: 12-bit VID, 0xffff for "no VLAN"
		x, err := strconv.ParseUint(val, 0, 16)
		if err != nil {
			return err
		}
		if x == 0xffff {
			k.VLANs[0].TCI, m.VLANs[0].TCI = 0, 0xffff
			return nil
		}
		if x > 0xfff {
			return fmt.Errorf("VID %d out of range", x)
		}
		k.VLANs[0].TCI = k.VLANs[0].TCI&^0x1fff | uint16(x) | VLANCFI
		m.VLANs[0].TCI |= 0x1fff
		return nil
	case "dl_vlan_pcp", "vlan_pcp": // a PCP implies a tag, as in OVS
		x, err := strconv.ParseUint(val, 0, 8)
		if err != nil {
			return err
		}
		if x > 7 {
			return fmt.Errorf("PCP %d out of range", x)
		}
		k.VLANs[0].TCI = k.VLANs[0].TCI&^0xe000 | uint16(x)<<13 | VLANCFI
		m.VLANs[0].TCI |= 0xe000 | VLANCFI
		return nil
	}
	f := FieldByName(name)
	if f == nil {
		return errors.New("unknown field")
	}
	v, mask, err := parseValue(f, val)
	if err != nil {
		return err
	}
	if mask != f.AllOnes() && !f.Maskable {
		return errors.New("field is not maskable")
	}
	f.Set(m, mask)
	f.SetMasked(k, v, mask)
	return nil
}

func parseValue(f *Field, s string) (v, mask [16]byte, err error) {
	mask = f.AllOnes()
	vs, ms, hasMask := strings.Cut(s, "/")
	switch f.Format {
	case FormatEthernet:
		if v, err = parseMAC(vs); err == nil && hasMask {
			mask, err = parseMAC(ms)
		}
	case FormatIPv4, FormatIPv6:
		v, mask, err = parseIP(f, vs, ms, hasMask)
	case FormatOFPort:
		if n, ok := portNames[vs]; ok {
			return f.Value(uint64(n)), mask, nil
		}
		v, err = parseUint(f, vs)
	case FormatFrag:
		fr, ok := fragNames[vs]
		if ok && !hasMask {
			return f.Value(uint64(fr[0])), f.Value(uint64(fr[1])), nil
		}
		v, err = parseUint(f, vs)
	case FormatTCPFlags, FormatCtState:
		if strings.HasPrefix(vs, "+") || strings.HasPrefix(vs, "-") {
			names := tcpFlagNames
			if f.Format == FormatCtState {
				names = ctStateNames
			}
			x, mx, err := parseFlags(vs, names)
			return f.Value(x), f.Value(mx), err
		}
		v, err = parseUint(f, vs)
	default:
		v, err = parseUint(f, vs)
	}
	if err == nil && hasMask && f.Format != FormatEthernet && f.Format != FormatIPv4 && f.Format != FormatIPv6 {
		mask, err = parseUint(f, ms)
	}
	for i := range v {
		v[i] &= mask[i]
	}
	return v, mask, err
}

// fragNames: ip_frag keywords as value, mask.
var fragNames = map[string][2]uint8{
	"no":        {0, FragAny | FragLater},
	"yes":       {FragAny, FragAny},
	"first":     {FragAny, FragAny | FragLater},
	"later":     {FragAny | FragLater, FragAny | FragLater},
	"not_later": {0, FragLater},
}

func parseUint(f *Field, s string) ([16]byte, error) {
	var v [16]byte
	if f.Bytes > 8 {
		hex, ok := strings.CutPrefix(s, "0x")
		if !ok || len(hex) == 0 || len(hex) > 2*f.Bytes {
			return v, fmt.Errorf("%q: want a hex value of up to %d bytes", s, f.Bytes)
		}
		hex = strings.Repeat("0", 2*f.Bytes-len(hex)) + hex
		for i := 0; i < f.Bytes; i++ {
			b, err := strconv.ParseUint(hex[2*i:2*i+2], 16, 8)
			if err != nil {
				return v, err
			}
			v[i] = byte(b)
		}
		return v, nil
	}
	x, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return v, err
	}
	if f.Bits < 64 && x>>f.Bits != 0 && !(f.ID == FieldNwTOS && x < 256) {
		return v, fmt.Errorf("%s does not fit in %d bits", s, f.Bits)
	}
	if f.ID == FieldNwTOS && x&3 != 0 {
		return v, fmt.Errorf("nw_tos %s has ECN bits set", s)
	}
	return f.Value(x), nil
}

func parseMAC(s string) ([16]byte, error) {
	var v [16]byte
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return v, fmt.Errorf("%q is not a MAC address", s)
	}
	for i, p := range parts {
		if len(p) == 0 || len(p) > 2 {
			return v, fmt.Errorf("%q is not a MAC address", s)
		}
		b, err := strconv.ParseUint(p, 16, 8)
		if err != nil {
			return v, fmt.Errorf("%q is not a MAC address", s)
		}
		v[i] = byte(b)
	}
	return v, nil
}

func parseIP(f *Field, vs, ms string, hasMask bool) (v, mask [16]byte, err error) {
	want4 := f.Format == FormatIPv4
	addr, err := netip.ParseAddr(vs)
	if err != nil || addr.Is4() != want4 || addr.Zone() != "" {
		return v, mask, fmt.Errorf("%q is not an IPv%s address", vs, map[bool]string{true: "4", false: "6"}[want4])
	}
	copy(v[:], addr.AsSlice())
	mask = f.AllOnes()
	if !hasMask {
		return v, mask, nil
	}
	if n, perr := strconv.Atoi(ms); perr == nil {
		if n < 0 || n > f.Bits {
			return v, mask, fmt.Errorf("prefix length %d", n)
		}
		mask = [16]byte{}
		for i := 0; i < n; i++ {
			mask[i/8] |= 0x80 >> (i % 8)
		}
		return v, mask, nil
	}
	ma, err := netip.ParseAddr(ms)
	if err != nil || ma.Is4() != want4 {
		return v, mask, fmt.Errorf("%q is not a mask", ms)
	}
	mask = [16]byte{}
	copy(mask[:], ma.AsSlice())
	return v, mask, nil
}

func parseFlags(s string, names []string) (x, mask uint64, err error) {
	for len(s) > 0 {
		set := s[0] == '+'
		if s[0] != '+' && s[0] != '-' {
			return 0, 0, fmt.Errorf("flags %q: want +name or -name", s)
		}
		s = s[1:]
		end := strings.IndexAny(s, "+-")
		if end < 0 {
			end = len(s)
		}
		name := s[:end]
		s = s[end:]
		bit := -1
		for i, n := range names {
			if n == name {
				bit = i
			}
		}
		if bit < 0 {
			return 0, 0, fmt.Errorf("unknown flag %q", name)
		}
		mask |= 1 << bit
		if set {
			x |= 1 << bit
		} else {
			x &^= 1 << bit
		}
	}
	return x, mask, nil
}

// FormatMatch writes (k, m) in ovs-ofctl syntax. Bits no field owns are
// not written.
func FormatMatch(k *Key, m *Mask) string {
	var sb strings.Builder
	put := func(s string) {
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(s)
	}
	var done Mask // bits already written
	if m.EthType == 0xffff {
		if sh := shorthandFor(k, m); sh != "" {
			put(sh)
			done.EthType = 0xffff
			if shorthands[sh].proto != 0 {
				done.NwProto = 0xff
			}
		}
	}
	formatVLAN(put, k, m, &done)
	for _, id := range formatOrder {
		f := &fields[id]
		var rest Mask
		f.Unwildcard(&rest)
		rw, mw, dw := rest.Words(), m.Words(), done.Words()
		left := false
		for i := range rw {
			rw[i] &= mw[i] &^ dw[i]
			left = left || rw[i] != 0
		}
		if !left || !f.PrereqsOK(k, m) {
			continue
		}
		put(formatName(f) + "=" + formatValue(f, f.Get(k), f.MaskValue(m)))
		f.Unwildcard(&done)
	}
	return sb.String()
}

func shorthandFor(k *Key, m *Mask) string {
	best := ""
	for name, sh := range shorthands {
		if sh.ethType != k.EthType {
			continue
		}
		if sh.proto == 0 && best == "" {
			best = name
		}
		if sh.proto != 0 && m.NwProto == 0xff && k.NwProto == sh.proto {
			return name
		}
	}
	return best
}

// formatOrder lists fields in the order FormatMatch writes them: pipeline
// metadata, then L2, L3, L4 (roughly ovs-ofctl's order). Fields sharing
// storage appear once per meaning; prerequisites pick the one that fits.
var formatOrder = []FieldID{
	FieldRecircID, FieldDpHash, FieldPktMark,
	FieldCtState, FieldCtZone, FieldCtMark, FieldCtLabel, FieldCtNwSrc, FieldCtNwDst,
	FieldCtNwProto, FieldCtTpSrc, FieldCtTpDst,
	FieldTunID, FieldTunSrc, FieldTunDst, FieldTunIPv6Src, FieldTunIPv6Dst, FieldTunFlags,
	FieldTunTOS, FieldTunTTL, FieldTunTpSrc, FieldTunTpDst,
	FieldMetadata,
	FieldReg0, FieldReg1, FieldReg2, FieldReg3, FieldReg4, FieldReg5, FieldReg6, FieldReg7,
	FieldReg8, FieldReg9, FieldReg10, FieldReg11, FieldReg12, FieldReg13, FieldReg14, FieldReg15,
	FieldInPort,
	FieldEthSrc, FieldEthDst, FieldEthType,
	FieldMPLSLabel, FieldMPLSTC, FieldMPLSBOS, FieldMPLSTTL, FieldPbbISID,
	FieldIPv4Src, FieldIPv4Dst, FieldArpSPA, FieldArpTPA, FieldArpSHA, FieldArpTHA, FieldArpOp,
	FieldIPv6Src, FieldIPv6Dst, FieldIPv6Label, FieldIPv6Exthdr,
	FieldIPProto, FieldNwTOS, FieldIPDSCP, FieldIPECN, FieldNwTTL, FieldIPFrag,
	FieldTCPSrc, FieldTCPDst, FieldUDPSrc, FieldUDPDst, FieldSCTPSrc, FieldSCTPDst, FieldTCPFlags,
	FieldICMPv4Type, FieldICMPv4Code, FieldICMPv6Type, FieldICMPv6Code,
	FieldNdTarget, FieldNdSLL, FieldNdTLL,
}

func formatName(f *Field) string {
	switch f.ID {
	case FieldTCPSrc, FieldUDPSrc, FieldSCTPSrc:
		return "tp_src"
	case FieldTCPDst, FieldUDPDst, FieldSCTPDst:
		return "tp_dst"
	}
	return f.Name
}

// formatVLAN writes VLANs[0].TCI the way ovs-ofctl does: dl_vlan and
// dl_vlan_pcp when they say it all, vlan_tci otherwise.
func formatVLAN(put func(string), k *Key, m *Mask, done *Mask) {
	tci, mask := k.VLANs[0].TCI, m.VLANs[0].TCI
	if mask == 0 {
		return
	}
	done.VLANs[0].TCI = 0xffff
	vidExact := mask&0x1fff == 0x1fff
	pcpExact := mask&0xe000 == 0xe000
	present := tci&VLANCFI != 0
	switch {
	case mask == 0xffff && tci == 0:
		put("dl_vlan=0xffff")
	case present && vidExact && (mask&0xe000 == 0 || pcpExact):
		put("dl_vlan=" + strconv.Itoa(int(tci&0xfff)))
		if pcpExact {
			put("dl_vlan_pcp=" + strconv.Itoa(int(tci>>13)))
		}
	case present && pcpExact && mask&0x0fff == 0:
		put("dl_vlan_pcp=" + strconv.Itoa(int(tci>>13)))
	case mask == 0xffff:
		put(fmt.Sprintf("vlan_tci=0x%04x", tci))
	default:
		put(fmt.Sprintf("vlan_tci=0x%04x/0x%04x", tci, mask))
	}
}

func formatValue(f *Field, v, mask [16]byte) string {
	exact := mask == f.AllOnes()
	switch f.Format {
	case FormatEthernet:
		s := formatMAC(v)
		if !exact {
			s += "/" + formatMAC(mask)
		}
		return s
	case FormatIPv4, FormatIPv6:
		return formatIP(f, v, mask, exact)
	case FormatOFPort:
		x := uint32(f.Uint(v))
		for name, n := range portNames {
			if n == x && name != "NONE" {
				return name
			}
		}
		return strconv.FormatUint(uint64(x), 10)
	case FormatFrag:
		for name, fr := range fragNames {
			if uint64(fr[0]) == f.Uint(v) && uint64(fr[1]) == f.Uint(mask) {
				return name
			}
		}
	case FormatTCPFlags, FormatCtState:
		names := tcpFlagNames
		if f.Format == FormatCtState {
			names = ctStateNames
		}
		if s, ok := formatFlags(f.Uint(v), f.Uint(mask), names); ok {
			return s
		}
	case FormatDecimal:
		if exact {
			return strconv.FormatUint(f.Uint(v), 10)
		}
	}
	if f.Bytes > 8 {
		s := "0x" + trimHex(v[:f.Bytes])
		if !exact {
			s += "/0x" + trimHex(mask[:f.Bytes])
		}
		return s
	}
	s := "0x" + strconv.FormatUint(f.Uint(v), 16)
	if !exact {
		s += "/0x" + strconv.FormatUint(f.Uint(mask), 16)
	}
	return s
}

func trimHex(b []byte) string {
	s := fmt.Sprintf("%x", b)
	s = strings.TrimLeft(s, "0")
	if s == "" {
		return "0"
	}
	return s
}

func formatMAC(v [16]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", v[0], v[1], v[2], v[3], v[4], v[5])
}

func formatIP(f *Field, v, mask [16]byte, exact bool) string {
	var a netip.Addr
	if f.Format == FormatIPv4 {
		a = netip.AddrFrom4([4]byte(v[:4]))
	} else {
		a = netip.AddrFrom16(v)
	}
	if exact {
		return a.String()
	}
	if n, ok := prefixLen(mask[:f.Bytes]); ok {
		return a.String() + "/" + strconv.Itoa(n)
	}
	if f.Format == FormatIPv4 {
		return a.String() + "/" + netip.AddrFrom4([4]byte(mask[:4])).String()
	}
	return a.String() + "/" + netip.AddrFrom16(mask).String()
}

// prefixLen reports whether mask is a CIDR prefix, and its length.
func prefixLen(mask []byte) (int, bool) {
	n := 0
	for i, b := range mask {
		if b == 0xff {
			n += 8
			continue
		}
		ones := bits.LeadingZeros8(^b)
		if b != byte(0xff<<(8-ones)) {
			return 0, false
		}
		n += ones
		for _, c := range mask[i+1:] {
			if c != 0 {
				return 0, false
			}
		}
		break
	}
	return n, true
}

func formatFlags(x, mask uint64, names []string) (string, bool) {
	if mask>>len(names) != 0 || mask == 0 {
		return "", false
	}
	var sb strings.Builder
	for i, n := range names {
		if mask&(1<<i) == 0 {
			continue
		}
		if x&(1<<i) != 0 {
			sb.WriteByte('+')
		} else {
			sb.WriteByte('-')
		}
		sb.WriteString(n)
	}
	return sb.String(), true
}
