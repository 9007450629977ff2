package ofproto

import "github.com/govs/govs/internal/flow"

// OpenFlow port numbers, in OpenFlow 1.3's 32-bit space. The wire codec maps
// OpenFlow 1.0's 16-bit numbers (0xfff8...) onto these.
const (
	PortMax        uint32 = 0xffffff00
	PortInPort     uint32 = 0xfffffff8
	PortTable      uint32 = 0xfffffff9
	PortNormal     uint32 = 0xfffffffa
	PortFlood      uint32 = 0xfffffffb
	PortAll        uint32 = 0xfffffffc
	PortController uint32 = 0xfffffffd
	PortLocal      uint32 = 0xfffffffe
	PortAny        uint32 = 0xffffffff // "no port" in filters
)

// Group numbers.
const (
	GroupMax uint32 = 0xffffff00
	GroupAll uint32 = 0xfffffffc // in delete: all groups
	GroupAny uint32 = 0xffffffff // in filters: any group
)

// Tables.
const (
	MaxTables = 254  // table ids 0..253
	TableAll  = 0xff // in flow-mod delete and stats requests
)

// ControllerMaxLenNoBuffer asks for the whole packet in a packet-in.
const ControllerMaxLenNoBuffer = 0xffff

// Match is what a rule matches: the fields whose Mask bits are set must equal
// Key's (Key is always pre-masked: Key&^Mask == 0).
type Match struct {
	Key  flow.Key
	Mask flow.Mask
}

// Flow-mod flags (OF1.3 ofp_flow_mod_flags).
const (
	FlagSendFlowRem  uint16 = 1 << 0
	FlagCheckOverlap uint16 = 1 << 1
	FlagResetCounts  uint16 = 1 << 2
	FlagNoPktCounts  uint16 = 1 << 3
	FlagNoBytCounts  uint16 = 1 << 4
)

// ActionType is the kind of an OpenFlow action, independent of wire version.
type ActionType uint8

// OpenFlow actions (OF1.3 §5.12 plus OF1.0 and the Nicira extensions
// ovs-ofctl uses).
const (
	ActOutput     ActionType = iota + 1 // Port, MaxLen
	ActGroup                            // Group
	ActSetQueue                         // Queue
	ActSetField                         // Field, Value, Mask (Mask all-ones for OF set_field; NX reg_load sets a bit range)
	ActPushVLAN                         // Ethertype (0x8100 / 0x88a8)
	ActPopVLAN                          // (OF1.0 strip_vlan too)
	ActPushMPLS                         // Ethertype (0x8847 / 0x8848)
	ActPopMPLS                          // Ethertype
	ActPushPBB                          // Ethertype (refused by the datapath for now)
	ActPopPBB                           // (refused by the datapath for now)
	ActSetNwTTL                         // TTL
	ActDecNwTTL                         // (Controllers: ids to notify on TTL expiry, NX dec_ttl(ids))
	ActSetMPLSTTL                       // TTL
	ActDecMPLSTTL                       //
	ActCopyTTLOut                       //
	ActCopyTTLIn                        //
	ActController                       // MaxLen, Reason, ControllerID (NX controller(...), and output:CONTROLLER)
	ActResubmit                         // Port (PortInPort = in_port; PortAny = keep), Table (TableAll = current)
	ActRegMove                          // SrcField/SrcOfs, Field/DstOfs, NBits
	ActOutputReg                        // SrcField/SrcOfs/NBits, MaxLen
	ActNote                             // Note (no effect)
	ActEnqueue                          // Port, Queue (OF1.0)
	ActMeter                            // Meter (OF1.5-style meter action; OF1.3 uses the instruction)
	ActLearn                            // Learn (NX learn: add a flow built from the packet)
)

// Action is one OpenFlow action. Only the fields its Type uses are set.
type Action struct {
	Type ActionType

	Port   uint32 // output / enqueue / resubmit port
	MaxLen uint16 // bytes to send to the controller
	Group  uint32
	Queue  uint32
	Meter  uint32
	Table  uint8 // resubmit table

	// Set-field and register load/move: Value/Mask are in the field's wire
	// byte order, left-aligned in 16 bytes (as flow.Field.Get/Set use).
	Field  flow.FieldID
	Value  [16]byte
	Mask   [16]byte
	DstOfs uint16

	SrcField flow.FieldID // reg_move / output_reg source
	SrcOfs   uint16
	NBits    uint16

	Ethertype uint16 // push/pop
	TTL       uint8

	Reason       uint8 // controller: packet-in reason
	ControllerID uint16
	Controllers  []uint16 // dec_ttl: controller ids to notify

	Note []byte

	Learn *Learn // learn: a pointer, so Action stays small
}

// Instructions is a rule's instruction set (OF1.3 §5.9), executed in the
// order meter, apply-actions, clear-actions, write-actions,
// write-metadata, goto-table.
type Instructions struct {
	Meter         uint32   // 0: none
	Apply         []Action // nil: no apply-actions
	ClearActions  bool
	Write         []Action // nil: no write-actions
	WriteMetadata bool
	Metadata      uint64
	MetadataMask  uint64
	GotoTable     int // -1: none
}

// Group types (OF1.3 ofp_group_type).
type GroupType uint8

const (
	GroupTypeAll GroupType = iota
	GroupTypeSelect
	GroupTypeIndirect
	GroupTypeFastFailover
)

// Bucket is one group bucket.
type Bucket struct {
	Weight     uint16
	WatchPort  uint32 // PortAny: none
	WatchGroup uint32 // GroupAny: none
	Actions    []Action
}

// GroupSpec is a group as a controller defines it.
type GroupSpec struct {
	ID      uint32
	Type    GroupType
	Buckets []Bucket
}

// Meter flags (OF1.3 ofp_meter_flags).
const (
	MeterKbps  uint16 = 1 << 0
	MeterPktps uint16 = 1 << 1
	MeterBurst uint16 = 1 << 2
	MeterStats uint16 = 1 << 3
)

// Meter band types.
type BandType uint8

const (
	BandDrop       BandType = 1
	BandDSCPRemark BandType = 2
)

// MeterBand is one meter band.
type MeterBand struct {
	Type      BandType
	Rate      uint32 // kbit/s or packets/s, per MeterSpec.Flags
	Burst     uint32 // kbits or packets
	PrecLevel uint8  // dscp_remark: how many drop-precedence levels to add
}

// MeterSpec is a meter as a controller defines it.
type MeterSpec struct {
	ID    uint32
	Flags uint16
	Bands []MeterBand
}
