package ofproto

import (
	"fmt"
	"strings"

	"github.com/govs/govs/internal/flow"
)

// learn translates a learn action (OVS's xlate_learn_action): it builds
// the flow-mod the specs describe from the working key, makes every bit it
// read exact in the megaflow, and leaves the flow-mod in c.learned:
// translation holds the bridges' read locks and may run on a PMD, so it
// never applies it. An upcall or packet-out queues it (learn.go); a
// revalidation only keeps it.
//
// Megaflow caching: a translation that learns is installed like any
// other, and its xcache entry keeps the flow-mods it learned
// (revalidate.go). Every bit learn read is exact in the megaflow, so they
// are the same for all of its packets. When revalidation sees the
// megaflow's packets (every round, 500 ms, and when the datapath deletes
// it), the entry queues them again, as OVS replays XC_LEARN: continued
// traffic keeps refreshing the learned rule (relearning an identical rule
// only restarts its timeouts, Bridge.learnFlow, and costs no
// revalidation), and one deleted or expired meanwhile comes back at the
// next round that sees traffic, not with the next packet. A megaflow with
// no traffic learns nothing.
func (c *xlateCtx) learn(l *Learn) {
	if l == nil {
		return
	}
	fm := NewFlowMod(FlowAdd)
	fm.Table, fm.Priority, fm.Cookie = l.Table, l.Priority, l.Cookie
	fm.IdleTimeout, fm.HardTimeout = l.IdleTimeout, l.HardTimeout
	if l.Flags&LearnSendFlowRem != 0 {
		fm.Flags |= FlagSendFlowRem
	}
	for i := range l.Specs {
		c.learnSpec(&l.Specs[i], fm)
	}
	if c.trace != nil {
		c.note("learn: %s", learnedText(fm))
		return
	}
	m := learnedMod{bridge: c.bs.b.Name(), fm: fm, src: c.rule}
	if c.rule != nil {
		m.srcModified = c.rule.Modified
	}
	c.learned = append(c.learned, m)
}

// learnSpec applies one spec to fm.
func (c *xlateCtx) learnSpec(s *LearnSpec, fm *FlowMod) {
	sub := s.Imm
	if s.SrcField != 0 {
		src := flow.FieldByID(s.SrcField)
		if src == nil {
			return
		}
		src.UnwildcardPrereqs(&c.wc)
		ones := allOnes16
		_, m := learnValue(src, s.SrcOfs, s.NBits, &ones)
		src.SetMasked(&c.wc, m, m)
		sub = readLearnSource(src, &c.key, s.SrcOfs, s.NBits)
	}
	switch s.Dst {
	case LearnMatch:
		if dst := flow.FieldByID(s.DstField); dst != nil {
			writeLearned(dst, s.DstOfs, s.NBits, &sub, &fm.Match)
		}
	case LearnLoad:
		dst := flow.FieldByID(s.DstField)
		if dst == nil {
			return
		}
		v, m := learnValue(dst, s.DstOfs, s.NBits, &sub)
		a := Action{Type: ActSetField, Field: dst.ID, Value: v, Mask: m, DstOfs: s.DstOfs, NBits: s.NBits}
		if dst.ID == flow.FieldInPort {
			a.DstOfs, a.NBits = 0, 0 // the whole 32-bit port
		}
		fm.Apply = append(fm.Apply, a)
	case LearnOutput:
		// As OVS: an output only to a port number that fits 16 bits and
		// is a real port or one of the reserved ports that make sense.
		for _, x := range sub[:14] {
			if x != 0 {
				return
			}
		}
		port := PortFrom16(uint16(sub[14])<<8 | uint16(sub[15]))
		switch {
		case port < 0xff00, port == PortInPort, port == PortFlood, port == PortLocal, port == PortAll:
			fm.Apply = append(fm.Apply, Action{Type: ActOutput, Port: port})
		}
	}
}

// learnedText describes a learned flow-mod for ofproto/trace.
func learnedText(fm *FlowMod) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "table=%d,priority=%d", fm.Table, fm.Priority)
	if fm.Cookie != 0 {
		fmt.Fprintf(&sb, ",cookie=%#x", fm.Cookie)
	}
	if fm.IdleTimeout != 0 {
		fmt.Fprintf(&sb, ",idle_timeout=%d", fm.IdleTimeout)
	}
	if fm.HardTimeout != 0 {
		fmt.Fprintf(&sb, ",hard_timeout=%d", fm.HardTimeout)
	}
	if m := flow.FormatMatch(&fm.Match.Key, &fm.Match.Mask); m != "" {
		sb.WriteString("," + m)
	}
	sb.WriteString(" actions=")
	for i := range fm.Apply {
		a := &fm.Apply[i]
		if i > 0 {
			sb.WriteByte(',')
		}
		switch a.Type {
		case ActOutput:
			fmt.Fprintf(&sb, "output:%d", a.Port)
		default:
			f := flow.FieldByID(a.Field)
			fmt.Fprintf(&sb, "load:%#x->%s", f.Uint(a.Value)>>a.DstOfs, f.Name)
		}
	}
	if len(fm.Apply) == 0 {
		sb.WriteString("drop")
	}
	return sb.String()
}
