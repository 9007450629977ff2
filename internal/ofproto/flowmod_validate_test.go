package ofproto

import (
	"math/rand/v2"
	"testing"

	"github.com/govs/govs/internal/flow"
)

// TestMatchMemoAgrees runs long sequences of matches of a few shapes, with
// values that make them valid or not, through one transaction's memo and
// checks every verdict against ValidateMatch's: a memo that forgot a field
// its verdicts depend on would call some invalid match valid.
func TestMatchMemoAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(vs ...uint64) uint64 { return vs[rng.IntN(len(vs))] }
	var memo matchMemo
	hits := 0
	// cur changes a little from one match to the next, as a bulk load's
	// do: now its mask, now one of the key fields the verdict depends on;
	// the other values are new each time.
	var cur Match
	for i := range 200000 {
		if i == 0 || rng.IntN(10) == 0 {
			cur.Mask.EthType = uint16(pick(0, 0xffff, 0xff00))
			cur.Mask.NwProto = uint8(pick(0, 0xff))
			cur.Mask.NwSrc = uint32(pick(0, 0xffffffff, 0xffffff00))
			cur.Mask.TpSrc = uint16(pick(0, 0xffff, 0xff))
			cur.Mask.TpDst = uint16(pick(0, 0xffff))
			cur.Mask.VLANs[0].TCI = uint16(pick(0, 0xffff, flow.VLANCFI, 0x0fff))
			cur.Mask.NwFrag = uint8(pick(0, flow.FragAny|flow.FragLater, flow.FragLater))
			cur.Mask.InPort = uint32(pick(0, 0xffffffff))
			cur.Mask.NdTarget = [16]byte{}
			if rng.IntN(3) == 0 {
				cur.Mask.NdTarget = [16]byte{15: 0xff}
			}
		}
		switch rng.IntN(12) {
		case 0:
			cur.Key.EthType = uint16(pick(flow.EthTypeIPv4, flow.EthTypeIPv6, flow.EthTypeARP, 0x1234))
		case 1:
			cur.Key.NwProto = uint8(pick(flow.IPProtoTCP, flow.IPProtoUDP, flow.IPProtoICMP, flow.IPProtoICMPv6, 99))
		case 2:
			cur.Key.TpSrc = uint16(pick(1, 80, flow.ICMPv6NeighborSolicit, flow.ICMPv6NeighborAdvert))
		case 3:
			cur.Key.VLANs[0].TCI = uint16(pick(0, flow.VLANCFI|5, 5, flow.VLANCFI))
		case 4:
			cur.Key.NwFrag = uint8(pick(0, flow.FragAny, flow.FragLater, flow.FragAny|flow.FragLater))
		case 5:
			cur.Key.InPort = uint32(pick(1, 2))
		}
		m := cur
		m.Key.NwSrc = uint32(rng.Uint64())
		m.Key.TpDst = uint16(rng.Uint64())
		m.Key.NdTarget[15] = byte(rng.Uint64())
		if rng.IntN(8) != 0 { // mostly no value bits outside the mask
			kw, mw := m.Key.Words(), m.Mask.Words()
			for j := range kw {
				kw[j] &= mw[j]
			}
		}
		want := ValidateMatch(&m)
		wasOK := memo.ok && memo.mask == m.Mask
		got := memo.validate(&m)
		if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
			t.Fatalf("match %d %s: memo says %v, ValidateMatch %v", i, flow.FormatMatch(&m.Key, &m.Mask), got, want)
		}
		if wasOK && got == nil {
			hits++
		}
	}
	if hits < 1000 {
		t.Fatalf("only %d matches were judged by the memo", hits)
	}
}
