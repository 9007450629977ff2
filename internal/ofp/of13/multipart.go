package of13

import (
	"github.com/govs/govs/internal/ofp"
)

// Body is a decoded multipart body part.
type Body interface {
	Append(b []byte) []byte
}

// DecodeRequestBody decodes a MULTIPART_REQUEST body by its type: nil for
// the types without a body (DESC, TABLE, GROUP_DESC, GROUP_FEATURES,
// METER_FEATURES, PORT_DESC), otherwise a *FlowStatsRequest (FLOW and
// AGGREGATE), *PortStatsRequest, *QueueStatsRequest, *GroupStatsRequest
// (GROUP, METER, METER_CONFIG), []TableFeatures (as a *TableFeaturesList) or
// *ExperimenterMultipart.
func DecodeRequestBody(mpType uint16, body []byte) (Body, error) {
	var b interface {
		Body
		Parse([]byte) (int, error)
	}
	switch mpType {
	case MPDesc, MPTable, MPGroupDesc, MPGroupFeatures, MPMeterFeatures, MPPortDesc:
		if len(body) != 0 {
			return nil, ofp.ErrBadLen
		}
		return nil, nil
	case MPFlow, MPAggregate:
		b = new(FlowStatsRequest)
	case MPPortStats:
		b = new(PortStatsRequest)
	case MPQueue:
		b = new(QueueStatsRequest)
	case MPGroup, MPMeter, MPMeterConfig:
		b = new(GroupStatsRequest)
	case MPTableFeatures:
		b = new(TableFeaturesList)
	case MPExperimenter:
		b = new(ExperimenterMultipart)
	default:
		return nil, ofp.ErrBadMultipart
	}
	n, err := b.Parse(body)
	if err != nil {
		return nil, err
	}
	if n != len(body) {
		return nil, ofp.ErrBadLen
	}
	return b, nil
}

// DecodeReplyBody decodes a MULTIPART_REPLY body: a *Desc,
// *AggregateStats, *GroupFeatures, *MeterFeatures or
// *ExperimenterMultipart, or for the list types a *FlowStatsList,
// *TableStatsList, *PortStatsList, *QueueStatsList, *GroupStatsList,
// *GroupDescList, *MeterStatsList, *MeterConfigList, *TableFeaturesList or
// *PortList.
func DecodeReplyBody(mpType uint16, body []byte) (Body, error) {
	var b interface {
		Body
		Parse([]byte) (int, error)
	}
	switch mpType {
	case MPDesc:
		b = new(Desc)
	case MPFlow:
		b = new(FlowStatsList)
	case MPAggregate:
		b = new(AggregateStats)
	case MPTable:
		b = new(TableStatsList)
	case MPPortStats:
		b = new(PortStatsList)
	case MPQueue:
		b = new(QueueStatsList)
	case MPGroup:
		b = new(GroupStatsList)
	case MPGroupDesc:
		b = new(GroupDescList)
	case MPGroupFeatures:
		b = new(GroupFeatures)
	case MPMeter:
		b = new(MeterStatsList)
	case MPMeterConfig:
		b = new(MeterConfigList)
	case MPMeterFeatures:
		b = new(MeterFeatures)
	case MPTableFeatures:
		b = new(TableFeaturesList)
	case MPPortDesc:
		b = new(PortList)
	case MPExperimenter:
		b = new(ExperimenterMultipart)
	default:
		return nil, ofp.ErrBadMultipart
	}
	n, err := b.Parse(body)
	if err != nil {
		return nil, err
	}
	if n != len(body) {
		return nil, ofp.ErrBadLen
	}
	return b, nil
}

// NewMultipartReply builds a reply with body; split long replies with
// MultipartMore in Flags, each under ofp.MaxMessageLen.
func NewMultipartReply(xid uint32, mpType, flags uint16, body Body) *MultipartReply {
	m := &MultipartReply{Xid: xid, MPType: mpType, Flags: flags}
	if body != nil {
		m.Body = body.Append(nil)
	}
	return m
}
