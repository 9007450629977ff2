package ofagent

import (
	"time"

	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/of10"
	"github.com/govs/govs/internal/ofproto"
)

// OpenFlow 1.0 stats requests, with OVS's PORT_DESC and the Nicira
// NXST_FLOW / NXST_AGGREGATE that plain ovs-ofctl uses for dump-flows and
// dump-aggregate.

const statsReplyMore = 1 // OFPSF_REPLY_MORE

func (c *ofconn) stats10(m *of10.StatsRequest) error {
	sub, body, err := of10.DecodeStatsRequestBody(m.StatsType, m.Body)
	if err != nil {
		return err
	}
	a := c.a
	var parts []of10.Body
	var prefix []byte
	switch m.StatsType {
	case of10.StatsDesc:
		d := a.desc13()
		parts = append(parts, &of10.Desc{MfrDesc: d.MfrDesc, HWDesc: d.HWDesc, SWDesc: d.SWDesc,
			SerialNum: d.SerialNum, DPDesc: d.DPDesc})
	case of10.StatsFlow, of10.StatsAggregate:
		req := body.(*of10.FlowStatsRequest)
		filter := flowFilter10(MatchFrom10(&req.Match), req.TableID, req.OutPort)
		rules := a.b.Flows(filter)
		if m.StatsType == of10.StatsAggregate {
			parts = append(parts, aggregate10(rules))
			break
		}
		now := time.Now()
		for _, r := range rules {
			d := now.Sub(r.Created)
			match := r.Match.Expand()
			parts = append(parts, &of10.FlowStats{TableID: r.Table, Match: MatchTo10(&match),
				DurationSec: durSec(d), DurationNsec: durNsec(d),
				Priority: r.Priority, IdleTimeout: r.IdleTimeout, HardTimeout: r.HardTimeout,
				Cookie: r.Cookie, PacketCount: r.Packets.Load(), ByteCount: r.Bytes.Load(),
				Actions: ActionsTo10(r.Instructions.Apply)})
		}
	case of10.StatsTable:
		for _, ts := range a.tableStats() {
			var name [32]byte
			copy(name[:31], ts.name)
			parts = append(parts, &of10.TableStats{TableID: ts.id, Name: name, Wildcards: fw10All,
				MaxEntries: uint32(ts.max), ActiveCount: ts.active, LookupCount: ts.lookups, MatchedCount: ts.matched})
		}
	case of10.StatsPort:
		req := body.(*of10.PortStatsRequest)
		for _, p := range a.b.Ports() {
			if req.PortNo == 0xffff || ofproto.PortFrom16(req.PortNo) == p.OFPort {
				s := a.portStats13(p)
				parts = append(parts, &of10.PortStats{PortNo: ofproto.PortTo16(p.OFPort), RxPackets: s.RxPackets,
					TxPackets: s.TxPackets, RxBytes: s.RxBytes, TxBytes: s.TxBytes, RxDropped: s.RxDropped,
					TxDropped: s.TxDropped, RxErrors: s.RxErrors, TxErrors: s.TxErrors})
			}
		}
	case of10.StatsQueue:
	case of10.StatsPortDesc:
		for _, p := range a.b.Ports() {
			pp := portTo10(p)
			parts = append(parts, &pp)
		}
	case of10.StatsVendor:
		req := body.(*of10.NXFlowStatsRequest)
		tlvs, cookie, mask, _, err := splitNXCookie(req.Match)
		if err != nil {
			return err
		}
		match, err := MatchFromTLVs(tlvs)
		if err != nil {
			return err
		}
		prefix = of10.AppendNiciraStatsHeader(nil, sub)
		filter := flowFilter10(match, req.TableID, req.OutPort)
		filter.Cookie, filter.CookieMask = cookie, mask
		if sub == of10.NXSTAggregate {
			parts = append(parts, aggregate10(a.b.Flows(filter)))
			break
		}
		packFlowStats(c.stats10Packer(m.Xid, m.StatsType, prefix), a.b.FlowChunks(filter, dumpChunk), time.Now(), nxFlowStats)
		return nil
	default:
		return ofp.ErrBadMultipart
	}
	c.sendStats10(m.Xid, m.StatsType, prefix, parts)
	return nil
}

func flowFilter10(match ofproto.Match, table uint8, outPort uint16) ofproto.FlowFilter {
	f := ofproto.AllFlows()
	f.Table, f.Match = table, match
	if outPort != 0xffff {
		f.OutPort = ofproto.PortFrom16(outPort)
	}
	return f
}

func aggregate10(rules []ofproto.FlowView) *of10.AggregateStats {
	var agg of10.AggregateStats
	for _, r := range rules {
		agg.PacketCount += r.Packets.Load()
		agg.ByteCount += r.Bytes.Load()
		agg.FlowCount++
	}
	return &agg
}

// nxFlowStats fills s with r's entry, reusing s's match slice and
// encoding through memo.
func nxFlowStats(s *of10.NXFlowStats, r *ofproto.FlowView, now time.Time, memo *dumpMemo) {
	d := now.Sub(r.Created)
	age := func(t time.Time) uint16 { return uint16(min(now.Sub(t)/time.Second+1, 0xffff)) }
	*s = of10.NXFlowStats{TableID: r.Table, DurationSec: durSec(d), DurationNsec: durNsec(d),
		Priority: r.Priority, IdleTimeout: r.IdleTimeout, HardTimeout: r.HardTimeout,
		Cookie: r.Cookie, PacketCount: r.Packets.Load(), ByteCount: r.Bytes.Load(),
		Match: memo.matchTLVs(s.Match[:0], &r.Match, true), Actions: memo.actions10(r.Instructions.Apply)}
	// idle_age/hard_age are "seconds + 1", 0 meaning unknown.
	if used := r.Used.Load(); used != 0 {
		s.IdleAge = age(time.Unix(0, used))
	} else {
		s.IdleAge = age(r.Modified)
	}
	s.HardAge = age(r.Modified)
}

// sendStats10 packs parts (each reply starting with prefix) into replies.
func (c *ofconn) sendStats10(xid uint32, statsType uint16, prefix []byte, parts []of10.Body) {
	p := c.stats10Packer(xid, statsType, prefix)
	for _, part := range parts {
		n := p.mark()
		p.body = part.Append(p.body)
		p.added(n)
	}
	p.finish()
}

// stats10Packer returns a packer of OpenFlow 1.0 stats replies.
func (c *ofconn) stats10Packer(xid uint32, statsType uint16, prefix []byte) *replyPacker {
	return newReplyPacker(prefix, replyBudget-12, func(body []byte, more bool) {
		flags := uint16(0)
		if more {
			flags = statsReplyMore
		}
		c.sendMsg(&of10.StatsReply{Xid: xid, StatsType: statsType, Flags: flags, Body: body})
	})
}
