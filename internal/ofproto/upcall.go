package ofproto

import (
	"sync"

	"github.com/govs/govs/internal/dpif"
	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
	"github.com/govs/govs/internal/packet"
)

// Upcalls: the datapath's misses and packet-ins.

// PacketInReason is ofp_packet_in_reason.
type PacketInReason uint8

const (
	ReasonNoMatch    PacketInReason = 0
	ReasonAction     PacketInReason = 1
	ReasonInvalidTTL PacketInReason = 2
)

// PacketIn is a packet for a controller.
type PacketIn struct {
	Reason       PacketInReason
	TableID      uint8
	Cookie       uint64 // the rule's cookie; all-ones when no rule sent it
	Match        flow.Key
	Packet       []byte // a copy, at most MaxLen bytes
	TotalLen     int
	BufferID     uint32 // always NoBuffer: govs does not buffer
	ControllerID uint16
	MaxLen       uint16
}

// Upcall implements dpif.Upcaller: it translates a missed packet, learns
// MACs, credits the rules with the packet and records them behind u.Ref.
func (o *Ofproto) Upcall(u *dpif.Upcall) error {
	c := o.getCtx()
	defer o.putCtx(c)
	pm := o.lockAll()
	loc, ok := pm.byODP[u.Key.InPort]
	if !ok {
		unlockAll(pm)
		u.Mask = flow.Mask{InPort: 0xffffffff, RecircID: 0xffffffff}
		u.Actions = u.Actions[:0]
		u.Ref, u.NoInstall = 0, false
		return nil
	}
	c.start(pm, loc.bs, &u.Key, loc.ofport, u.Actions)
	if u.Packet != nil {
		c.pkt = u.Packet.Data()
	}
	c.epoch = o.epoch()
	c.mayLearn = true
	if p := loc.bs.b.Port(loc.ofport); p != nil && p.Config&PortNoRecv != 0 {
		c.note("port %d is NO_RECV: dropping", loc.ofport)
	} else {
		c.pipeline()
	}
	c.finish()
	unlockAll(pm)

	u.Mask, u.Actions, u.NoInstall = c.wc, c.acts, c.noInstall
	var bytes uint64
	if u.Packet != nil {
		bytes = uint64(u.Packet.Len)
	}
	c.pushStats(1, bytes, c.now)
	u.Ref = 0
	if !u.NoInstall {
		u.Ref = o.xc.alloc(c)
	}
	if c.macsChanged {
		o.macChanged()
	}
	o.queueLearned(c)
	return nil
}

// pushStats credits what the translation went through.
func (c *xlateCtx) pushStats(pkts, bytes uint64, used int64) {
	for _, r := range c.rules {
		r.AddStats(pkts, bytes, used)
	}
	for _, t := range c.tables {
		t.t.credit(pkts, t.matched)
	}
	for _, b := range c.buckets {
		creditBucket(b, pkts, bytes)
	}
}

func creditBucket(b bucketRef, pkts, bytes uint64) {
	if pkts == 0 && bytes == 0 {
		return
	}
	if b.bucket < 0 {
		b.g.Packets.Add(pkts)
		b.g.Bytes.Add(bytes)
		return
	}
	if b.bucket < len(b.g.Buckets) {
		b.g.Buckets[b.bucket].Packets.Add(pkts)
		b.g.Buckets[b.bucket].Bytes.Add(bytes)
	}
}

// Userspace implements dpif.Upcaller: it turns an OpUserspace action into a
// packet-in for OnPacketIn.
func (o *Ofproto) Userspace(p *packet.Buffer, k *flow.Key, a *odp.Action) {
	ck, ok := o.cookies.get(a.Arg)
	if !ok || o.opts.OnPacketIn == nil {
		return
	}
	data := p.Data()
	pi := &PacketIn{
		Reason:       ck.reason,
		TableID:      ck.table,
		Cookie:       ck.cookie,
		Match:        *k,
		TotalLen:     len(data),
		BufferID:     NoBuffer,
		ControllerID: ck.controllerID,
		MaxLen:       ck.maxLen,
	}
	pi.Match.InPort = ck.inPort
	pi.Match.Metadata = ck.metadata
	pi.Match.Regs = ck.regs
	pi.Match.TunID = ck.tunID
	pi.Match.PktMark = ck.pktMark
	n := len(data)
	if ck.maxLen != ControllerMaxLenNoBuffer && int(ck.maxLen) < n {
		n = int(ck.maxLen)
	}
	pi.Packet = append([]byte(nil), data[:n]...)
	o.opts.OnPacketIn(ck.bridge, pi)
}

// ctrlCookie is what a packet-in needs beyond the packet: the slow path
// keeps it and gives the datapath its index. Everything in it is a function
// of the megaflow (never of unmasked packet bits), so all packets of a
// megaflow share one cookie.
type ctrlCookie struct {
	bridge       string
	reason       PacketInReason
	table        uint8
	controllerID uint16
	maxLen       uint16
	cookie       uint64
	inPort       uint32
	metadata     uint64
	regs         [flow.NumRegs]uint32
	tunID        uint64
	pktMark      uint32
}

// maxCookies bounds the cookie table; past it, packet-ins are handled
// without megaflows.
const maxCookies = 1 << 16

type cookieTable struct {
	mu    sync.RWMutex
	index map[ctrlCookie]uint32
	list  []ctrlCookie
	// overflow is cookie maxCookies: the last one that did not fit.
	overflow ctrlCookie
}

func (t *cookieTable) intern(ck *ctrlCookie) (uint32, bool) {
	t.mu.RLock()
	i, ok := t.index[*ck]
	t.mu.RUnlock()
	if ok {
		return i, true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if i, ok := t.index[*ck]; ok {
		return i, true
	}
	if len(t.list) >= maxCookies {
		// One spare slot serves packets that cannot have a megaflow.
		t.overflow = *ck
		return maxCookies, false
	}
	t.list = append(t.list, *ck)
	i = uint32(len(t.list) - 1)
	t.index[*ck] = i
	return i, true
}

func (t *cookieTable) get(i uint32) (ctrlCookie, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if i == maxCookies {
		return t.overflow, true
	}
	if int(i) >= len(t.list) {
		return ctrlCookie{}, false
	}
	return t.list[i], true
}
