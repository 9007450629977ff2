package ofproto

import (
	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
)

// Translation (OVS's ofproto-dpif-xlate): one packet's flow key through a
// bridge's OpenFlow pipeline, giving datapath actions and the megaflow mask.
//
//  1. The datapath key's in_port (a datapath port) becomes the bridge and
//     its OpenFlow port; the mask has in_port and recirc_id exact.
//  2. Tables run from 0: each lookup ORs into the mask every bit it
//     depended on; a rule's instructions run in OF1.3 order (meter,
//     apply-actions, clear-actions, write-actions, write-metadata,
//     goto-table). A miss drops (OF1.3 table-miss without a rule) unless
//     the table is configured to continue.
//  3. Actions change a working key; every decision an action takes ORs
//     what it looked at into the mask. Outputs first commit the header
//     changes made so far (xlate_commit.go).
//  4. At the end of a pipeline (top level, a patch port's peer, TABLE in a
//     packet-out) the action set runs in OF1.3 §5.10 order.
//
// The mask is therefore a function of the masked bits only, and so are the
// actions: every packet of the megaflow gets the same actions.

// xlateCtx is the state of one translation. It is pooled and reused, so a
// translation allocates nothing once the pool is warm.
type xlateCtx struct {
	o  *Ofproto
	pm *portMap
	bs *bridgeState // the bridge being translated (changes at patch ports)

	key     flow.Key  // working key, in OpenFlow terms (InPort: OpenFlow port)
	base    flow.Key  // headers as the datapath packet has them now
	dirty   flow.Mask // header bits written and not yet committed
	written flow.Mask // every bit ever written
	// restored: dirty bits holding the packet's own value again after a
	// copy of the packet ended (see restoreKey).
	restored flow.Mask
	wc       flow.Mask
	acts     odp.Actions
	actset   actionSet

	table      uint8 // table of the rule being executed
	rule       *Rule // rule being executed (nil in packet-out and buckets)
	depth      int
	lookups    int
	mplsInner  uint16 // ethertype under the MPLS stack the pipeline pushed
	l3Hidden   bool   // the packet came with an MPLS stack: L3 beneath is unknown
	exit       bool   // stop translating (a drop decision)
	aborted    bool   // too deep or too long: the whole packet is dropped
	packetOut  bool
	inPortUsed bool

	mayLearn    bool // NORMAL learns (upcalls, not revalidation)
	macsChanged bool // learning changed an answer: revalidate
	noInstall   bool
	now         int64
	// epoch is o.epoch() when the translation started: a later
	// revalidation with the same epoch can keep its result untouched.
	epoch uint64

	// The xcache of this translation: what to credit with statistics.
	rules   []*Rule
	tables  []tableRef
	buckets []bucketRef
	macs    []macRef

	// learned: flow-mods learn actions built, for the upcall or packet-out
	// to queue and the xcache entry to replay.
	learned []learnedMod

	trace *Trace

	// pkt is the packet being translated, when there is one (upcalls,
	// packet-outs), read-only; scratch is exposeInner's frame.
	pkt     []byte
	scratch []byte
}

// tableRef is one table lookup, to count in the table's statistics.
type tableRef struct {
	t       *Table
	matched bool
}

type bucketRef struct {
	g      *Group
	bucket int // -1: the group as a whole
}

type macRef struct {
	t    *MACTable
	mac  [6]byte
	vlan uint16
	port uint32
}

var exactMask = flow.Exact()

func (o *Ofproto) getCtx() *xlateCtx {
	c := o.ctxPool.Get().(*xlateCtx)
	c.o = o
	return c
}

func (o *Ofproto) putCtx(c *xlateCtx) {
	c.pm, c.bs, c.rule, c.trace, c.pkt = nil, nil, nil, nil, nil
	clear(c.rules)
	clear(c.tables)
	clear(c.buckets)
	clear(c.macs)
	c.rules, c.tables, c.buckets, c.macs = c.rules[:0], c.tables[:0], c.buckets[:0], c.macs[:0]
	c.actset.reset()
	o.ctxPool.Put(c)
}

// start prepares c to translate key k (datapath terms) arriving on bridge
// bs at OpenFlow port ofport.
func (c *xlateCtx) start(pm *portMap, bs *bridgeState, k *flow.Key, ofport uint32, acts odp.Actions) {
	c.pm, c.bs = pm, bs
	c.key = *k
	c.key.InPort = ofport
	c.base = c.key
	c.dirty, c.written, c.restored, c.wc = flow.Mask{}, flow.Mask{}, flow.Mask{}, flow.Mask{}
	c.wc.InPort = 0xffffffff
	c.wc.RecircID = 0xffffffff
	c.acts = acts[:0]
	c.actset.reset()
	c.table, c.rule = 0, nil
	c.depth, c.lookups = 0, 0
	c.mplsInner = 0
	c.l3Hidden = isMPLS(k.EthType)
	c.exit, c.aborted, c.packetOut, c.inPortUsed, c.noInstall = false, false, false, false, false
	c.now = c.o.opts.Now().UnixNano()
	c.macsChanged = false
	clear(c.learned)
	c.learned = c.learned[:0]
	c.rules, c.tables, c.buckets, c.macs = c.rules[:0], c.tables[:0], c.buckets[:0], c.macs[:0]
}

// finish returns the megaflow mask in datapath terms: OpenFlow metadata and
// registers start at zero in every datapath key, so the bits the pipeline
// read from them after setting them are not packet fields.
func (c *xlateCtx) finish() {
	if c.aborted {
		c.acts = c.acts[:0]
	}
	c.wc.Metadata = 0
	c.wc.Regs = [flow.NumRegs]uint32{}
}

// pipeline runs the bridge's tables from table 0 and then the action set,
// as at the start of a bridge (top level, patch peer, packet-out TABLE).
func (c *xlateCtx) pipeline() {
	saved := c.actset
	c.actset.reset()
	c.xlateTable(0, true)
	if !c.exit {
		as := c.actset
		c.actset.reset()
		c.execActionSet(&as)
	}
	c.actset = saved
}

// xlateTable looks the working key up in table id and executes the rule
// found. honorMiss applies the table's miss behaviour (goto-table and the
// start of the pipeline do; resubmit does not, as in OVS).
func (c *xlateCtx) xlateTable(id uint8, honorMiss bool) {
	if c.exit {
		return
	}
	if c.l3Hidden && c.key.EthType != 0 && !isMPLS(c.key.EthType) {
		// A pop exposed headers the datapath never parsed; matching
		// them needs recirculation, which govs does not do yet.
		c.note("mpls pop exposed unparsed headers: translation stops (no recirculation)")
		c.exit = true
		return
	}
	c.lookups++
	if c.depth >= c.o.opts.MaxResubmitDepth || c.lookups > c.o.opts.MaxResubmits {
		c.note("translation too deep or too long: dropping")
		c.exit, c.aborted = true, true
		return
	}
	t := c.bs.b.Table(id)
	if t == nil {
		return
	}
	r := t.Lookup(&c.key, &c.wc)
	c.tables = append(c.tables, tableRef{t, r != nil})
	c.traceLookup(id, r)
	if r == nil {
		if honorMiss && t.Config&TableMissContinue != 0 && int(id)+1 < MaxTables {
			c.depth++
			c.xlateTable(id+1, true)
			c.depth--
		}
		return
	}
	c.rules = append(c.rules, r)
	oldTable, oldRule := c.table, c.rule
	c.table, c.rule = id, r
	c.depth++
	c.instructions(&r.Instructions)
	c.depth--
	c.table, c.rule = oldTable, oldRule
}

// instructions runs a rule's instruction set in OF1.3 §5.9 order.
func (c *xlateCtx) instructions(in *Instructions) {
	if in.Meter != 0 {
		c.meter(in.Meter)
	}
	c.actions(in.Apply)
	if c.exit {
		return
	}
	if in.ClearActions {
		c.actset.reset()
	}
	for i := range in.Write {
		c.actset.write(&in.Write[i])
	}
	if in.WriteMetadata {
		c.key.Metadata = c.key.Metadata&^in.MetadataMask | in.Metadata&in.MetadataMask
	}
	if in.GotoTable >= 0 && in.GotoTable > int(c.table) && in.GotoTable < MaxTables {
		c.xlateTable(uint8(in.GotoTable), true)
	}
}

// actions executes an action list.
func (c *xlateCtx) actions(acts []Action) {
	for i := range acts {
		if c.exit {
			return
		}
		c.action(&acts[i])
	}
}

func (c *xlateCtx) meter(id uint32) {
	if c.o.opts.MeterID == nil {
		c.note("meter %d: no datapath meters configured", id)
		return
	}
	dp, ok := c.o.opts.MeterID(c.bs.b.Name(), id)
	if !ok {
		c.note("meter %d: not configured in the datapath", id)
		return
	}
	c.acts = append(c.acts, odp.Action{Op: odp.OpMeter, Arg: dp})
}

// resubmit is Nicira's resubmit(port, table): a lookup with in_port
// replaced, whose rule's actions run here and now.
func (c *xlateCtx) resubmit(a *Action) {
	table := a.Table
	if table == TableAll {
		table = c.table
	}
	oldIn := c.key.InPort
	if a.Port != PortInPort && a.Port != PortAny {
		c.key.InPort = a.Port
	}
	c.xlateTable(table, false)
	c.key.InPort = oldIn
}

// markWritten records that the bits in m were written.
func (c *xlateCtx) markWritten(m *flow.Mask) {
	c.dirty.Or(m)
	c.written.Or(m)
	r, w := c.restored.Words(), m.Words()
	for i := range r {
		r[i] &^= w[i]
	}
}

// copyState is what a copy of the packet (a group bucket, a patch port)
// starts from and goes back to.
type copyState struct {
	key     flow.Key
	written flow.Mask
}

func (c *xlateCtx) saveKey(s *copyState) {
	s.key, s.written = c.key, c.written
}

// restoreKey ends a copy of the packet: the changes made inside were
// committed to the datapath packet, so everything ever written is marked
// for commit again and the next output sets the headers back. Bits first
// written inside the copy go back to the packet's own values, which the
// set action then carries: commitFields makes them exact in the megaflow.
func (c *xlateCtx) restoreKey(s *copyState) {
	c.key = s.key
	r, now, before := c.restored.Words(), c.written.Words(), s.written.Words()
	for i := range r {
		r[i] |= now[i] &^ before[i]
	}
	c.dirty.Or(&c.written)
}
