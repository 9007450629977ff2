package nx

import (
	"encoding/binary"

	"github.com/govs/govs/internal/ofp"
)

// ActLearn is NXAST_LEARN: add or refresh a flow built from the packet.
const ActLearn uint16 = 16

// Learn flags (enum nx_learn_flags).
const (
	LearnSendFlowRem   uint16 = 1 << 0
	LearnDeleteLearned uint16 = 1 << 1
)

// Flow-mod spec header bits: n_bits in the low 10, the source kind at bit
// 13, the destination kind at bits 11-12; bits 10, 14 and 15 are zero.
const (
	learnNBitsMask = 0x3ff
	learnSrcImm    = 1 << 13
	learnDstShift  = 11
	learnDstMask   = 3 << learnDstShift
)

// LearnDst is what a flow_mod_spec adds to the learned flow.
type LearnDst uint8

const (
	LearnDstMatch  LearnDst = 0 // a match on Dst[DstOfs..]
	LearnDstLoad   LearnDst = 1 // a load into Dst[DstOfs..]
	LearnDstOutput LearnDst = 2 // an output to the port the source holds
)

// LearnSpec is one flow_mod_spec: NBits bits from a field (Src at SrcOfs)
// or an immediate value (Imm, 2*ceil(NBits/16) bytes as on the wire) go to
// the destination Dst at DstOfs (match and load only). Src and Dst are
// NXM headers.
type LearnSpec struct {
	NBits     uint16
	Immediate bool
	DstType   LearnDst
	Src       uint32
	SrcOfs    uint16
	Imm       []byte
	Dst       uint32
	DstOfs    uint16
}

// Learn is NXAST_LEARN. Pad is how many zero bytes follow the specs beyond
// the minimum that makes the action a multiple of 8 (kept for a
// byte-identical round trip).
type Learn struct {
	IdleTimeout    uint16
	HardTimeout    uint16
	Priority       uint16
	Cookie         uint64
	Flags          uint16
	TableID        uint8
	FinIdleTimeout uint16
	FinHardTimeout uint16
	Specs          []LearnSpec
	Pad            int
}

// learnImmBytes is the wire size of an immediate of n bits: whole 16-bit
// words.
func learnImmBytes(n uint16) int { return 2 * ((int(n) + 15) / 16) }

// wireLen is the spec's size on the wire, header included.
func (s *LearnSpec) wireLen() int {
	n := 2
	if s.Immediate {
		n += learnImmBytes(s.NBits)
	} else {
		n += 6
	}
	if s.DstType != LearnDstOutput {
		n += 6
	}
	return n
}

// AppendAction implements ofp.Action.
func (a *Learn) AppendAction(b []byte) []byte {
	n := 32
	for i := range a.Specs {
		n += a.Specs[i].wireLen()
	}
	n += ofp.Pad8(n) + a.Pad
	start := len(b)
	b = binary.BigEndian.AppendUint16(header(b, ActLearn, n), a.IdleTimeout)
	b = binary.BigEndian.AppendUint16(b, a.HardTimeout)
	b = binary.BigEndian.AppendUint16(b, a.Priority)
	b = binary.BigEndian.AppendUint64(b, a.Cookie)
	b = binary.BigEndian.AppendUint16(b, a.Flags)
	b = append(b, a.TableID, 0)
	b = binary.BigEndian.AppendUint16(b, a.FinIdleTimeout)
	b = binary.BigEndian.AppendUint16(b, a.FinHardTimeout)
	for i := range a.Specs {
		s := &a.Specs[i]
		h := s.NBits&learnNBitsMask | uint16(s.DstType)<<learnDstShift
		if s.Immediate {
			h |= learnSrcImm
		}
		b = binary.BigEndian.AppendUint16(b, h)
		if s.Immediate {
			imm := learnImmBytes(s.NBits)
			b = append(b, s.Imm[:min(len(s.Imm), imm)]...)
			for k := len(s.Imm); k < imm; k++ {
				b = append(b, 0)
			}
		} else {
			b = binary.BigEndian.AppendUint32(b, s.Src)
			b = binary.BigEndian.AppendUint16(b, s.SrcOfs)
		}
		if s.DstType != LearnDstOutput {
			b = binary.BigEndian.AppendUint32(b, s.Dst)
			b = binary.BigEndian.AppendUint16(b, s.DstOfs)
		}
	}
	for len(b)-start < n {
		b = append(b, 0)
	}
	return b
}

// Errors OVS gives for a malformed learn (decode_LEARN_common and
// decode_LEARN_specs).
var (
	errLearnArg = &ofp.Error{Type: ofp.ETBadAction, Code: ofp.BACBadArgument}
)

// decodeLearn decodes NXAST_LEARN (b is the whole action). It checks the
// wire form only; which fields the specs name, and whether their bit
// ranges fit, is the agent's business.
func decodeLearn(b []byte) (ofp.Action, error) {
	if len(b) < 32 {
		return nil, ofp.ErrBadActionLen
	}
	a := &Learn{
		IdleTimeout:    binary.BigEndian.Uint16(b[10:]),
		HardTimeout:    binary.BigEndian.Uint16(b[12:]),
		Priority:       binary.BigEndian.Uint16(b[14:]),
		Cookie:         binary.BigEndian.Uint64(b[16:]),
		Flags:          binary.BigEndian.Uint16(b[24:]),
		TableID:        b[26],
		FinIdleTimeout: binary.BigEndian.Uint16(b[28:]),
		FinHardTimeout: binary.BigEndian.Uint16(b[30:]),
	}
	if b[27] != 0 || a.TableID == 0xff || a.Flags&^(LearnSendFlowRem|LearnDeleteLearned) != 0 {
		return nil, errLearnArg
	}
	p := b[32:]
	for len(p) >= 2 {
		h := binary.BigEndian.Uint16(p)
		if h == 0 {
			break
		}
		s := LearnSpec{
			NBits:     h & learnNBitsMask,
			Immediate: h&learnSrcImm != 0,
			DstType:   LearnDst(h & learnDstMask >> learnDstShift),
		}
		// Reserved bits, the reserved destination and an output from an
		// immediate are all OVS's OFPBAC_BAD_ARGUMENT.
		if h&^(learnNBitsMask|learnSrcImm|learnDstMask) != 0 || s.DstType > LearnDstOutput ||
			(s.DstType == LearnDstOutput && s.Immediate) {
			return nil, errLearnArg
		}
		if len(p) < s.wireLen() {
			return nil, ofp.ErrBadActionLen
		}
		q := p[2:]
		if s.Immediate {
			n := learnImmBytes(s.NBits)
			s.Imm, q = q[:n:n], q[n:]
		} else {
			s.Src, s.SrcOfs, q = binary.BigEndian.Uint32(q), binary.BigEndian.Uint16(q[4:]), q[6:]
		}
		if s.DstType != LearnDstOutput {
			s.Dst, s.DstOfs = binary.BigEndian.Uint32(q), binary.BigEndian.Uint16(q[4:])
		}
		a.Specs = append(a.Specs, s)
		p = p[s.wireLen():]
	}
	if !ofp.AllZero(p) {
		return nil, errLearnArg
	}
	used := len(b) - len(p)
	a.Pad = len(b) - used - ofp.Pad8(used)
	if a.Pad < 0 {
		// Only possible with an odd tail, which a multiple-of-8 action
		// cannot have; kept as a guard for the encoder's arithmetic.
		return nil, ofp.ErrBadActionLen
	}
	return a, nil
}
