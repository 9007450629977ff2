package of13

import "github.com/govs/govs/internal/ofp"

//go:generate go run ../internal/ofpgen -pkg of13 -version ofp.Version13 messages.def zz_messages.go

// Message types (ofp_type).
const (
	TypeHello                       = ofp.TypeHello
	TypeError                       = ofp.TypeError
	TypeEchoRequest                 = ofp.TypeEchoRequest
	TypeEchoReply                   = ofp.TypeEchoReply
	TypeExperimenter                = ofp.TypeExperimenter
	TypeFeaturesRequest       uint8 = 5
	TypeFeaturesReply         uint8 = 6
	TypeGetConfigRequest      uint8 = 7
	TypeGetConfigReply        uint8 = 8
	TypeSetConfig             uint8 = 9
	TypePacketIn              uint8 = 10
	TypeFlowRemoved           uint8 = 11
	TypePortStatus            uint8 = 12
	TypePacketOut             uint8 = 13
	TypeFlowMod               uint8 = 14
	TypeGroupMod              uint8 = 15
	TypePortMod               uint8 = 16
	TypeTableMod              uint8 = 17
	TypeMultipartRequest      uint8 = 18
	TypeMultipartReply        uint8 = 19
	TypeBarrierRequest        uint8 = 20
	TypeBarrierReply          uint8 = 21
	TypeQueueGetConfigRequest uint8 = 22
	TypeQueueGetConfigReply   uint8 = 23
	TypeRoleRequest           uint8 = 24
	TypeRoleReply             uint8 = 25
	TypeGetAsyncRequest       uint8 = 26
	TypeGetAsyncReply         uint8 = 27
	TypeSetAsync              uint8 = 28
	TypeMeterMod              uint8 = 29
)

// Multipart types (ofp_multipart_type).
const (
	MPDesc          uint16 = 0
	MPFlow          uint16 = 1
	MPAggregate     uint16 = 2
	MPTable         uint16 = 3
	MPPortStats     uint16 = 4
	MPQueue         uint16 = 5
	MPGroup         uint16 = 6
	MPGroupDesc     uint16 = 7
	MPGroupFeatures uint16 = 8
	MPMeter         uint16 = 9
	MPMeterConfig   uint16 = 10
	MPMeterFeatures uint16 = 11
	MPTableFeatures uint16 = 12
	MPPortDesc      uint16 = 13
	MPExperimenter  uint16 = 0xffff
)

// MultipartMore is OFPMPF_REQ_MORE / OFPMPF_REPLY_MORE.
const MultipartMore uint16 = 1

// OXMTypeMatch is ofp_match.type for OXM matches.
const OXMTypeMatch uint16 = 1

// ONF experimenter id and the bundle extension's message types.
const (
	ONFExperimenter      uint32 = 0x4f4e4600
	ONFTBundleControl    uint32 = 2300
	ONFTBundleAddMessage uint32 = 2301
)

// Bundle control types (ofp_bundle_ctrl_type).
const (
	BundleOpenRequest    uint16 = 0
	BundleOpenReply      uint16 = 1
	BundleCloseRequest   uint16 = 2
	BundleCloseReply     uint16 = 3
	BundleCommitRequest  uint16 = 4
	BundleCommitReply    uint16 = 5
	BundleDiscardRequest uint16 = 6
	BundleDiscardReply   uint16 = 7
)

var errBadLen = ofp.ErrBadLen
