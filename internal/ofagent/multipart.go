package ofagent

import (
	"encoding/binary"
	"time"

	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/of13"
	"github.com/govs/govs/internal/ofproto"
)

// OpenFlow 1.3 multipart requests. Replies longer than one message are
// split with OFPMPF_REPLY_MORE.

var errTableFeaturesEperm = &ofp.Error{Type: ofp.ETTableFeatFailed, Code: 5} // OFPTFFC_EPERM

// replyBudget is how much body fits in one multipart reply.
const replyBudget = ofp.MaxMessageLen - 16

func (c *ofconn) multipart13(m *of13.MultipartRequest) error {
	body, err := of13.DecodeRequestBody(m.MPType, m.Body)
	if err != nil {
		return err
	}
	a := c.a
	var parts []of13.Body
	switch m.MPType {
	case of13.MPDesc:
		parts = append(parts, a.desc13())
	case of13.MPFlow, of13.MPAggregate:
		req := body.(*of13.FlowStatsRequest)
		filter, err := flowFilter13(req)
		if err != nil {
			return err
		}
		if m.MPType == of13.MPAggregate {
			var agg of13.AggregateStats
			for _, r := range a.b.Flows(filter) {
				agg.PacketCount += r.Packets.Load()
				agg.ByteCount += r.Bytes.Load()
				agg.FlowCount++
			}
			parts = append(parts, &agg)
			break
		}
		packFlowStats(c.multipart13Packer(m.Xid, m.MPType), a.b.FlowChunks(filter, dumpChunk), time.Now(), flowStats13)
		return nil
	case of13.MPTable:
		for _, ts := range a.tableStats() {
			parts = append(parts, &of13.TableStats{TableID: ts.id, ActiveCount: ts.active,
				LookupCount: ts.lookups, MatchedCount: ts.matched})
		}
	case of13.MPPortStats:
		req := body.(*of13.PortStatsRequest)
		for _, p := range a.b.Ports() {
			if req.PortNo == ofproto.PortAny || req.PortNo == p.OFPort {
				parts = append(parts, a.portStats13(p))
			}
		}
	case of13.MPQueue:
		// No queues yet: an empty reply, not an error.
	case of13.MPGroup:
		req := body.(*of13.GroupStatsRequest)
		now := time.Now()
		for _, g := range a.b.Groups() {
			if req.ID == ofproto.GroupAll || req.ID == g.Spec.ID {
				parts = append(parts, a.groupStats13(g, now))
			}
		}
	case of13.MPGroupDesc:
		for _, g := range a.b.Groups() {
			parts = append(parts, &of13.GroupDesc{Type: uint8(g.Spec.Type), GroupID: g.Spec.ID,
				Buckets: BucketsTo13(g.Spec.Buckets)})
		}
	case of13.MPGroupFeatures:
		parts = append(parts, a.groupFeatures())
	case of13.MPMeter:
		req := body.(*of13.GroupStatsRequest)
		now := time.Now()
		for _, mt := range a.b.Meters() {
			if req.ID == ofproto.MeterAll || req.ID == mt.Spec.ID {
				parts = append(parts, a.meterStats13(mt, now))
			}
		}
	case of13.MPMeterConfig:
		req := body.(*of13.GroupStatsRequest)
		for _, mt := range a.b.Meters() {
			if req.ID == ofproto.MeterAll || req.ID == mt.Spec.ID {
				parts = append(parts, &of13.MeterConfig{Flags: mt.Spec.Flags, MeterID: mt.Spec.ID,
					Bands: BandsTo13(mt.Spec.Bands)})
			}
		}
	case of13.MPMeterFeatures:
		parts = append(parts, &of13.MeterFeatures{MaxMeter: uint32(a.b.MaxMeters),
			BandTypes: 1<<bandDrop | 1<<bandDSCPRemark, Capabilities: uint32(ofproto.MeterKbps |
				ofproto.MeterPktps | ofproto.MeterBurst | ofproto.MeterStats), MaxBands: ofproto.MaxBands})
	case of13.MPTableFeatures:
		if l, ok := body.(*of13.TableFeaturesList); ok && len(l.Tables) > 0 {
			return errTableFeaturesEperm
		}
		for _, tf := range a.tableFeatures() {
			parts = append(parts, tf)
		}
	case of13.MPPortDesc:
		for _, p := range a.b.Ports() {
			pp := portTo13(p)
			parts = append(parts, &pp)
		}
	default:
		return ofp.ErrBadMultipart
	}
	c.sendMultipart13(m.Xid, m.MPType, parts)
	return nil
}

// sendMultipart13 packs parts into as few replies as fit.
func (c *ofconn) sendMultipart13(xid uint32, mpType uint16, parts []of13.Body) {
	p := c.multipart13Packer(xid, mpType)
	for _, part := range parts {
		n := p.mark()
		p.body = part.Append(p.body)
		p.added(n)
	}
	p.finish()
}

// multipart13Packer returns a packer of OpenFlow 1.3 multipart replies.
func (c *ofconn) multipart13Packer(xid uint32, mpType uint16) *replyPacker {
	return newReplyPacker(nil, replyBudget, func(body []byte, more bool) {
		flags := uint16(0)
		if more {
			flags = of13.MultipartMore
		}
		c.sendMsg(&of13.MultipartReply{Xid: xid, MPType: mpType, Flags: flags, Body: body})
	})
}

func flowFilter13(req *of13.FlowStatsRequest) (ofproto.FlowFilter, error) {
	match, err := MatchFromTLVs(req.Match.Fields)
	if err != nil {
		return ofproto.FlowFilter{}, err
	}
	if req.TableID != ofproto.TableAll && int(req.TableID) >= ofproto.MaxTables {
		return ofproto.FlowFilter{}, &ofp.Error{Type: ofp.ETBadRequest, Code: ofp.BRCBadTableID}
	}
	return ofproto.FlowFilter{Table: req.TableID, Match: match, Cookie: req.Cookie, CookieMask: req.CookieMask,
		OutPort: req.OutPort, OutGroup: req.OutGroup}, nil
}

// flowStats13 fills s with r's entry, reusing s's match slice.
func flowStats13(s *of13.FlowStats, r *ofproto.FlowView, now time.Time, memo *dumpMemo) {
	d := now.Sub(r.Created)
	*s = of13.FlowStats{TableID: r.Table, DurationSec: durSec(d), DurationNsec: durNsec(d),
		Priority: r.Priority, IdleTimeout: r.IdleTimeout, HardTimeout: r.HardTimeout, Flags: r.Flags,
		Cookie: r.Cookie, PacketCount: r.Packets.Load(), ByteCount: r.Bytes.Load(),
		Match: of13.Match{Type: of13.OXMTypeMatch,
			Fields: memo.matchTLVs(s.Match.Fields[:0], &r.Match, false)},
		Instructions: memo.instructions13(&r.Instructions)}
}

func desc256(s string) [256]byte {
	var b [256]byte
	copy(b[:255], s)
	return b
}

func (a *Agent) desc13() *of13.Desc {
	o := a.opts
	var serial [32]byte
	copy(serial[:31], or(o.SerialNum, "None"))
	return &of13.Desc{MfrDesc: desc256(or(o.MfrDesc, "govs")),
		HWDesc: desc256(or(o.HWDesc, "govs userspace switch")), SWDesc: desc256(or(o.SWDesc, "govs")),
		SerialNum: serial, DPDesc: desc256(or(o.DPDesc, a.b.Name()))}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

type tableStat struct {
	id               uint8
	name             string
	max              int
	active           uint32
	lookups, matched uint64
}

func (a *Agent) tableStats() []tableStat {
	out := make([]tableStat, 0, ofproto.MaxTables)
	a.b.RLock()
	for id := 0; id < ofproto.MaxTables; id++ {
		t := a.b.Table(uint8(id))
		out = append(out, tableStat{id: t.ID, name: t.Name, max: t.MaxEntries, active: uint32(t.Len()),
			lookups: t.Lookups.Load(), matched: t.Matched.Load()})
	}
	a.b.RUnlock()
	return out
}

func (a *Agent) portStats13(p *ofproto.Port) *of13.PortStats {
	ps := &of13.PortStats{PortNo: p.OFPort}
	if a.opts.PortStats != nil {
		if s, ok := a.opts.PortStats(p.OFPort); ok {
			ps.RxPackets, ps.TxPackets, ps.RxBytes, ps.TxBytes = s.RxPackets, s.TxPackets, s.RxBytes, s.TxBytes
			ps.RxDropped, ps.TxDropped, ps.RxErrors, ps.TxErrors = s.RxDropped, s.TxDropped, s.RxErrors, s.TxErrors
		}
	}
	return ps
}

func (a *Agent) groupStats13(g *ofproto.Group, now time.Time) *of13.GroupStats {
	f := ofproto.AllFlows()
	f.OutGroup = g.Spec.ID
	d := now.Sub(g.Created)
	gs := &of13.GroupStats{GroupID: g.Spec.ID, RefCount: uint32(len(a.b.Flows(f))),
		PacketCount: g.Packets.Load(), ByteCount: g.Bytes.Load(),
		DurationSec: durSec(d), DurationNsec: durNsec(d)}
	for i := range g.Buckets {
		gs.BucketStats = append(gs.BucketStats, of13.BucketCounter{PacketCount: g.Buckets[i].Packets.Load(),
			ByteCount: g.Buckets[i].Bytes.Load()})
	}
	return gs
}

// actions13Bits are the OF1.3 action types groups can run (bit per type).
const actions13Bits = 1<<of13.ActOutput | 1<<of13.ActCopyTTLOut | 1<<of13.ActCopyTTLIn |
	1<<of13.ActSetMPLSTTL | 1<<of13.ActDecMPLSTTL | 1<<of13.ActPushVLAN | 1<<of13.ActPopVLAN |
	1<<of13.ActPushMPLS | 1<<of13.ActPopMPLS | 1<<of13.ActSetQueue | 1<<of13.ActGroup |
	1<<of13.ActSetNwTTL | 1<<of13.ActDecNwTTL | 1<<of13.ActSetField

func (a *Agent) groupFeatures() *of13.GroupFeatures {
	n := uint32(a.b.MaxGroups)
	return &of13.GroupFeatures{Types: 0xf, Capabilities: 0xf, // weight, liveness, chaining, chaining checks
		MaxGroupsAll: n, MaxGroupsSelect: n, MaxGroupsIndirect: n, MaxGroupsFastFailover: n,
		ActionsAll: actions13Bits, ActionsSelect: actions13Bits, ActionsIndirect: actions13Bits,
		ActionsFastFailover: actions13Bits}
}

func (a *Agent) meterStats13(mt *ofproto.Meter, now time.Time) *of13.MeterStats {
	n := 0
	for _, r := range a.b.Flows(ofproto.AllFlows()) {
		if r.UsesMeter(mt.Spec.ID) {
			n++
		}
	}
	d := now.Sub(mt.Created)
	ms := &of13.MeterStats{MeterID: mt.Spec.ID, FlowCount: uint32(n), PacketInCount: mt.Packets.Load(),
		ByteInCount: mt.Bytes.Load(), DurationSec: durSec(d), DurationNsec: durNsec(d)}
	for i := range mt.Bands {
		ms.BandStats = append(ms.BandStats, of13.MeterBandStats{PacketBandCount: mt.Bands[i].Packets.Load(),
			ByteBandCount: mt.Bands[i].Bytes.Load()})
	}
	return ms
}

// Table feature property types (ofp_table_feature_prop_type).
const (
	tfpInstructions  = 0
	tfpNextTables    = 2
	tfpWriteActions  = 4
	tfpApplyActions  = 6
	tfpMatch         = 8
	tfpWildcards     = 10
	tfpWriteSetField = 12
	tfpApplySetField = 14
)

// tableFeatures describes our tables: every table takes every
// instruction, action and OXM field we model, and may go to any later
// table.
func (a *Agent) tableFeatures() []*of13.TableFeatures {
	var insts, acts, match, wild, setf []byte
	for _, t := range []uint16{of13.InstGotoTable, of13.InstWriteMetadata, of13.InstWriteActions,
		of13.InstApplyActions, of13.InstClearActions, of13.InstMeter} {
		insts = binary.BigEndian.AppendUint16(insts, t)
		insts = binary.BigEndian.AppendUint16(insts, 4)
	}
	for t := uint16(0); t <= of13.ActSetField; t++ {
		if actions13Bits&(1<<t) != 0 {
			acts = binary.BigEndian.AppendUint16(acts, t)
			acts = binary.BigEndian.AppendUint16(acts, 4)
		}
	}
	for _, o := range oxmFieldHeaders() {
		match = binary.BigEndian.AppendUint32(match, o.header)
		if o.maskable {
			wild = binary.BigEndian.AppendUint32(wild, o.header)
		}
		if o.writable {
			setf = binary.BigEndian.AppendUint32(setf, o.header)
		}
	}
	stats := a.tableStats()
	out := make([]*of13.TableFeatures, 0, len(stats))
	for _, ts := range stats {
		var next []byte
		for n := int(ts.id) + 1; n < ofproto.MaxTables; n++ {
			next = append(next, uint8(n))
		}
		var name [32]byte
		copy(name[:31], ts.name)
		out = append(out, &of13.TableFeatures{TableID: ts.id, Name: name, MetadataMatch: ^uint64(0),
			MetadataWrite: ^uint64(0), MaxEntries: uint32(ts.max), Properties: []of13.TableFeatureProp{
				{Type: tfpInstructions, Data: insts}, {Type: tfpNextTables, Data: next},
				{Type: tfpWriteActions, Data: acts}, {Type: tfpApplyActions, Data: acts},
				{Type: tfpMatch, Data: match}, {Type: tfpWildcards, Data: wild},
				{Type: tfpWriteSetField, Data: setf}, {Type: tfpApplySetField, Data: setf},
			}})
	}
	return out
}
