package ofp

import (
	"encoding/binary"
	"fmt"
)

// Error is an OpenFlow error: the OFPT_ERROR type and code (in OpenFlow 1.3
// numbering) a switch answers a bad request with. Decoders return *Error
// (possibly wrapped), so the agent can answer with ErrorReply and keep the
// connection.
type Error struct {
	Type uint16
	Code uint16
}

func (e *Error) Error() string { return fmt.Sprintf("openflow error type %d code %d", e.Type, e.Code) }

// Is makes errors.Is match on type and code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Type == e.Type && t.Code == e.Code
}

// OpenFlow 1.3 error types (ofp_error_type).
const (
	ETHelloFailed        uint16 = 0
	ETBadRequest         uint16 = 1
	ETBadAction          uint16 = 2
	ETBadInstruction     uint16 = 3
	ETBadMatch           uint16 = 4
	ETFlowModFailed      uint16 = 5
	ETGroupModFailed     uint16 = 6
	ETPortModFailed      uint16 = 7
	ETTableModFailed     uint16 = 8
	ETQueueOpFailed      uint16 = 9
	ETSwitchConfigFailed uint16 = 10
	ETRoleRequestFailed  uint16 = 11
	ETMeterModFailed     uint16 = 12
	ETTableFeatFailed    uint16 = 13
	ETExperimenter       uint16 = 0xffff
)

// Codes used by the decoders. The names follow the spec (OFPBRC_*, ...).
const (
	BRCBadVersion      = 0
	BRCBadType         = 1
	BRCBadMultipart    = 2
	BRCBadExperimenter = 3
	BRCBadExpType      = 4
	BRCEperm           = 5
	BRCBadLen          = 6
	BRCBufferEmpty     = 7
	BRCBufferUnknown   = 8
	BRCBadTableID      = 9
	BRCIsSlave         = 10
	BRCBadPort         = 11
	BRCBadPacket       = 12
	BRCMultipartBufOvf = 13

	BACBadType           = 0
	BACBadLen            = 1
	BACBadExperimenter   = 2
	BACBadExpType        = 3
	BACBadOutPort        = 4
	BACBadArgument       = 5
	BACEperm             = 6
	BACTooMany           = 7
	BACBadQueue          = 8
	BACBadOutGroup       = 9
	BACMatchInconsistent = 10
	BACUnsupportedOrder  = 11
	BACBadTag            = 12
	BACBadSetType        = 13
	BACBadSetLen         = 14
	BACBadSetArgument    = 15

	BICUnknownInst     = 0
	BICUnsupInst       = 1
	BICBadTableID      = 2
	BICUnsupMetadata   = 3
	BICUnsupMetadataMk = 4
	BICBadExperimenter = 5
	BICBadExpType      = 6
	BICBadLen          = 7
	BICEperm           = 8

	BMCBadType       = 0
	BMCBadLen        = 1
	BMCBadTag        = 2
	BMCBadDLAddrMask = 3
	BMCBadNWAddrMask = 4
	BMCBadWildcards  = 5
	BMCBadField      = 6
	BMCBadValue      = 7
	BMCBadMask       = 8
	BMCBadPrereq     = 9
	BMCDupField      = 10
	BMCEperm         = 11
)

// Errors the decoders return, made once.
var (
	ErrBadLen          = &Error{ETBadRequest, BRCBadLen}
	ErrBadType         = &Error{ETBadRequest, BRCBadType}
	ErrBadVersion      = &Error{ETBadRequest, BRCBadVersion}
	ErrBadMultipart    = &Error{ETBadRequest, BRCBadMultipart}
	ErrBadExperimenter = &Error{ETBadRequest, BRCBadExperimenter}
	ErrBadExpType      = &Error{ETBadRequest, BRCBadExpType}

	ErrBadActionLen          = &Error{ETBadAction, BACBadLen}
	ErrBadActionType         = &Error{ETBadAction, BACBadType}
	ErrBadActionExperimenter = &Error{ETBadAction, BACBadExperimenter}
	ErrBadActionExpType      = &Error{ETBadAction, BACBadExpType}
	ErrBadSetLen             = &Error{ETBadAction, BACBadSetLen}

	ErrBadInstructionLen  = &Error{ETBadInstruction, BICBadLen}
	ErrUnknownInstruction = &Error{ETBadInstruction, BICUnknownInst}

	ErrBadMatchLen  = &Error{ETBadMatch, BMCBadLen}
	ErrBadMatchType = &Error{ETBadMatch, BMCBadType}
)

// ErrorReply appends an OFPT_ERROR answering the request msg with e: its
// data is the request's first 64 bytes, as the spec asks. OpenFlow 1.0
// has fewer error types: as OVS does, errors without an OpenFlow 1.0 code
// go out as Nicira vendor errors (NXET_VENDOR carrying OVS's NX1.0 type
// and code), and those without either as NXBRC_UNENCODABLE_ERROR.
func ErrorReply(b []byte, version uint8, xid uint32, e *Error, msg []byte) []byte {
	typ, code := e.Type, e.Code
	nx := false
	if version == Version10 {
		typ, code, nx = errorTo10(typ, code)
	}
	b, start := AppendHeader(b, version, TypeError, xid)
	if nx {
		b = binary.BigEndian.AppendUint16(b, nxetVendor)
		b = binary.BigEndian.AppendUint16(b, 0) // NXVC_VENDOR_ERROR
		b = binary.BigEndian.AppendUint32(b, niciraVendor)
	}
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, code)
	if len(msg) > 64 {
		msg = msg[:64]
	}
	b = append(b, msg...)
	return EndMessage(b, start)
}

// nxetVendor is OpenFlow 1.0's error type for vendor errors.
const nxetVendor = 0xb0c2

// niciraVendor is the Nicira vendor id (nx.VendorID).
const niciraVendor = 0x2320

// errorTo10 maps an OpenFlow 1.3 error onto OpenFlow 1.0 as OVS's
// lib/ofp-errors.h does: an OF1.0 code (nx false) or an NX1.0 vendor
// code (nx true).
func errorTo10(typ, code uint16) (uint16, uint16, bool) {
	switch typ {
	case ETHelloFailed:
		return 0, code, false
	case ETQueueOpFailed:
		return 5, code, false
	case ETBadRequest:
		switch {
		case code <= BRCBufferUnknown:
			return 1, code, false
		case code == BRCBadTableID:
			return 1, 512, true
		case code == BRCIsSlave:
			return 1, BRCEperm, false
		case code == BRCBadPort:
			return 1, 514, true
		}
	case ETBadAction:
		switch {
		case code <= BACBadQueue:
			return 2, code, false
		case code == BACMatchInconsistent:
			return 1, 522, true
		case code >= BACBadSetType && code <= BACBadSetArgument:
			return 1, 523 + code - BACBadSetType, true
		}
	case ETBadInstruction:
		if code == BICUnsupInst {
			return 2, 257, true
		}
	case ETBadMatch:
		switch code {
		case BMCBadWildcards:
			return 1, 262, true
		case BMCBadField:
			return 0, 263, true
		case BMCBadValue:
			return 1, 258, true
		case BMCBadMask, BMCBadPrereq, BMCDupField:
			return 1, 259 + code - BMCBadMask, true
		}
	case ETFlowModFailed:
		switch code {
		case 1: // TABLE_FULL
			return 3, 0, false // ALL_TABLES_FULL
		case 3, 4: // OVERLAP, EPERM
			return 3, code - 2, false
		case 6: // BAD_COMMAND
			return 3, 4, false
		case 7: // BAD_FLAGS
			return 3, 258, true
		}
	case ETPortModFailed:
		if code <= 1 {
			return 4, code, false
		}
	case ETRoleRequestFailed:
		if code == 2 { // BAD_ROLE
			return 1, 513, true
		}
	}
	return 1, 521, true // NXBRC_UNENCODABLE_ERROR
}
