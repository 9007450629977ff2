package ofagent

import (
	"iter"
	"time"

	"github.com/govs/govs/internal/ofproto"
)

// replyPacker packs statistics entries into multipart replies as they
// are appended, so a reply of many entries (a dump of 100 000 flows) is
// written out message by message rather than built whole first. Each
// body starts with prefix; an entry that takes a body past budget goes to
// the next one (an entry alone may exceed it). send gets each body, more
// set for all but the last, and must not keep it.
type replyPacker struct {
	prefix []byte
	budget int
	body   []byte
	send   func(body []byte, more bool)
}

func newReplyPacker(prefix []byte, budget int, send func(body []byte, more bool)) *replyPacker {
	p := &replyPacker{prefix: prefix, budget: budget, send: send}
	p.body = append([]byte(nil), prefix...) // grows to one reply's size, then is reused
	return p
}

// mark returns where the next entry starts: append it to p.body, then
// call added with the mark.
func (p *replyPacker) mark() int { return len(p.body) }

// added ends the entry appended since mark n, sending the body before it
// if the entry does not fit.
func (p *replyPacker) added(n int) {
	if len(p.body) <= p.budget || n == len(p.prefix) {
		return
	}
	entry := len(p.body) - n
	p.send(p.body[:n], true)
	// Move the entry down, after the prefix the body already starts with.
	copy(p.body[len(p.prefix):], p.body[n:])
	p.body = p.body[:len(p.prefix)+entry]
}

// finish sends the last body; p may then pack another reply.
func (p *replyPacker) finish() {
	p.send(p.body, false)
	p.body = append(p.body[:0], p.prefix...)
}

// packFlowStats writes the flow stats entries of the rules in chunks
// into p's replies as it goes, each filled by fill into one reused entry,
// and sends the last reply. The memo keeps only what the rules own (their
// action lists, which a modify replaces rather than changes), never a
// pointer into a chunk.
func packFlowStats[E any, PE interface {
	*E
	Append([]byte) []byte
}](p *replyPacker, chunks iter.Seq[[]ofproto.FlowView], now time.Time, fill func(PE, *ofproto.FlowView, time.Time, *dumpMemo)) {
	var e E
	var memo dumpMemo
	for rules := range chunks {
		for i := range rules {
			fill(&e, &rules[i], now, &memo)
			n := p.mark()
			p.body = PE(&e).Append(p.body)
			p.added(n)
		}
	}
	p.finish()
}

// dumpChunk is how many rules a flow dump views at a time.
const dumpChunk = 4096
