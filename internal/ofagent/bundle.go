package ofagent

import (
	"bytes"
	"encoding/binary"
	"sync"

	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/of13"
	"github.com/govs/govs/internal/ofproto"
)

// Bundles: the ONF OpenFlow 1.3 extension (EXT-230) that
// `ovs-ofctl -O OpenFlow13 --bundle` uses. Messages added to an open
// bundle are decoded and converted at once (so a bad one is refused right
// away, as the spec asks) and applied at commit, all or nothing: the
// commit snapshots the flow tables and, if a flow-mod fails, restores
// them. The snapshot keeps rules' matches, instructions, timeouts, flags
// and counters; their creation times restart. Packets in flight during a
// commit may see part of it: atomicity is towards controllers.

// ONF bundle error codes (ONFBFC_*), sent as experimenter errors.
const (
	onfBadID      = 2302
	onfExists     = 2303
	onfClosed     = 2304
	onfBadType    = 2306
	onfMsgUnsup   = 2310
	onfMsgBadXID  = 2309
	onfMsgFailed  = 2313
	onfBadFlags   = 2307
	onfErrUnknown = 2300
)

// onfError is an OF1.3 experimenter error from ONF.
type onfError struct{ code uint16 }

func (e *onfError) Error() string { return "bundle error " + itoa(int(e.code)) }

func itoa(i int) string {
	var b [12]byte
	n := len(b)
	neg := i < 0
	if neg {
		i = -i
	}
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			break
		}
	}
	if neg {
		n--
		b[n] = '-'
	}
	return string(b[n:])
}

func (c *ofconn) sendONFError(code uint16, msg []byte) {
	b, start := ofp.AppendHeader(nil, ofp.Version13, ofp.TypeError, binary.BigEndian.Uint32(msg[4:]))
	b = binary.BigEndian.AppendUint16(b, ofp.ETExperimenter)
	b = binary.BigEndian.AppendUint16(b, code)
	b = binary.BigEndian.AppendUint32(b, of13.ONFExperimenter)
	b = append(b, msg[:min(len(msg), 64)]...)
	c.send(ofp.EndMessage(b, start))
}

// Bundle flags.
const (
	bundleAtomic  = 1
	bundleOrdered = 2
)

type bundle struct {
	id     uint32
	flags  uint16
	closed bool
	// mods are packed (a MiniMatch for the match) and kept in chunks,
	// so a bundle of 100 000 flow-mods is neither 78 MB of whole ones
	// nor regrown by copying as it fills.
	mods [][]ofproto.PackedFlowMod
}

// bundleChunk is how many flow-mods a chunk of a bundle holds (1 MB).
const bundleChunk = 4096

func (bd *bundle) add(p ofproto.PackedFlowMod) {
	if n := len(bd.mods); n == 0 || len(bd.mods[n-1]) == bundleChunk {
		size := bundleChunk
		if n == 0 {
			size = 64 // most bundles are small
		}
		bd.mods = append(bd.mods, make([]ofproto.PackedFlowMod, 0, size))
	}
	last := &bd.mods[len(bd.mods)-1]
	if len(*last) == cap(*last) { // the first chunk grows to full size
		*last = append(make([]ofproto.PackedFlowMod, 0, bundleChunk), *last...)
	}
	*last = append(*last, p)
}

func (c *ofconn) bundle13(m *of13.Experimenter, msg []byte) error {
	var err error
	switch m.ExpType {
	case of13.ONFTBundleControl:
		var bc of13.BundleControl
		if _, perr := bc.Parse(m.Data); perr != nil {
			return ofp.ErrBadLen
		}
		err = c.bundleControl(m.Xid, &bc)
	case of13.ONFTBundleAddMessage:
		var ba of13.BundleAdd
		if _, perr := ba.Parse(m.Data); perr != nil {
			return ofp.ErrBadLen
		}
		err = c.bundleAdd(m.Xid, &ba)
	default:
		return ofp.ErrBadExpType
	}
	if e, ok := err.(*onfError); ok {
		c.sendONFError(e.code, msg)
		return nil
	}
	return err
}

func (c *ofconn) bundleControl(xid uint32, bc *of13.BundleControl) error {
	if bc.Flags&^(bundleAtomic|bundleOrdered) != 0 {
		return &onfError{onfBadFlags}
	}
	bd := c.bundles[bc.BundleID]
	reply := func(t uint16) {
		c.sendMsg(of13.NewBundleControl(xid, bc.BundleID, t, bc.Flags))
	}
	switch bc.Type {
	case of13.BundleOpenRequest:
		if bd != nil {
			return &onfError{onfExists}
		}
		c.bundles[bc.BundleID] = &bundle{id: bc.BundleID, flags: bc.Flags}
		reply(of13.BundleOpenReply)
	case of13.BundleCloseRequest:
		if bd == nil {
			return &onfError{onfBadID}
		}
		if bd.closed {
			return &onfError{onfClosed}
		}
		bd.closed = true
		reply(of13.BundleCloseReply)
	case of13.BundleCommitRequest:
		if bd == nil {
			return &onfError{onfBadID}
		}
		delete(c.bundles, bc.BundleID)
		if err := c.a.commit(bd.mods); err != nil {
			return err
		}
		reply(of13.BundleCommitReply)
	case of13.BundleDiscardRequest:
		if bd == nil {
			return &onfError{onfBadID}
		}
		delete(c.bundles, bc.BundleID)
		reply(of13.BundleDiscardReply)
	default:
		return &onfError{onfBadType}
	}
	return nil
}

func (c *ofconn) bundleAdd(xid uint32, ba *of13.BundleAdd) error {
	inner, _, err := ba.Inner()
	if err != nil {
		return ofp.ErrBadLen
	}
	bd := c.bundles[ba.BundleID]
	if bd == nil {
		// Implicit open, as ONF allows.
		bd = &bundle{id: ba.BundleID, flags: ba.Flags}
		c.bundles[ba.BundleID] = bd
	}
	if bd.closed {
		return &onfError{onfClosed}
	}
	if binary.BigEndian.Uint32(inner[4:]) != xid {
		return &onfError{onfMsgBadXID}
	}
	if inner[0] == ofp.Version13 && inner[1] == of13.TypeFlowMod {
		err = c.bundleFlowMod(inner)
	} else {
		err = c.bundleOther(inner)
	}
	if err != nil {
		return err
	}
	bd.add(c.bundleFM.Pack())
	return nil
}

// bundleOther converts into c.bundleFM a message added to a bundle that
// does not say it is an OpenFlow 1.3 flow-mod: the generic decoder
// judges it, and anything but a flow-mod is refused as ONF says.
func (c *ofconn) bundleOther(inner []byte) error {
	m, err := of13.Decode(inner)
	if err != nil {
		return err
	}
	fmw, ok := m.(*of13.FlowMod)
	if !ok {
		return &onfError{onfMsgUnsup}
	}
	return flowModFrom13(&c.bundleFM, fmw)
}

// bundleFlowMod decodes and converts an OpenFlow 1.3 flow-mod added to a
// bundle into c.bundleFM, the usual case, made cheap. It decodes into the
// connection's own of13.FlowMod, so a bundle of 100 000 reuses one and
// its list of match fields. And instructions equal, byte for byte, to the
// last ones converted are not decoded again: flows loaded in bulk mostly
// share their actions, and the same bytes convert to the same
// instructions. The rules they become share the action lists, as rules
// never change a list they hold. The errors, and their order, are
// flowModFrom13's.
func (c *ofconn) bundleFlowMod(inner []byte) error {
	fmw, memo := &c.bundleWire, &c.bundleInst
	insts, err := fmw.DecodeHead(inner)
	if err != nil {
		return err
	}
	hit := memo.ok && bytes.Equal(insts, memo.wire)
	if !hit {
		if fmw.Instructions, err = of13.DecodeInstructions(insts); err != nil {
			return err
		}
	}
	fm := &c.bundleFM
	if err := flowModHeadFrom13(fm, fmw); err != nil || !hasInstructions(fm) {
		return err
	}
	if !hit {
		in, err := InstructionsFrom13(fmw.Instructions)
		if err != nil {
			return err
		}
		*memo = instMemo{wire: append(memo.wire[:0], insts...), in: in, ok: true}
	}
	fm.Instructions = memo.in
	return nil
}

// instMemo is the last instruction list a connection's bundle converted.
type instMemo struct {
	wire []byte // as sent
	in   ofproto.Instructions
	ok   bool
}

// commitState serialises bundle commits. FLOW_REMOVED needs no holding
// back: a commit is one ofproto transaction, which reports the rules it
// removed only once it has succeeded.
type commitState struct {
	mu sync.Mutex
}

// commit applies mods all or nothing, as one ofproto transaction: the
// datapath is revalidated once, after the last flow-mod, and a failure
// leaves the tables exactly as they were.
func (a *Agent) commit(mods [][]ofproto.PackedFlowMod) error {
	cs := &a.commitState
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if i, err := a.b.FlowModsPacked(mods); err != nil {
		a.log.Debug("bundle commit failed", "flow_mod", i, "err", err)
		return &onfError{onfMsgFailed}
	}
	return nil
}
