package ofproto

import (
	"sync"

	"github.com/govs/govs/internal/dpif"
	"github.com/govs/govs/internal/flow"
)

// Revalidation: installed megaflows come back here periodically and after
// changes. Their statistics go to the rules, group buckets and MAC entries
// their translation went through (the xcache entry behind Ref), a megaflow
// that saw packets learns again what its learn actions learned, and they
// are translated again: the datapath keeps, fixes or deletes each one by
// comparing the new mask and actions with its own.

// Revalidate implements dpif.Upcaller.
func (o *Ofproto) Revalidate(r *dpif.Revalidation) error {
	used := r.Used
	if used == 0 {
		used = o.opts.Now().UnixNano()
	}
	if r.Packets > 0 {
		o.push(r.Ref, r.Packets, r.Bytes, used)
	}
	// Nothing translation reads has changed since this megaflow was last
	// translated: its mask and actions stand (OVS's revalidators also
	// re-translate only when something changed). With many megaflows this
	// keeps the periodic round down to pushing statistics.
	if e := o.xc.epochOf(r.Ref); e != 0 && e == o.epoch() {
		return nil
	}

	c := o.getCtx()
	defer o.putCtx(c)
	pm := o.lockAll()
	loc, ok := pm.byODP[r.Key.InPort]
	if !ok {
		unlockAll(pm)
		r.Delete = true
		return nil
	}
	c.start(pm, loc.bs, &r.Key, loc.ofport, r.Actions)
	c.epoch = o.epoch()
	c.mayLearn = false
	if p := loc.bs.b.Port(loc.ofport); p == nil || p.Config&PortNoRecv == 0 {
		c.pipeline()
	}
	c.finish()
	unlockAll(pm)

	if len(c.learned) > 0 && !maskCovers(&r.Mask, &c.wc) {
		// The datapath deletes this megaflow, and the key it keeps is
		// masked: what learn read from bits it had wildcarded is not the
		// packets'. Its last packets must not replay that.
		clear(c.learned)
		c.learned = c.learned[:0]
	}
	r.Mask, r.Actions = c.wc, c.acts
	if c.noInstall {
		r.Delete = true
	}
	if r.Ref != 0 {
		o.xc.update(r.Ref, c)
	} else {
		r.Ref = o.xc.alloc(c)
	}
	// Revalidation never queues what it learned: the entry keeps it for
	// the packets the next rounds see.
	clear(c.learned)
	c.learned = c.learned[:0]
	return nil
}

// maskCovers reports whether installed has every bit of wc (in_port
// aside, which the datapath always matches exactly).
func maskCovers(installed, wc *flow.Mask) bool {
	m := *installed
	m.InPort = ^uint32(0)
	return wc.Within(&m)
}

// push gives a megaflow's statistics to its xcache entry (xcache.push)
// and starts the learn applier when that queued flow-mods.
func (o *Ofproto) push(ref uint64, pkts, bytes uint64, used int64) {
	macsChanged, startApplier := o.xc.push(ref, pkts, bytes, used, &o.learns)
	if startApplier {
		go o.applyLearned(o.learns.channel())
	}
	if macsChanged {
		o.macChanged()
	}
}

// Release implements dpif.Releaser: it tells ofproto that the datapath deleted the megaflow behind ref
// (idle expiry, flush, or after a Revalidate it could not apply), with the
// statistics gathered since its last Revalidate. Ref is not used again.
func (o *Ofproto) Release(ref uint64, packets, bytes uint64, used int64) {
	if ref == 0 {
		return
	}
	if packets > 0 {
		o.push(ref, packets, bytes, used)
	}
	o.xc.release(ref)
}

var _ dpif.Releaser = (*Ofproto)(nil)

// XCacheLen returns how many megaflows ofproto is keeping state for.
func (o *Ofproto) XCacheLen() int {
	o.xc.mu.Lock()
	defer o.xc.mu.Unlock()
	return o.xc.live
}

// xcache holds one entry per installed megaflow (OVS's xlate cache): the
// rules, table lookups, buckets and MAC entries to credit, and the
// flow-mods its learn actions built, to learn again (XC_LEARN). A Ref is the entry's index+1
// in its low 32 bits and a generation in its high bits, so a stale Ref
// never credits the wrong megaflow. Entries and their slices are reused.
type xcache struct {
	mu       sync.Mutex
	entries  []xcEntry
	freeList []uint32
	live     int
}

type xcEntry struct {
	gen     uint32
	inUse   bool
	epoch   uint64 // Ofproto.epoch() of the translation (0: never skip it)
	rules   []*Rule
	tables  []tableRef
	buckets []bucketRef
	macs    []macRef
	learned []learnedMod
}

func (x *xcache) alloc(c *xlateCtx) uint64 {
	x.mu.Lock()
	defer x.mu.Unlock()
	var i uint32
	if n := len(x.freeList); n > 0 {
		i = x.freeList[n-1]
		x.freeList = x.freeList[:n-1]
	} else {
		x.entries = append(x.entries, xcEntry{})
		i = uint32(len(x.entries) - 1)
	}
	e := &x.entries[i]
	e.gen++
	e.inUse = true
	e.fill(c)
	x.live++
	return uint64(e.gen)<<32 | uint64(i+1)
}

func (e *xcEntry) fill(c *xlateCtx) {
	e.epoch = c.epoch
	e.rules = append(e.rules[:0], c.rules...)
	e.tables = append(e.tables[:0], c.tables...)
	e.buckets = append(e.buckets[:0], c.buckets...)
	e.macs = append(e.macs[:0], c.macs...)
	e.learned = append(e.learned[:0], c.learned...)
}

// lookup returns the live entry of ref, or nil. Caller holds mu.
func (x *xcache) lookup(ref uint64) *xcEntry {
	i := uint32(ref) - 1
	if ref == 0 || int(i) >= len(x.entries) {
		return nil
	}
	e := &x.entries[i]
	if !e.inUse || e.gen != uint32(ref>>32) {
		return nil
	}
	return e
}

// epochOf returns the epoch of ref's translation, 0 if ref is not live.
func (x *xcache) epochOf(ref uint64) uint64 {
	x.mu.Lock()
	defer x.mu.Unlock()
	if e := x.lookup(ref); e != nil {
		return e.epoch
	}
	return 0
}

func (x *xcache) update(ref uint64, c *xlateCtx) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if e := x.lookup(ref); e != nil {
		e.fill(c)
	}
}

// push credits ref's rules and buckets with traffic, keeps its learned
// MACs fresh (a megaflow in use keeps its source MAC alive) and, as OVS's
// xlate_push_stats replays XC_LEARN, queues its learned flow-mods on q
// again: relearning refreshes the learned rules (their timeouts restart)
// and brings back one deleted or expired meanwhile, as the slow path did
// for the first packet. It reports whether refreshing a MAC changed the
// table (the MAC had aged out or moved) and whether the caller must start
// q's applier.
func (x *xcache) push(ref uint64, pkts, bytes uint64, used int64, q *learnQueue) (macsChanged, startApplier bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	e := x.lookup(ref)
	if e == nil {
		return false, false
	}
	for _, r := range e.rules {
		r.AddStats(pkts, bytes, used)
	}
	for _, t := range e.tables {
		t.t.credit(pkts, t.matched)
	}
	for _, b := range e.buckets {
		creditBucket(b, pkts, bytes)
	}
	for _, m := range e.macs {
		if m.t.Learn(m.mac, m.vlan, m.port, used) {
			macsChanged = true
		}
	}
	if pkts > 0 {
		startApplier = q.put(e.learned)
	}
	return macsChanged, startApplier
}

func (x *xcache) release(ref uint64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	e := x.lookup(ref)
	if e == nil {
		return
	}
	e.inUse = false
	clear(e.rules)
	clear(e.tables)
	clear(e.buckets)
	clear(e.macs)
	clear(e.learned)
	e.rules, e.tables, e.buckets, e.macs = e.rules[:0], e.tables[:0], e.buckets[:0], e.macs[:0]
	e.learned = e.learned[:0]
	x.freeList = append(x.freeList, uint32(ref)-1)
	x.live--
}
