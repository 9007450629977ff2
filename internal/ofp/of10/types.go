// Package of10 is the OpenFlow 1.0 codec plus the Nicira vendor messages
// plain ovs-ofctl sends with it (NXT_FLOW_MOD with NXM matches,
// NXT_SET_FLOW_FORMAT, NXST_FLOW/AGGREGATE, ...). The NX messages live here,
// not in package nx, because their action lists are OpenFlow 1.0 action
// lists. Fixed-layout structs are generated from messages.def.
package of10

import "github.com/govs/govs/internal/ofp"

//go:generate go run ../internal/ofpgen -pkg of10 -version ofp.Version10 messages.def zz_messages.go

// Message types (ofp_type, OpenFlow 1.0).
const (
	TypeHello                       = ofp.TypeHello
	TypeError                       = ofp.TypeError
	TypeEchoRequest                 = ofp.TypeEchoRequest
	TypeEchoReply                   = ofp.TypeEchoReply
	TypeVendor                      = ofp.TypeExperimenter
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
	TypePortMod               uint8 = 15
	TypeStatsRequest          uint8 = 16
	TypeStatsReply            uint8 = 17
	TypeBarrierRequest        uint8 = 18
	TypeBarrierReply          uint8 = 19
	TypeQueueGetConfigRequest uint8 = 20
	TypeQueueGetConfigReply   uint8 = 21
)

// Stats types (ofp_stats_types), with OVS's OFPST10_PORT_DESC.
const (
	StatsDesc      uint16 = 0
	StatsFlow      uint16 = 1
	StatsAggregate uint16 = 2
	StatsTable     uint16 = 3
	StatsPort      uint16 = 4
	StatsQueue     uint16 = 5
	StatsPortDesc  uint16 = 13
	StatsVendor    uint16 = 0xffff
)

// Nicira message subtypes (NXT_*) and stats subtypes (NXST_*).
const (
	NXTRoleRequest       uint32 = 10
	NXTRoleReply         uint32 = 11
	NXTSetFlowFormat     uint32 = 12
	NXTFlowMod           uint32 = 13
	NXTFlowModTableID    uint32 = 15
	NXTSetPacketInFormat uint32 = 16
	NXTPacketIn          uint32 = 17
	NXTSetAsyncConfig    uint32 = 19
	NXTSetControllerID   uint32 = 20
	NXSTFlow             uint32 = 0
	NXSTAggregate        uint32 = 1
)

// Flow formats for NXT_SET_FLOW_FORMAT.
const (
	FlowFormatOpenFlow10 uint32 = 0
	FlowFormatNXM        uint32 = 2
)

var errBadLen = ofp.ErrBadLen
