package of10

import "github.com/govs/govs/internal/ofp"

// Decode decodes one whole OpenFlow 1.0 message. The result aliases msg.
// Errors are *ofp.Error values the agent answers with ofp.ErrorReply.
func Decode(msg []byte) (ofp.Message, error) {
	return ofp.DecodeMessage(msg, ofp.Version10, newMessage)
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
	case TypeVendor:
		return new(Vendor)
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
	case TypePortMod:
		return new(PortMod)
	case TypeStatsRequest:
		return new(StatsRequest)
	case TypeStatsReply:
		return new(StatsReply)
	case TypeBarrierRequest:
		return new(BarrierRequest)
	case TypeBarrierReply:
		return new(BarrierReply)
	case TypeQueueGetConfigRequest:
		return new(QueueGetConfigRequest)
	case TypeQueueGetConfigReply:
		return new(QueueGetConfigReply)
	}
	return nil
}
