package dpif

import (
	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
	"github.com/govs/govs/internal/packet"
)

// executor carries out datapath actions on groups of packets and batches
// outputs per port. Each PMD has one; the non-PMD path (Execute, for
// packet-out) has its own, serialised by Datapath.execMu. An executor is
// used by one goroutine at a time.
//
// Output and packet memory: an output queues a copy of the packet's
// descriptor, not of its bytes, because the bytes stay valid until the
// next Recv on the queue they came from and every tx batch is flushed
// before that. (A PMD's megaflows whose only action is one output queue the
// received descriptor itself: pmd.outputGroup.) When later actions of the
// same list change the packet, the output copies the bytes into a frame of
// the executor's pool instead, so the queued packet is the one that was
// output. Frames from the pool
// (those copies and the copies odp.Execute makes of read-only packets) are
// returned after the flush.
type executor struct {
	dp      *Datapath
	execIdx int // 0: non-PMD path; PMD i: i+1 (tx queue selection)
	pool    *packet.Pool
	now     int64

	tx      []*packet.Batch // by odp port number, made on first use
	pending []uint32        // ports whose tx batch is not empty
	toFree  []packet.Buffer // pool frames to return after the flush
	drops   dropCounters
	out     outputCounters
}

// outputCounters count what flushPort handed to ports: OVS's "avg. packets
// per output batch" is packets/batches.
type outputCounters struct {
	packets, batches uint64
}

func (a outputCounters) add(b outputCounters) outputCounters {
	return outputCounters{a.packets + b.packets, a.batches + b.batches}
}

// dropCounters name every reason the datapath drops a packet.
type dropCounters struct {
	NoPort      uint64 // output to a port that does not exist
	PoolEmpty   uint64 // no frame to copy a packet into
	Action      uint64 // odp.Execute refused the packet (or explicit drop action)
	Meter       uint64 // a meter band dropped it
	Unsupported uint64 // recirculation and conntrack are not there yet
	TxFailed    uint64 // the port's Send did not accept it
	NoActions   uint64 // the megaflow's action list is empty
	UpcallLost  uint64 // the slow path failed
}

func newExecutor(dp *Datapath, execIdx int) (*executor, error) {
	pool, err := packet.NewPool(dp.cfg.PoolFrames)
	if err != nil {
		return nil, err
	}
	return &executor{
		dp:      dp,
		execIdx: execIdx,
		pool:    pool,
		toFree:  make([]packet.Buffer, 0, packet.BatchSize),
		pending: make([]uint32, 0, 8),
	}, nil
}

func (x *executor) close() { x.pool.Close() }

// execute runs acts on pkts (keys[i] is pkts[i]'s flow key). pkts and
// keys are scratch: they are compacted as packets drop.
func (x *executor) execute(snap *snapshot, pkts []*packet.Buffer, keys []*flow.Key, acts odp.Actions) {
	if len(acts) == 0 {
		x.drops.NoActions += uint64(len(pkts))
		x.release(pkts)
		return
	}
	if len(acts) == 1 && acts[0].Op == odp.OpOutput {
		// The most common megaflow: one output, nothing after it.
		x.output(snap, acts[0].Arg, pkts, false)
		x.release(pkts)
		return
	}
	for ai := range acts {
		a := &acts[ai]
		switch a.Op {
		case odp.OpOutput:
			last := ai == len(acts)-1
			clone := !last && modifiesPacket(acts[ai+1:])
			x.output(snap, a.Arg, pkts, clone)
		case odp.OpUserspace:
			for i, p := range pkts {
				x.dp.up.Userspace(p, keys[i], a)
			}
		case odp.OpMeter:
			pkts, keys = x.meter(snap, a.Arg, pkts, keys)
		case odp.OpRecirc, odp.OpCT:
			x.drops.Unsupported += uint64(len(pkts))
			x.release(pkts)
			return
		default:
			n := 0
			for i, p := range pkts {
				if odp.Execute(p, a, x.pool) {
					pkts[n], keys[n] = p, keys[i]
					n++
					continue
				}
				x.drops.Action++
				x.release(pkts[i : i+1])
			}
			pkts, keys = pkts[:n], keys[:n]
		}
		if len(pkts) == 0 {
			return
		}
	}
	x.release(pkts)
}

// modifiesPacket reports whether any of acts may change packet bytes.
func modifiesPacket(acts odp.Actions) bool {
	for i := range acts {
		switch acts[i].Op {
		case odp.OpOutput, odp.OpUserspace, odp.OpTrunc, odp.OpDrop:
		default:
			return true
		}
	}
	return false
}

// output queues pkts on port's tx batch; clone copies their bytes first.
func (x *executor) output(snap *snapshot, port uint32, pkts []*packet.Buffer, clone bool) {
	if snap.port(port) == nil {
		x.drops.NoPort += uint64(len(pkts))
		return
	}
	tb := x.txBatch(port)
	if clone {
		for _, p := range pkts {
			x.outputCopy(snap, port, tb, p)
		}
		return
	}
	for len(pkts) > 0 {
		n := tb.Len()
		if n == packet.BatchSize {
			x.flushPort(snap, port)
			n = 0
		}
		if n == 0 {
			x.pending = append(x.pending, port)
		}
		chunk := pkts[:min(len(pkts), packet.BatchSize-n)]
		pkts = pkts[len(chunk):]
		for _, p := range chunk {
			// The descriptor, not the bytes: they stay valid until the
			// flush (see executor).
			s := tb.Slot(n)
			n++
			*s = *p
			s.Flags &^= packet.Copied
			if p.TruncLen != 0 {
				s.SetLen(odp.OutputLen(p))
				s.TruncLen = 0
				p.TruncLen = 0
			}
			tb.Add(s)
		}
	}
}

// outputCopy queues a copy of p's bytes on port's tx batch tb.
func (x *executor) outputCopy(snap *snapshot, port uint32, tb *packet.Batch, p *packet.Buffer) {
	if tb.Len() == packet.BatchSize {
		x.flushPort(snap, port)
	}
	s := tb.Slot(tb.Len())
	if err := x.pool.Get(s); err != nil {
		x.drops.PoolEmpty++
		return
	}
	if tb.Len() == 0 {
		x.pending = append(x.pending, port)
	}
	s.SetLen(odp.OutputLen(p))
	copy(s.Data(), p.Data())
	s.InPort, s.Hash = p.InPort, p.Hash
	x.toFree = append(x.toFree, *s)
	s.Flags = 0
	s.TruncLen = 0
	p.TruncLen = 0
	tb.Add(s)
}

func (x *executor) txBatch(port uint32) *packet.Batch {
	if int(port) >= len(x.tx) {
		x.tx = append(x.tx, make([]*packet.Batch, int(port)+1-len(x.tx))...)
	}
	tb := x.tx[port]
	if tb == nil {
		tb = packet.NewBatch()
		x.tx[port] = tb
	}
	return tb
}

// flushPort sends port's tx batch on this executor's tx queue.
func (x *executor) flushPort(snap *snapshot, port uint32) {
	tb := x.tx[port]
	if tb.Len() == 0 {
		return
	}
	dp := snap.port(port)
	if dp == nil {
		x.drops.NoPort += uint64(tb.Len())
		tb.Clear()
		return
	}
	if taps := x.dp.taps.cur.Load(); taps != nil {
		taps.tx(port, tb.Pkts, x.now)
	}
	qid, lock := dp.txq(x.execIdx)
	if lock != nil {
		lock.Lock()
	}
	sent := dp.dev.Send(qid, tb)
	if lock != nil {
		lock.Unlock()
	}
	x.drops.TxFailed += uint64(tb.Len() - sent)
	x.out.packets += uint64(sent)
	x.out.batches++
	tb.Clear()
}

// flush sends every pending tx batch and returns copied frames.
func (x *executor) flush(snap *snapshot) {
	for _, port := range x.pending {
		x.flushPort(snap, port)
	}
	x.pending = x.pending[:0]
	for i := range x.toFree {
		x.pool.Put(&x.toFree[i])
	}
	x.toFree = x.toFree[:0]
}

// release ends the processing of pkts: frames copied into the pool go back
// after the flush (an output may still point at them).
func (x *executor) release(pkts []*packet.Buffer) {
	for _, p := range pkts {
		if p.Flags&packet.Copied != 0 {
			p.Flags &^= packet.Copied
			x.toFree = append(x.toFree, *p)
		}
	}
}
