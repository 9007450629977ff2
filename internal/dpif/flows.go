package dpif

import (
	"slices"
	"sort"
	"time"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
)

// install adds the megaflow (k masked by mask, acts) on in_port inPort
// unless a megaflow matching k exists already (another PMD installed it
// since this PMD's miss): then that one is returned and *mask set to its
// mask. It returns nil at the flow limit. The mask is made exact on
// in_port, since classifiers are per in_port. The new megaflow is visible
// to PMDs after the next publish. The subtable returned with it is the
// control side's; only its words, maskw and nw, which never change, may be
// read without mu.
func (dp *Datapath) install(inPort uint32, k *flow.Key, mask *flow.Mask, acts odp.Actions, ref uint64) (*megaflow, *subtable) {
	mask.InPort = ^uint32(0)
	dp.mu.Lock()
	defer dp.mu.Unlock()
	c := &dp.ctl
	cb := c.cls[inPort]
	if cb == nil {
		if c.ports[inPort] == nil {
			return nil, nil // the port went away while its packet was in flight
		}
		cb = newClassifierBuilder()
		c.cls[inPort] = cb
	}
	if mf := cb.find(k, &c.flows.cur); mf != nil {
		st := c.states[mf.id]
		*mask = st.mask
		return mf, st.sub
	}
	if c.nflows >= int(dp.tun.flowLimit.Load()) {
		return nil, nil
	}
	var id uint32
	if n := len(c.freeIDs); n > 0 {
		id = c.freeIDs[n-1]
		c.freeIDs = c.freeIDs[:n-1]
	} else {
		id = uint32(len(c.states))
		c.states = append(c.states, nil)
	}
	c.lastGen++
	if c.lastGen == 0 {
		c.lastGen = 1
	}
	mf := &megaflow{actions: slices.Clone(acts), id: id, gen: c.lastGen, inPort: inPort}
	mf.key.MaskFrom(k, mask)
	sub := cb.subtableFor(mask, func() uint32 { c.nextSubID++; return c.nextSubID - 1 })
	cb.insert(sub, mf)
	c.flows.set(id, mf)
	c.states[id] = &flowState{mf: mf, mask: *mask, sub: sub, ref: ref, created: time.Now().UnixNano()}
	c.nflows++
	c.dirty = true
	return mf, sub
}

// deleteFlowLocked removes megaflow id from the control state; PMDs stop
// using it after the next publish.
// +checklocks:dp.mu
func (dp *Datapath) deleteFlowLocked(id uint32) {
	c := &dp.ctl
	st := c.states[id]
	if cb := c.cls[st.mf.inPort]; cb != nil {
		if sid, gone := cb.remove(st.sub, st.mf); gone {
			delete(c.subHits, sid)
		}
	}
	if dp.rel != nil && st.ref != 0 {
		c.released = append(c.released, releasedFlow{st.ref, st.newPackets, st.newBytes, st.used})
	}
	c.flows.set(id, nil)
	c.states[id] = nil
	c.pendingFree = append(c.pendingFree, id)
	c.nflows--
	c.dirty = true
}

// releasedFlow is a deleted megaflow's Ref and its statistics since its
// last Revalidate, for Releaser.Release.
type releasedFlow struct {
	ref            uint64
	packets, bytes uint64
	used           int64
}

// releaseDeleted tells the Releaser about the megaflows deleted so far.
// It takes mu, so callers must not hold it: Release may call back into
// the integrator (a MAC learning change kicks the revalidator).
func (dp *Datapath) releaseDeleted() {
	if dp.rel == nil {
		return
	}
	dp.mu.Lock()
	rel := dp.ctl.released
	dp.ctl.released = nil
	dp.mu.Unlock()
	for _, r := range rel {
		dp.rel.Release(r.ref, r.packets, r.bytes, r.used)
	}
}

// replaceActionsLocked gives megaflow id new actions, keeping its id and
// generation so EMC entries stay valid.
// +checklocks:dp.mu
func (dp *Datapath) replaceActionsLocked(id uint32, acts odp.Actions) {
	st := dp.ctl.states[id]
	mf := *st.mf
	mf.actions = slices.Clone(acts)
	st.mf = &mf
	dp.ctl.flows.set(id, &mf)
	dp.ctl.dirty = true
}

// publish makes the control state visible to PMDs.
func (dp *Datapath) publish() {
	dp.mu.Lock()
	dp.publishLocked()
	dp.mu.Unlock()
}

// +checklocks:dp.mu
func (dp *Datapath) publishLocked() {
	c := &dp.ctl
	changed := c.dirty
	for _, cb := range c.cls {
		changed = changed || cb.changed
	}
	if !changed {
		return
	}
	old := dp.snap.Load()
	s := &snapshot{
		flows:  c.flows.publish(),
		cls:    make(map[uint32]*classifier, len(c.cls)),
		meters: make(map[uint32]*odp.Meter, len(c.meters)),
		subIDs: c.nextSubID,
	}
	for port, cb := range c.cls {
		if !cb.changed && old != nil && old.cls[port] != nil {
			s.cls[port] = old.cls[port]
			continue
		}
		s.cls[port] = cb.publish()
	}
	maxPort := -1
	for no := range c.ports {
		maxPort = max(maxPort, int(no))
	}
	s.ports = make([]*dpPort, maxPort+1)
	nexec := c.nexec
	for no, p := range c.ports {
		if shared := p.ntxq < nexec; shared != p.shared {
			np := *p
			np.shared = shared
			p = &np
			c.ports[no] = p
		}
		s.ports[no] = p
	}
	for id, m := range c.meters {
		s.meters[id] = m
	}
	c.dirty = false
	dp.snap.Store(s)
}

// FlowInfo describes one installed megaflow (dpctl/dump-flows).
type FlowInfo struct {
	InPort   uint32
	Key      flow.Key // masked
	Mask     flow.Mask
	Actions  odp.Actions
	Ref      uint64
	Packets  uint64
	Bytes    uint64
	TCPFlags uint16
	Used     int64 // unix ns of the last packet; 0: never
	Created  int64 // unix ns
	// Offloaded: the kernel forwards the megaflow's packets (offload.go).
	Offloaded bool
}

// FlowDump returns every installed megaflow with statistics current to
// the moment of the call, ordered by in_port then installation.
func (dp *Datapath) FlowDump() []FlowInfo {
	dp.pmdMu.Lock()
	defer dp.pmdMu.Unlock()
	dp.syncLocked()
	dp.foldForwardsLocked()
	dp.mu.Lock()
	defer dp.mu.Unlock()
	var out []FlowInfo
	for _, st := range dp.ctl.states {
		if st == nil {
			continue
		}
		out = append(out, FlowInfo{
			InPort: st.mf.inPort, Key: st.mf.key, Mask: st.mask,
			Actions: slices.Clone(st.mf.actions), Ref: st.ref,
			Packets: st.packets, Bytes: st.bytes, TCPFlags: st.tcpFlags,
			Used: st.used, Created: st.created,
			Offloaded: dp.forwarding(st.mf.id, st.mf.gen),
		})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].InPort != out[j].InPort {
			return out[i].InPort < out[j].InPort
		}
		return out[i].Created < out[j].Created
	})
	return out
}

// DelFlows deletes every megaflow (dpctl/del-flows). On return no PMD uses
// any of them.
func (dp *Datapath) DelFlows() {
	dp.pmdMu.Lock()
	defer dp.pmdMu.Unlock()
	dp.stopForwardsLocked(func(uint32, *kernelFwd) bool { return true })
	dp.mu.Lock()
	for id, st := range dp.ctl.states {
		if st != nil {
			dp.deleteFlowLocked(uint32(id))
		}
	}
	dp.publishLocked()
	dp.mu.Unlock()
	dp.releaseDeleted()
	dp.syncLocked()
}

// mergeLocked adds the statistics PMDs published to the megaflows.
// +checklocks:dp.mu
func (dp *Datapath) mergeLocked(pub *pmdPublished) {
	c := &dp.ctl
	for _, d := range pub.deltas {
		if int(d.id) >= len(c.states) {
			continue
		}
		st := c.states[d.id]
		if st == nil || st.mf.gen != d.gen {
			continue // deleted meanwhile
		}
		st.packets += d.packets
		st.bytes += d.bytes
		st.tcpFlags |= d.tcpFlags
		st.newPackets += d.packets
		st.newBytes += d.bytes
		st.newTCPFlags |= d.tcpFlags
		st.used = max(st.used, d.used)
	}
	for id, h := range pub.subHits {
		if h != 0 {
			c.subHits[uint32(id)] += h
		}
	}
}
