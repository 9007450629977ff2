// Package odp defines datapath actions, the flat, pointer-free program the
// OpenFlow pipeline (ofproto's xlate) compiles a megaflow into, and executes
// them on packets: header rewrites with checksums kept correct, VLAN and
// MPLS push/pop, truncation. Output, userspace (controller) and meter actions
// are carried out by the datapath (dpif), which owns ports and meters.
//
// The name follows OVS ("ODP", the Open vSwitch datapath interface): its
// datapath actions are the same small vocabulary, so `dpctl/dump-flows`
// prints the same words.
package odp

// Op is a datapath action opcode.
type Op uint8

// Datapath actions.
const (
	OpInvalid Op = iota
	// OpOutput sends the packet to datapath port Arg.
	OpOutput
	// OpUserspace hands a copy of the packet to the slow path (packet-in to
	// a controller). Arg is an opaque id the slow path gave (which
	// controller message to build); Arg2 is the max length to send
	// (0xffff: whole packet).
	OpUserspace
	// OpSet rewrites Field to (old &^ Mask) | (Value & Mask). Value and
	// Mask hold the field in wire byte order, left-aligned.
	OpSet
	// OpPushVLAN pushes a tag with TPID Arg and TCI Arg2 (VLANCFI clear).
	OpPushVLAN
	// OpPopVLAN removes the outermost VLAN tag.
	OpPopVLAN
	// OpPushMPLS pushes an MPLS LSE Arg2 with ethertype Arg (0x8847/0x8848).
	OpPushMPLS
	// OpPopMPLS removes the outermost MPLS LSE; Arg is the new ethertype.
	OpPopMPLS
	// OpMeter passes the packet through meter Arg; it may be dropped.
	OpMeter
	// OpTrunc truncates the packet to Arg bytes for the following outputs.
	OpTrunc
	// OpRecirc re-injects the packet with recirculation id Arg (reserved
	// for conntrack and bonding).
	OpRecirc
	// OpCT sends the packet through conntrack (reserved).
	OpCT
	// OpDrop is an explicit drop with reason Arg (makes dump-flows readable).
	OpDrop
)

// Field names a packet header field that OpSet can rewrite.
type Field uint8

// Settable header fields.
const (
	FieldInvalid      Field = iota
	FieldEthSrc             // 6 bytes
	FieldEthDst             // 6 bytes
	FieldVLANTCI            // 2 bytes, outermost tag (VID and PCP by mask)
	FieldMPLSLSE            // 4 bytes, outermost label stack entry (label/TC/BOS/TTL by mask)
	FieldIPv4Src            // 4 bytes
	FieldIPv4Dst            // 4 bytes
	FieldIPv4TOS            // 1 byte (DSCP and ECN by mask)
	FieldIPv4TTL            // 1 byte
	FieldIPv6Src            // 16 bytes
	FieldIPv6Dst            // 16 bytes
	FieldIPv6Label          // 4 bytes (low 20 bits)
	FieldIPv6TC             // 1 byte (traffic class: DSCP and ECN by mask)
	FieldIPv6HopLimit       // 1 byte
	FieldTpSrc              // 2 bytes: TCP/UDP/SCTP source port
	FieldTpDst              // 2 bytes: TCP/UDP/SCTP destination port
	FieldICMPType           // 1 byte (ICMPv4 or ICMPv6)
	FieldICMPCode           // 1 byte
	FieldArpOp              // 2 bytes
	FieldArpSPA             // 4 bytes
	FieldArpTPA             // 4 bytes
	FieldArpSHA             // 6 bytes
	FieldArpTHA             // 6 bytes
	FieldNdTarget           // 16 bytes
	FieldNdSLL              // 6 bytes
	FieldNdTLL              // 6 bytes
	FieldPktMark            // 4 bytes, metadata only
	FieldTunID              // 8 bytes, metadata for tunnel output (reserved)
	FieldTunSrc             // 4 bytes (reserved)
	FieldTunDst             // 4 bytes (reserved)
	NumFields
)

// Action is one datapath action. It is a fixed-size value with no pointers,
// so a megaflow's action list is plain data.
type Action struct {
	Op    Op
	Field Field // OpSet only
	_     [2]byte
	Arg   uint32
	Arg2  uint32
	Value [16]byte
	Mask  [16]byte
}

// Actions is a datapath action list, executed in order. An empty list drops.
type Actions []Action

// Output returns an output action.
func Output(port uint32) Action { return Action{Op: OpOutput, Arg: port} }

// Set returns an action setting field f to value (f.Size() bytes, wire
// order).
func Set(f Field, value []byte) Action {
	a := Action{Op: OpSet, Field: f}
	n := copy(a.Value[:f.Size()], value)
	for i := range n {
		a.Mask[i] = 0xff
	}
	return a
}

// SetMasked returns an action setting the bits of field f that are set in
// mask to those of value.
func SetMasked(f Field, value, mask []byte) Action {
	a := Action{Op: OpSet, Field: f}
	n := copy(a.Mask[:f.Size()], mask)
	for i := range n {
		a.Value[i] = value[i] & mask[i]
	}
	return a
}

// PushVLAN returns an action pushing a tag with TPID tpid and TCI tci.
func PushVLAN(tpid, tci uint16) Action {
	return Action{Op: OpPushVLAN, Arg: uint32(tpid), Arg2: uint32(tci)}
}

// PopVLAN returns an action removing the outermost VLAN tag.
func PopVLAN() Action { return Action{Op: OpPopVLAN} }

// PushMPLS returns an action pushing label stack entry lse and setting the
// ethertype to ethType.
func PushMPLS(ethType uint16, lse uint32) Action {
	return Action{Op: OpPushMPLS, Arg: uint32(ethType), Arg2: lse}
}

// PopMPLS returns an action removing the outermost label stack entry and
// setting the ethertype to ethType.
func PopMPLS(ethType uint16) Action { return Action{Op: OpPopMPLS, Arg: uint32(ethType)} }

// Trunc returns an action truncating the following outputs to n bytes.
func Trunc(n uint32) Action { return Action{Op: OpTrunc, Arg: n} }

// MeterAction returns an action passing the packet through meter id.
func MeterAction(id uint32) Action { return Action{Op: OpMeter, Arg: id} }

// Userspace returns an action sending the packet, cut to maxLen bytes
// (0xffff: whole), to the slow path with opaque id.
func Userspace(id uint32, maxLen uint16) Action {
	return Action{Op: OpUserspace, Arg: id, Arg2: uint32(maxLen)}
}
