// Package of13 is the OpenFlow 1.3.5 codec: every message, action,
// instruction and multipart body, and the ONF bundle extension OVS uses for
// OpenFlow 1.3 (ovs-ofctl -O OpenFlow13 --bundle). Fixed-layout structs are
// generated from messages.def (go generate); actions, instructions and the
// dispatch below are written by hand.
package of13

import "github.com/govs/govs/internal/ofp"

// Decode decodes one whole OpenFlow 1.3 message. The result aliases msg.
// Errors are *ofp.Error values the agent answers with ofp.ErrorReply.
func Decode(msg []byte) (ofp.Message, error) {
	return ofp.DecodeMessage(msg, ofp.Version13, newMessage)
}

func newMessage(t uint8) ofp.Decoder {
	switch t {
	case TypeHello:
		return new(Hello)
	case TypeError:
		return new(ErrorMsg)
	case TypeEchoRequest:
		return new(EchoRequest)
	case TypeEchoReply:
		return new(EchoReply)
	case TypeExperimenter:
		return new(Experimenter)
	case TypeFeaturesRequest:
		return new(FeaturesRequest)
	case TypeFeaturesReply:
		return new(FeaturesReply)
	case TypeGetConfigRequest:
		return new(GetConfigRequest)
	case TypeGetConfigReply:
		return new(GetConfigReply)
	case TypeSetConfig:
		return new(SetConfig)
	case TypePacketIn:
		return new(PacketIn)
	case TypeFlowRemoved:
		return new(FlowRemoved)
	case TypePortStatus:
		return new(PortStatus)
	case TypePacketOut:
		return new(PacketOut)
	case TypeFlowMod:
		return new(FlowMod)
	case TypeGroupMod:
		return new(GroupMod)
	case TypePortMod:
		return new(PortMod)
	case TypeTableMod:
		return new(TableMod)
	case TypeMultipartRequest:
		return new(MultipartRequest)
	case TypeMultipartReply:
		return new(MultipartReply)
	case TypeBarrierRequest:
		return new(BarrierRequest)
	case TypeBarrierReply:
		return new(BarrierReply)
	case TypeQueueGetConfigRequest:
		return new(QueueGetConfigRequest)
	case TypeQueueGetConfigReply:
		return new(QueueGetConfigReply)
	case TypeRoleRequest:
		return new(RoleRequest)
	case TypeRoleReply:
		return new(RoleReply)
	case TypeGetAsyncRequest:
		return new(GetAsyncRequest)
	case TypeGetAsyncReply:
		return new(GetAsyncReply)
	case TypeSetAsync:
		return new(SetAsync)
	case TypeMeterMod:
		return new(MeterMod)
	}
	return nil
}
