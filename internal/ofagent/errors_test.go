package ofagent

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"testing"

	"github.com/govs/govs/internal/ofp"
)

// The error-code contract: every kind of malformed or unsupported
// request gets the OFPT_ERROR type and code OVS 3.1 gives for the same
// bytes, and the connection goes on. The expected codes were taken from
// a real ovs-vswitchd (datapath_type=netdev, dummy ports 1 and 2); set
// GOVS_OVS_ORACLE to an OVS bridge's management socket (its br0.mgmt)
// to check the table against it again.

// raw builds an OpenFlow message: header with the right length, then the
// body parts.
func raw(version, typ uint8, parts ...[]byte) []byte {
	b, start := ofp.AppendHeader(nil, version, typ, 0x55)
	for _, p := range parts {
		b = append(b, p...)
	}
	return ofp.EndMessage(b, start)
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
func zeros(n int) []byte   { return make([]byte, n) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// oxm is an OpenFlow-basic (or class) TLV: header and value, length
// taken from value unless n >= 0.
func oxm(class uint16, field uint8, value []byte, n int) []byte {
	if n < 0 {
		n = len(value)
	}
	return cat(be16(class), []byte{field << 1, byte(n)}, value)
}

// match13 is an OXM ofp_match padded to 8 bytes.
func match13(oxms ...[]byte) []byte {
	f := cat(oxms...)
	m := cat(be16(1), be16(uint16(4+len(f))), f)
	return append(m, zeros((8-len(m)%8)%8)...)
}

// flowMod13 is an OF1.3 FLOW_MOD's body.
func fm13(table, cmd uint8, buffer uint32, match []byte, insts ...[]byte) []byte {
	return cat(be64(0), be64(0), []byte{table, cmd}, be16(0), be16(0), be16(100), be32(buffer),
		be32(0xffffffff), be32(0xffffffff), be16(0), zeros(2), match, cat(insts...))
}

func apply13(acts ...[]byte) []byte {
	a := cat(acts...)
	return cat(be16(4), be16(uint16(8+len(a))), zeros(4), a)
}

func output13(port uint32) []byte { return cat(be16(0), be16(16), be32(port), be16(0xffff), zeros(6)) }

const noBuffer = 0xffffffff

var (
	ethIP  = oxm(0x8000, 5, be16(0x0800), -1)
	ipTCP  = oxm(0x8000, 10, []byte{6}, -1)
	match0 = match13()
)

// fm10 is an OF1.0 FLOW_MOD's body (match all).
func fm10(cmd uint16, buffer uint32, acts ...[]byte) []byte {
	m := cat(be32(0x3fffff), zeros(36))
	return cat(m, be64(0), be16(cmd), be16(0), be16(0), be16(100), be32(buffer), be16(0xffff), be16(0), cat(acts...))
}

func output10(port uint16) []byte { return cat(be16(0), be16(8), be16(port), be16(0xffff)) }

// nxm is an NXM TLV (class 0 = NXM_OF, 1 = NXM_NX).
func nxm(class uint16, field uint8, value []byte, n int) []byte { return oxm(class, field, value, n) }

// nxFlowMod is an NXT_FLOW_MOD (vendor message body).
func nxFlowMod(cmd uint16, match []byte, acts ...[]byte) []byte {
	pad := zeros((8 - len(match)%8) % 8)
	return cat(be32(0x2320), be32(13), be64(0), be16(cmd), be16(0), be16(0), be16(100), be32(noBuffer),
		be16(0xffff), be16(0), be16(uint16(len(match))), zeros(6), match, pad, cat(acts...))
}

type errCase struct {
	name      string
	version   uint8
	msg       []byte
	typ, code uint16
	// vendor is, for OF1.0, the error an NXET_VENDOR error carries
	// (OVS sends errors OF1.0 lacks that way): type<<16|code.
	vendor uint32
	// departs says why govs answers differently from OVS on purpose;
	// the oracle is not asked then.
	departs string
}

// nxv is the NX1.0 type t and code c an OF1.0 NXET_VENDOR error carries.
func nxv(t, c uint16) uint32 { return uint32(t)<<16 | uint32(c) }

const nxetVendor = 0xb0c2

const departVersion = "OVS hangs up on a message of another version; govs answers OFPBRC_BAD_VERSION (OF1.3.5 §7.5.4.2) and goes on"

var errCases = []errCase{
	// OpenFlow 1.3.
	{"13 bad version", 4, raw(1, 20), ofp.ETBadRequest, ofp.BRCBadVersion, 0, departVersion},
	{"13 unknown type", 4, raw(4, 99), ofp.ETBadRequest, ofp.BRCBadType, 0, ""},
	{"13 body too short", 4, raw(4, 14, zeros(8)), ofp.ETBadRequest, ofp.BRCBadLen, 0, ""},
	{"13 body too long", 4, raw(4, 20, zeros(4)), ofp.ETBadRequest, ofp.BRCBadLen, 0, ""},
	{"13 set-config too long", 4, raw(4, 9, be16(0), be16(128), zeros(8)), ofp.ETBadRequest, ofp.BRCBadLen, 0, ""},
	{"13 match length past the end", 4, raw(4, 14, fm13(0, 0, noBuffer, cat(be16(1), be16(200), zeros(4)))), ofp.ETBadMatch, ofp.BMCBadLen, 0, ""},
	{"13 bad multipart", 4, raw(4, 18, be16(77), be16(0), zeros(4)), ofp.ETBadRequest, ofp.BRCBadMultipart, 0, ""},
	{"13 bad action type", 4, raw(4, 14, fm13(0, 0, noBuffer, match0, apply13(cat(be16(0x1234), be16(8), zeros(4))))), ofp.ETBadAction, ofp.BACBadType, 0, ""},
	{"13 bad action len", 4, raw(4, 14, fm13(0, 0, noBuffer, match0, apply13(cat(be16(0), be16(8), be32(1))))), ofp.ETBadAction, ofp.BACBadLen, 0, ""},
	{"13 action len past the end", 4, raw(4, 14, fm13(0, 0, noBuffer, match0, cat(be16(4), be16(16), zeros(4), be16(0), be16(64), be32(1)))), ofp.ETBadAction, ofp.BACBadLen, 0, ""},
	{"13 bad prereq", 4, raw(4, 14, fm13(0, 0, noBuffer, match13(ipTCP))), ofp.ETBadMatch, ofp.BMCBadPrereq, 0, ""},
	{"13 bad oxm length", 4, raw(4, 14, fm13(0, 0, noBuffer, match13(oxm(0x8000, 5, []byte{8, 0, 0}, -1)))), ofp.ETBadMatch, ofp.BMCBadField, 0, ""},
	{"13 duplicate field", 4, raw(4, 14, fm13(0, 0, noBuffer, match13(ethIP, ethIP))), ofp.ETBadMatch, ofp.BMCDupField, 0, ""},
	{"13 unknown oxm class", 4, raw(4, 14, fm13(0, 0, noBuffer, match13(oxm(0x1234, 1, []byte{1, 2}, -1)))), ofp.ETBadMatch, ofp.BMCBadField, 0, ""},
	{"13 unknown instruction", 4, raw(4, 14, fm13(0, 0, noBuffer, match0, cat(be16(99), be16(8), zeros(4)))), ofp.ETBadInstruction, ofp.BICUnknownInst, 0, ""},
	{"13 goto-table backwards", 4, raw(4, 14, fm13(3, 0, noBuffer, match0, cat(be16(1), be16(8), []byte{1}, zeros(3)))), ofp.ETBadInstruction, ofp.BICBadTableID, 0, ""},
	{"13 flow-mod to table 254", 4, raw(4, 14, fm13(254, 0, noBuffer, match0)), ofp.ETFlowModFailed, 2 /* OFPFMFC_BAD_TABLE_ID */, 0,
		"table 254 is OVS's hidden internal table (OFPBRC_EPERM); govs has tables 0-253 and no hidden one"},
	{"13 flow-mod add to all tables", 4, raw(4, 14, fm13(255, 0, noBuffer, match0)), ofp.ETFlowModFailed, 2 /* OFPFMFC_BAD_TABLE_ID */, 0, ""},
	{"13 flow-mod bad command", 4, raw(4, 14, fm13(0, 9, noBuffer, match0)), ofp.ETFlowModFailed, 6 /* OFPFMFC_BAD_COMMAND */, 0, ""},
	{"13 output to a bad port", 4, raw(4, 14, fm13(0, 0, noBuffer, match0, apply13(output13(0xffffff00)))), ofp.ETBadAction, ofp.BACBadOutPort, 0, ""},
	{"13 packet-out unknown buffer", 4, raw(4, 13, be32(1234), be32(0xfffffffd), be16(0), zeros(6)), ofp.ETBadRequest, ofp.BRCBufferUnknown, 0, ""},
	{"13 packet-out bad in_port", 4, raw(4, 13, be32(noBuffer), be32(0xffffff00), be16(0), zeros(6), zeros(60)), ofp.ETBadRequest, ofp.BRCBadPort, 0, ""},
	{"13 group-mod bad command", 4, raw(4, 15, be16(9), []byte{0, 0}, be32(1)), ofp.ETGroupModFailed, 11 /* OFPGMFC_BAD_COMMAND */, 0, ""},
	{"13 group-mod bad type", 4, raw(4, 15, be16(0), []byte{9, 0}, be32(1)), ofp.ETGroupModFailed, 10 /* OFPGMFC_BAD_TYPE */, 0, ""},
	{"13 meter-mod bad command", 4, raw(4, 29, be16(9), be16(1), be32(1), be16(1), be16(16), be32(1000), be32(0), zeros(4)), ofp.ETMeterModFailed, 4 /* OFPMMFC_BAD_COMMAND */, 0, ""},
	{"13 meter-mod bad band", 4, raw(4, 29, be16(0), be16(1), be32(1), be16(9), be16(16), be32(1000), be32(0), zeros(4)), ofp.ETMeterModFailed, 8 /* OFPMMFC_BAD_BAND */, 0, ""},
	{"13 bad experimenter", 4, raw(4, 4, be32(0x12345678), be32(1)), ofp.ETBadRequest, ofp.BRCBadExperimenter, 0, ""},
	{"13 bad nicira subtype", 4, raw(4, 4, be32(0x2320), be32(9999)), ofp.ETBadRequest, ofp.BRCBadExpType, 0, ""},

	// OpenFlow 1.0 with the Nicira extensions.
	{"10 bad version", 1, raw(4, 20), ofp.ETBadRequest, ofp.BRCBadVersion, 0, departVersion},
	{"10 unknown type", 1, raw(1, 99), ofp.ETBadRequest, ofp.BRCBadType, 0, ""},
	{"10 body too short", 1, raw(1, 14, zeros(8)), ofp.ETBadRequest, ofp.BRCBadLen, 0, ""},
	{"10 body too long", 1, raw(1, 18, zeros(4)), ofp.ETBadRequest, ofp.BRCBadLen, 0, ""},
	{"10 bad stats type", 1, raw(1, 16, be16(77), be16(0)), ofp.ETBadRequest, ofp.BRCBadMultipart, 0, ""},
	{"10 bad action type", 1, raw(1, 14, fm10(0, noBuffer, cat(be16(0x1234), be16(8), zeros(4)))), ofp.ETBadAction, ofp.BACBadType, 0, ""},
	{"10 bad action len", 1, raw(1, 14, fm10(0, noBuffer, cat(be16(0), be16(16), be16(1), be16(0), zeros(8)))), ofp.ETBadAction, ofp.BACBadLen, 0, ""},
	{"10 flow-mod bad command", 1, raw(1, 14, fm10(9, noBuffer)), 3, 4 /* OF1.0 OFPFMFC_BAD_COMMAND */, 0, ""},
	{"10 output to a bad port", 1, raw(1, 14, fm10(0, noBuffer, output10(0xff00))), ofp.ETBadAction, ofp.BACBadOutPort, 0, ""},
	{"10 packet-out unknown buffer", 1, raw(1, 13, be32(1234), be16(0xfffd), be16(0)), ofp.ETBadRequest, ofp.BRCBufferUnknown, 0, ""},
	{"10 bad vendor", 1, raw(1, 4, be32(0x12345678), be32(1)), ofp.ETBadRequest, ofp.BRCBadExperimenter, 0, ""},
	{"10 bad nicira subtype", 1, raw(1, 4, be32(0x2320), be32(9999)), ofp.ETBadRequest, ofp.BRCBadExpType, 0, ""},
	{"10 nx bad prereq", 1, raw(1, 4, nxFlowMod(0, nxm(0, 6, []byte{6}, -1))), nxetVendor, 0, nxv(1, 260), ""},
	{"10 nx bad length", 1, raw(1, 4, nxFlowMod(0, nxm(0, 3, []byte{8, 0, 0}, -1))), nxetVendor, 0, nxv(0, 263), ""},
	{"10 nx duplicate field", 1, raw(1, 4, nxFlowMod(0, cat(nxm(0, 3, be16(0x800), -1), nxm(0, 3, be16(0x800), -1)))), nxetVendor, 0, nxv(1, 261), ""},
	{"10 nx unknown class", 1, raw(1, 4, nxFlowMod(0, nxm(0x1234, 1, []byte{1, 2}, -1))), nxetVendor, 0, nxv(0, 263), ""},
	{"10 nx flow-mod bad command", 1, raw(1, 4, nxFlowMod(9, nil)), 3, 4, 0, ""},
	{"10 nx match length past the end", 1, raw(1, 4, cat(be32(0x2320), be32(13), be64(0), be16(0), be16(0), be16(0), be16(100), be32(noBuffer), be16(0xffff), be16(0), be16(64), zeros(6))), nxetVendor, 0, nxv(1, 521), ""},
}

// errorOf reads messages until an OFPT_ERROR and returns its type, code
// and, for NXET_VENDOR errors, the carried type<<16|code.
func errorOf(p *peer) (typ, code uint16, vendor uint32) {
	p.t.Helper()
	for {
		m := p.read()
		if m[1] != ofp.TypeError {
			continue
		}
		typ, code = binary.BigEndian.Uint16(m[8:]), binary.BigEndian.Uint16(m[10:])
		if typ == 0xb0c2 && len(m) >= 20 { // NXET_VENDOR: vendor, type, code
			vendor = binary.BigEndian.Uint32(m[16:])
		}
		return typ, code, vendor
	}
}

func errString(typ, code uint16, vendor uint32) string {
	if vendor != 0 {
		return fmt.Sprintf("%d/%d (vendor %d/%d)", typ, code, vendor>>16, vendor&0xffff)
	}
	return fmt.Sprintf("%d/%d", typ, code)
}

func TestErrorCodeContract(t *testing.T) {
	oracle := os.Getenv("GOVS_OVS_ORACLE")
	for _, c := range errCases {
		t.Run(c.name, func(t *testing.T) {
			want := errString(c.typ, c.code, c.vendor)
			if oracle != "" && c.departs == "" {
				nc, err := net.Dial("unix", oracle)
				if err != nil {
					t.Fatal(err)
				}
				defer nc.Close()
				p := &peer{t: t, nc: nc, r: ofp.NewReader(nc, 0)}
				p.read()
				p.write(helloMsg([]uint8{c.version}))
				p.write(c.msg)
				if got := errString(errorOf(p)); got != want {
					t.Errorf("OVS answers %s, the table says %s", got, want)
				}
				p.echo(c.version)
			}
			ts := newTestSwitch(t)
			p := connect(t, ts, c.version, true)
			p.write(c.msg)
			if got := errString(errorOf(p)); got != want {
				t.Errorf("govs answers %s, want %s (OVS's)", got, want)
			}
			p.echo(c.version)
		})
	}
}
