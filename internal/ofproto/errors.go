package ofproto

import "fmt"

// OFError is an OpenFlow error (ofp_error_msg type and code, OF1.3 §7.4.4).
// The codec sends it back to the controller as is.
type OFError struct {
	Type, Code uint16
	Msg        string // for logs only; not sent
}

func (e *OFError) Error() string {
	if e.Msg != "" {
		return fmt.Sprintf("openflow error type %d code %d: %s", e.Type, e.Code, e.Msg)
	}
	return fmt.Sprintf("openflow error type %d code %d", e.Type, e.Code)
}

// Is makes errors.Is compare type and code only.
func (e *OFError) Is(target error) bool {
	t, ok := target.(*OFError)
	return ok && t.Type == e.Type && t.Code == e.Code
}

func ofErr(typ, code uint16, format string, args ...any) *OFError {
	return &OFError{Type: typ, Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Error types (ofp_error_type).
const (
	ErrHelloFailed        uint16 = 0
	ErrBadRequest         uint16 = 1
	ErrBadAction          uint16 = 2
	ErrBadInstruction     uint16 = 3
	ErrBadMatch           uint16 = 4
	ErrFlowModFailed      uint16 = 5
	ErrGroupModFailed     uint16 = 6
	ErrPortModFailed      uint16 = 7
	ErrTableModFailed     uint16 = 8
	ErrQueueOpFailed      uint16 = 9
	ErrSwitchConfigFailed uint16 = 10
	ErrRoleRequestFailed  uint16 = 11
	ErrMeterModFailed     uint16 = 12
	ErrTableFeaturesFail  uint16 = 13
)

// OFPET_BAD_REQUEST codes.
const (
	BadRequestBadVersion    uint16 = 0
	BadRequestBadType       uint16 = 1
	BadRequestBadMultipart  uint16 = 2
	BadRequestBadExperim    uint16 = 3
	BadRequestBadExpType    uint16 = 4
	BadRequestEPerm         uint16 = 5
	BadRequestBadLen        uint16 = 6
	BadRequestBufferEmpty   uint16 = 7
	BadRequestBufferUnknown uint16 = 8
	BadRequestBadTableID    uint16 = 9
	BadRequestIsSlave       uint16 = 10
	BadRequestBadPort       uint16 = 11
	BadRequestBadPacket     uint16 = 12
)

// OFPET_BAD_ACTION codes.
const (
	BadActionBadType           uint16 = 0
	BadActionBadLen            uint16 = 1
	BadActionBadExperimenter   uint16 = 2
	BadActionBadExpType        uint16 = 3
	BadActionBadOutPort        uint16 = 4
	BadActionBadArgument       uint16 = 5
	BadActionEPerm             uint16 = 6
	BadActionTooMany           uint16 = 7
	BadActionBadQueue          uint16 = 8
	BadActionBadOutGroup       uint16 = 9
	BadActionMatchInconsistent uint16 = 10
	BadActionUnsupportedOrder  uint16 = 11
	BadActionBadTag            uint16 = 12
	BadActionBadSetType        uint16 = 13
	BadActionBadSetLen         uint16 = 14
	BadActionBadSetArgument    uint16 = 15
)

// OFPET_BAD_INSTRUCTION codes.
const (
	BadInstUnknownInst       uint16 = 0
	BadInstUnsupInst         uint16 = 1
	BadInstBadTableID        uint16 = 2
	BadInstUnsupMetadata     uint16 = 3
	BadInstUnsupMetadataMask uint16 = 4
	BadInstBadExperimenter   uint16 = 5
	BadInstBadExpType        uint16 = 6
	BadInstBadLen            uint16 = 7
	BadInstEPerm             uint16 = 8
)

// OFPET_BAD_MATCH codes.
const (
	BadMatchBadType       uint16 = 0
	BadMatchBadLen        uint16 = 1
	BadMatchBadTag        uint16 = 2
	BadMatchBadDLAddrMask uint16 = 3
	BadMatchBadNWAddrMask uint16 = 4
	BadMatchBadWildcards  uint16 = 5
	BadMatchBadField      uint16 = 6
	BadMatchBadValue      uint16 = 7
	BadMatchBadMask       uint16 = 8
	BadMatchBadPrereq     uint16 = 9
	BadMatchDupField      uint16 = 10
	BadMatchEPerm         uint16 = 11
)

// OFPET_FLOW_MOD_FAILED codes.
const (
	FlowModUnknown    uint16 = 0
	FlowModTableFull  uint16 = 1
	FlowModBadTableID uint16 = 2
	FlowModOverlap    uint16 = 3
	FlowModEPerm      uint16 = 4
	FlowModBadTimeout uint16 = 5
	FlowModBadCommand uint16 = 6
	FlowModBadFlags   uint16 = 7
)

// OFPET_GROUP_MOD_FAILED codes.
const (
	GroupModGroupExists         uint16 = 0
	GroupModInvalidGroup        uint16 = 1
	GroupModWeightUnsupported   uint16 = 2
	GroupModOutOfGroups         uint16 = 3
	GroupModOutOfBuckets        uint16 = 4
	GroupModChainingUnsupported uint16 = 5
	GroupModWatchUnsupported    uint16 = 6
	GroupModLoop                uint16 = 7
	GroupModUnknownGroup        uint16 = 8
	GroupModChainedGroup        uint16 = 9
	GroupModBadType             uint16 = 10
	GroupModBadCommand          uint16 = 11
	GroupModBadBucket           uint16 = 12
	GroupModBadWatch            uint16 = 13
	GroupModEPerm               uint16 = 14
)

// OFPET_PORT_MOD_FAILED codes.
const (
	PortModBadPort      uint16 = 0
	PortModBadHWAddr    uint16 = 1
	PortModBadConfig    uint16 = 2
	PortModBadAdvertise uint16 = 3
	PortModEPerm        uint16 = 4
)

// OFPET_TABLE_MOD_FAILED codes.
const (
	TableModBadTable  uint16 = 0
	TableModBadConfig uint16 = 1
	TableModEPerm     uint16 = 2
)

// OFPET_METER_MOD_FAILED codes.
const (
	MeterModUnknown      uint16 = 0
	MeterModMeterExists  uint16 = 1
	MeterModInvalidMeter uint16 = 2
	MeterModUnknownMeter uint16 = 3
	MeterModBadCommand   uint16 = 4
	MeterModBadFlags     uint16 = 5
	MeterModBadRate      uint16 = 6
	MeterModBadBurst     uint16 = 7
	MeterModBadBand      uint16 = 8
	MeterModBadBandValue uint16 = 9
	MeterModOutOfMeters  uint16 = 10
	MeterModOutOfBands   uint16 = 11
)
