package ofproto

import (
	"errors"
	"reflect"
	"sync/atomic"
	"time"

	"github.com/govs/govs/internal/flow"
)

// The learn action (Nicira NXAST_LEARN, OVS's lib/learn.c): a rule whose
// actions build another rule from the packet. Translation builds the
// flow-mod (xlate_learn.go); this file holds the model, its validation
// and the hand-off that applies learned flow-mods outside translation.

// LearnDst is what a learn spec adds to the learned flow.
type LearnDst uint8

const (
	LearnMatch  LearnDst = iota // match Dst[DstOfs..+NBits] = source
	LearnLoad                   // an action loading the source into Dst[DstOfs..]
	LearnOutput                 // an output to the port the source names
)

// LearnSpec is one flow_mod_spec. The source is NBits bits of SrcField at
// SrcOfs, or, when SrcField is 0, the immediate Imm (right-aligned: the
// last byte holds the least significant bits).
type LearnSpec struct {
	Dst      LearnDst
	NBits    uint16
	SrcField flow.FieldID
	SrcOfs   uint16
	Imm      [16]byte
	DstField flow.FieldID
	DstOfs   uint16
}

// Learn flags (NX_LEARN_F_*). DeleteLearned: see learn_delete.go.
const (
	LearnSendFlowRem   uint16 = 1 << 0
	LearnDeleteLearned uint16 = 1 << 1
)

// Learn is a learn action: the learned flow's table, priority, cookie,
// timeouts and flags, and the specs that build its match and actions.
// The FIN timeouts are kept for the round trip; govs has no fin_timeout
// action, so learned flows do not get them.
type Learn struct {
	Table          uint8
	Priority       uint16
	Cookie         uint64
	IdleTimeout    uint16
	HardTimeout    uint16
	FinIdleTimeout uint16
	FinHardTimeout uint16
	Flags          uint16
	Specs          []LearnSpec
}

// learnBits is how many bits learn sees in field f: in_port is OVS's
// 16-bit NXM_OF_IN_PORT there, whatever width the key stores it in.
func learnBits(f *flow.Field) int {
	if f.ID == flow.FieldInPort {
		return 16
	}
	return f.Bits
}

// validateLearn checks l against the rule's match as OVS's learn_check
// does: every source field exists, fits and has its prerequisites in the
// match; every destination exists, fits, is writable (loads) and has its
// prerequisites in the learned match as the specs before it build it.
func validateLearn(l *Learn, ctx *actionContext) error {
	if l == nil {
		return ofErr(ErrBadAction, BadActionBadArgument, "learn without specs")
	}
	if int(l.Table) >= MaxTables {
		return ofErr(ErrBadAction, BadActionBadArgument, "learn into table %d", l.Table)
	}
	var learned Match
	for i := range l.Specs {
		s := &l.Specs[i]
		if s.SrcField != 0 {
			src := flow.FieldByID(s.SrcField)
			if err := checkLearnSubfield(src, s.SrcOfs, s.NBits); err != nil {
				return err
			}
			if !src.PrereqsOK(&ctx.key, &ctx.mask) {
				return ofErr(ErrBadAction, BadActionMatchInconsistent, "learn from %s without its prerequisites", src.Name)
			}
		}
		if s.Dst == LearnOutput {
			continue
		}
		dst := flow.FieldByID(s.DstField)
		if err := checkLearnSubfield(dst, s.DstOfs, s.NBits); err != nil {
			return err
		}
		if s.Dst == LearnLoad && !dst.Writable {
			return ofErr(ErrBadAction, BadActionBadSetArgument, "learn load into read-only %s", dst.Name)
		}
		if !dst.PrereqsOK(&learned.Key, &learned.Mask) {
			return ofErr(ErrBadAction, BadActionMatchInconsistent, "learned %s without its prerequisites", dst.Name)
		}
		if s.Dst == LearnMatch && s.SrcField == 0 {
			writeLearned(dst, s.DstOfs, s.NBits, &s.Imm, &learned)
		}
	}
	return nil
}

// checkLearnSubfield is OVS's mf_check_src/mf_check_dst range test.
func checkLearnSubfield(f *flow.Field, ofs, n uint16) error {
	if f == nil {
		return ofErr(ErrBadAction, BadActionBadSetType, "learn names an unknown field")
	}
	if n == 0 || int(ofs)+int(n) > learnBits(f) {
		return ofErr(ErrBadAction, BadActionBadSetLen, "learn %s[%d..%d] outside its %d bits",
			f.Name, ofs, int(ofs)+int(n)-1, learnBits(f))
	}
	if f.ID == flow.FieldInPort && (ofs != 0 || n != 16) {
		// The key holds OpenFlow's 32-bit port: only the whole
		// 16-bit NXM field maps onto it.
		return ofErr(ErrBadAction, BadActionBadSetLen, "learn in_port[%d..] is not the whole field", ofs)
	}
	return nil
}

// readLearnSource returns NBits of f at ofs from k, right-aligned.
func readLearnSource(f *flow.Field, k *flow.Key, ofs, n uint16) (v [16]byte) {
	if f.ID == flow.FieldInPort {
		p := PortTo16(k.InPort)
		v[14], v[15] = byte(p>>8), byte(p)
		return v
	}
	fv := f.Get(k)
	for i := 0; i < int(n); i++ {
		orBit(&v, 16, i, bitOf(&fv, f.Bytes, int(ofs)+i))
	}
	return v
}

// learnValue places the right-aligned sub-value sub at bits ofs..ofs+n of
// f: the value and the mask of those bits, in the field's wire layout.
func learnValue(f *flow.Field, ofs, n uint16, sub *[16]byte) (v, m [16]byte) {
	if f.ID == flow.FieldInPort {
		return f.Value(uint64(PortFrom16(uint16(sub[14])<<8 | uint16(sub[15])))), f.AllOnes()
	}
	for i := 0; i < int(n) && int(ofs)+i < f.Bytes*8; i++ {
		orBit(&m, f.Bytes, int(ofs)+i, 1)
		orBit(&v, f.Bytes, int(ofs)+i, sub[15-i/8]>>(i%8)&1)
	}
	return v, m
}

// orBit ORs b into bit 'bit' of a width-byte wire value (bitOf's inverse).
func orBit(v *[16]byte, width, bit int, b uint8) { v[width-1-bit/8] |= b << (bit % 8) }

// writeLearned adds "f[ofs..] = sub" to the learned match m.
func writeLearned(f *flow.Field, ofs, n uint16, sub *[16]byte, m *Match) {
	v, mask := learnValue(f, ofs, n, sub)
	f.SetMasked(&m.Key, v, mask)
	f.SetMasked(&m.Mask, mask, mask)
}

// PortTo16 narrows an OpenFlow port to the 16 bits of OpenFlow 1.0 and
// NXM_OF_IN_PORT: reserved ports 0xffffff00 and up become 0xff00 and up,
// other ports that do not fit become OFPP_NONE (0xffff).
func PortTo16(p uint32) uint16 {
	switch {
	case p >= PortMax:
		return uint16(p - 0xffff0000)
	case p >= portMax16:
		return 0xffff
	}
	return uint16(p)
}

// PortFrom16 widens a 16-bit port: 0xff00 and up are the reserved ports.
func PortFrom16(p uint16) uint32 {
	if p >= portMax16 {
		return uint32(p) + 0xffff0000
	}
	return uint32(p)
}

// portMax16 is OpenFlow 1.0's OFPP_MAX: 0xff00 and up are reserved.
const portMax16 = 0xff00

// learnQueue hands learned flow-mods from translation (a PMD's upcall,
// holding the bridges' read locks) to a goroutine that applies them with
// no lock held. Bridge.FlowMod ends in a synchronous datapath
// revalidation that waits for the PMDs, so a PMD must never apply one
// itself. The queue is bounded: when it is full the flow-mod is dropped
// and counted, and the PMD never blocks. The applier goroutine runs only
// while there is work, so an idle Ofproto has none.
type learnQueue struct {
	ch      atomic.Pointer[chan learnedMod]
	running atomic.Bool

	// Counters (ofproto-level, for tests and diagnosis).
	Queued, Dropped, Added, Refreshed, Failed atomic.Uint64
	Stale                                     atomic.Uint64 // dropped: src gone or changed
}

// learnQueueLen bounds the flow-mods waiting to be applied.
const learnQueueLen = 1024

type learnedMod struct {
	bridge string
	fm     *FlowMod
	// src is the rule whose actions made fm (nil: a packet-out's), and
	// srcModified its modification stamp then. A flow-mod applied after
	// src left or was modified is dropped: it was queued before the
	// change, and applying it would outlive delete_learned's flush
	// (learn_delete.go).
	src         *Rule
	srcModified time.Time
}

func (q *learnQueue) channel() chan learnedMod {
	if p := q.ch.Load(); p != nil {
		return *p
	}
	ch := make(chan learnedMod, learnQueueLen)
	if q.ch.CompareAndSwap(nil, &ch) {
		return ch
	}
	return *q.ch.Load()
}

// queueLearned queues the flow-mods translation c learned and starts the
// applier if it is not running. It never blocks.
func (o *Ofproto) queueLearned(c *xlateCtx) {
	if len(c.learned) == 0 {
		return
	}
	if o.learns.put(c.learned) {
		go o.applyLearned(o.learns.channel())
	}
	clear(c.learned)
	c.learned = c.learned[:0]
}

// put queues ms without blocking (a flow-mod that does not fit is dropped
// and counted) and reports whether the caller must start the applier. The
// flow-mods are shared, not copied: nothing changes a learned FlowMod once
// translation built it (Bridge.learnFlow copies what it keeps), so one
// megaflow's xcache entry can queue the same ones again and again.
func (q *learnQueue) put(ms []learnedMod) (startApplier bool) {
	if len(ms) == 0 {
		return false
	}
	ch := q.channel()
	for i := range ms {
		select {
		case ch <- ms[i]:
			q.Queued.Add(1)
		default:
			q.Dropped.Add(1)
		}
	}
	return q.running.CompareAndSwap(false, true)
}

// applyLearned applies queued flow-mods until the queue is empty.
func (o *Ofproto) applyLearned(ch chan learnedMod) {
	q := &o.learns
	for {
		select {
		case m := <-ch:
			o.applyLearnedMod(m)
			continue
		default:
		}
		q.running.Store(false)
		// A flow-mod queued after the empty check but before the store
		// found running set and started nobody: take it over.
		if len(ch) == 0 || !q.running.CompareAndSwap(false, true) {
			return
		}
	}
}

func (o *Ofproto) applyLearnedMod(m learnedMod) {
	b := o.Bridge(m.bridge)
	if b == nil {
		o.learns.Failed.Add(1)
		return
	}
	refreshed, err := b.learnFlow(&m)
	switch {
	case err == errStaleLearn:
		o.learns.Stale.Add(1)
	case err != nil:
		o.learns.Failed.Add(1)
	case refreshed:
		o.learns.Refreshed.Add(1)
	default:
		o.learns.Added.Add(1)
	}
}

// LearnStats returns how many learned flow-mods were queued, dropped
// (queue full), added or changed a rule, only refreshed an identical
// rule, and failed.
func (o *Ofproto) LearnStats() (queued, dropped, added, refreshed, failed uint64) {
	q := &o.learns
	return q.Queued.Load(), q.Dropped.Load(), q.Added.Load(), q.Refreshed.Load(), q.Failed.Load()
}

// learnFlow applies a learned flow-mod (an add). If the rule is already
// there as the flow-mod would make it, it is only refreshed, as OVS
// refreshes a relearned rule: its hard timeout starts again and it
// counts as used now. That changes nothing translation sees, so it does
// not move the bridge version and costs no revalidation; learning the
// same flow again on every packet stays cheap.
func (b *Bridge) learnFlow(m *learnedMod) (refreshed bool, err error) {
	fm := m.fm
	if err := checkFlowMod(fm, nil); err != nil {
		return false, err
	}
	b.mu.Lock()
	if m.stale() {
		b.mu.Unlock()
		return false, errStaleLearn
	}
	if old := b.tables[fm.Table].cls.find(&fm.Match, fm.Priority); old != nil && sameLearned(old, fm) {
		now := b.Now()
		old.Created = now
		old.Used.Store(now.UnixNano())
		b.mu.Unlock()
		return true, nil
	}
	removed, changed, err := b.flowModLocked(fm, &fm.Match)
	if err != nil || !changed {
		b.mu.Unlock()
		return false, err
	}
	b.changed(removed)
	return false, nil
}

func sameLearned(r *Rule, fm *FlowMod) bool {
	return r.Cookie == fm.Cookie && r.IdleTimeout == fm.IdleTimeout && r.HardTimeout == fm.HardTimeout &&
		r.Flags == fm.Flags && sameLearnedActions(r.Instructions.Apply, fm.Apply)
}

// sameLearnedActions compares action lists element by element (nil and empty
// are the same list).
func sameLearnedActions(a, b []Action) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !reflect.DeepEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

// errStaleLearn: a learned flow-mod whose rule has left or changed since.
var errStaleLearn = errors.New("learned by a rule that is gone")

// stale reports whether m's rule has left its table or been modified since
// translation ran its learn action. The caller holds the bridge's lock.
func (m *learnedMod) stale() bool {
	return m.src != nil && (m.src.IsRemoved() || !m.src.Modified.Equal(m.srcModified))
}
