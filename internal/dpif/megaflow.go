package dpif

import (
	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
)

// megaflow is one installed datapath flow as PMDs see it. It is immutable
// once published: changing a megaflow's actions publishes a new megaflow
// with the same id and gen.
type megaflow struct {
	key     flow.Key // masked by the subtable's mask
	actions odp.Actions
	id      uint32 // slot in the flow table; reused after deletion
	gen     uint32 // distinguishes the flows that used slot id over time
	inPort  uint32
}

// Flow table chunks: PMDs find a megaflow by id (EMC entries hold ids, so
// they stay pointer-free) through a two-level table, so that publishing a
// change copies one chunk and the chunk index rather than every flow.
const (
	chunkShift = 6
	chunkSize  = 1 << chunkShift
	chunkMask  = chunkSize - 1
)

// flowTable maps megaflow ids to megaflows. A published flowTable is never
// modified.
type flowTable struct {
	chunks []*[chunkSize]*megaflow
}

func (t *flowTable) get(id uint32) *megaflow {
	c := id >> chunkShift
	if int(c) >= len(t.chunks) {
		return nil
	}
	return t.chunks[c][id&chunkMask]
}

// flowTableBuilder is the control side's copy-on-write view of the flow
// table: changes copy what they touch once per publication.
type flowTableBuilder struct {
	cur        flowTable
	topCopied  bool
	chunkFresh map[uint32]bool // chunks already copied since the last publish
}

func (b *flowTableBuilder) set(id uint32, mf *megaflow) {
	if !b.topCopied {
		b.cur.chunks = append([]*[chunkSize]*megaflow(nil), b.cur.chunks...)
		b.topCopied = true
	}
	c := id >> chunkShift
	for int(c) >= len(b.cur.chunks) {
		b.cur.chunks = append(b.cur.chunks, new([chunkSize]*megaflow))
		b.chunkFresh[uint32(len(b.cur.chunks)-1)] = true
	}
	if !b.chunkFresh[c] {
		cp := *b.cur.chunks[c]
		b.cur.chunks[c] = &cp
		b.chunkFresh[c] = true
	}
	b.cur.chunks[c][id&chunkMask] = mf
}

// publish returns the table to publish and starts a new round of copies.
func (b *flowTableBuilder) publish() flowTable {
	b.topCopied = false
	clear(b.chunkFresh)
	return b.cur
}
