package of10

import (
	"encoding/binary"

	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/nx"
)

// Body is a decoded message or stats body.
type Body interface {
	Append(b []byte) []byte
}

type parser interface {
	Body
	Parse([]byte) (int, error)
}

// DecodeNicira decodes the body of a Nicira vendor message: *NXFlowMod,
// *NXSetFlowFormat (also SET_PACKET_IN_FORMAT), *NXFlowModTableID,
// *NXSetControllerID, *NXRole, *NXAsyncConfig or *NXPacketIn.
func DecodeNicira(v *Vendor) (subtype uint32, body Body, err error) {
	if v.Vendor != nx.VendorID {
		return 0, nil, ofp.ErrBadExperimenter
	}
	if len(v.Data) < 4 {
		return 0, nil, ofp.ErrBadLen
	}
	subtype = binary.BigEndian.Uint32(v.Data)
	var p parser
	switch subtype {
	case NXTFlowMod:
		p = new(NXFlowMod)
	case NXTSetFlowFormat, NXTSetPacketInFormat:
		p = new(NXSetFlowFormat)
	case NXTFlowModTableID:
		p = new(NXFlowModTableID)
	case NXTSetControllerID:
		p = new(NXSetControllerID)
	case NXTRoleRequest, NXTRoleReply:
		p = new(NXRole)
	case NXTSetAsyncConfig:
		p = new(NXAsyncConfig)
	case NXTPacketIn:
		p = new(NXPacketIn)
	default:
		return subtype, nil, ofp.ErrBadExpType
	}
	return subtype, p, parseAll(p, v.Data[4:])
}

// NewNicira wraps a Nicira message body into a vendor message.
func NewNicira(xid, subtype uint32, body Body) *Vendor {
	d := binary.BigEndian.AppendUint32(nil, subtype)
	return &Vendor{Xid: xid, Vendor: nx.VendorID, Data: body.Append(d)}
}

// DecodeStatsRequestBody decodes an OFPT_STATS_REQUEST body: nil for DESC,
// TABLE and PORT_DESC; *FlowStatsRequest (FLOW, AGGREGATE),
// *PortStatsRequest, *QueueStatsRequest, or for Nicira vendor stats
// (NXST_FLOW, NXST_AGGREGATE) *NXFlowStatsRequest with its subtype.
func DecodeStatsRequestBody(statsType uint16, body []byte) (subtype uint32, b Body, err error) {
	var p parser
	switch statsType {
	case StatsDesc, StatsTable, StatsPortDesc:
		if len(body) != 0 {
			return 0, nil, ofp.ErrBadLen
		}
		return 0, nil, nil
	case StatsFlow, StatsAggregate:
		p = new(FlowStatsRequest)
	case StatsPort:
		p = new(PortStatsRequest)
	case StatsQueue:
		p = new(QueueStatsRequest)
	case StatsVendor:
		if len(body) < 12 {
			return 0, nil, ofp.ErrBadLen
		}
		if binary.BigEndian.Uint32(body) != nx.VendorID {
			return 0, nil, ofp.ErrBadExperimenter
		}
		subtype = binary.BigEndian.Uint32(body[4:])
		if subtype != NXSTFlow && subtype != NXSTAggregate {
			return subtype, nil, ofp.ErrBadExpType
		}
		p = new(NXFlowStatsRequest)
		return subtype, p, parseAll(p, body[12:])
	default:
		return 0, nil, ofp.ErrBadMultipart
	}
	return 0, p, parseAll(p, body)
}

// AppendNiciraStatsHeader appends the vendor stats prefix (vendor id,
// subtype, pad) that starts a Nicira stats request or reply body.
func AppendNiciraStatsHeader(b []byte, subtype uint32) []byte {
	b = binary.BigEndian.AppendUint32(b, nx.VendorID)
	b = binary.BigEndian.AppendUint32(b, subtype)
	return append(b, 0, 0, 0, 0)
}

func parseAll(p parser, b []byte) error {
	n, err := p.Parse(b)
	if err != nil {
		return err
	}
	if n != len(b) {
		return ofp.ErrBadLen
	}
	return nil
}
