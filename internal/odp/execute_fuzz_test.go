package odp_test

import (
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
	"github.com/govs/govs/internal/packet"
)

// FuzzExecute runs a list of actions decoded from the input on a packet
// from the input. Execute must never panic, never touch the frame outside
// the packet's headroom and bytes, and leave offsets inside the packet.
// Input: n (action count), n × 35-byte actions (op, field, arg, arg2 as
// 2+2 bytes, 16 value, 13 mask bytes), then the packet.
func FuzzExecute(f *testing.F) {
	ip := ip4(layers.IPProtocolTCP)
	v4 := ser(f, eth(layers.EthernetTypeIPv4), ip, tcp(ip), data)
	ip6l := ip6(layers.IPProtocolICMPv6)
	nd := ser(f, eth(layers.EthernetTypeIPv6), ip6l, icmp6(ip6l, 135, 0),
		&layers.ICMPv6NeighborSolicitation{TargetAddress: ip6B,
			Options: layers.ICMPv6Options{{Type: layers.ICMPv6OptSourceAddress, Data: macA}}})
	seed := func(pkt []byte, acts ...odp.Action) []byte {
		in := []byte{byte(len(acts))}
		for _, a := range acts {
			in = append(in, byte(a.Op), byte(a.Field), byte(a.Arg>>8), byte(a.Arg), byte(a.Arg2>>8), byte(a.Arg2))
			in = append(in, a.Value[:16]...)
			in = append(in, a.Mask[:13]...)
		}
		return append(in, pkt...)
	}
	f.Add(seed(v4, odp.PushVLAN(0x8100, 10), odp.Set(odp.FieldTpSrc, u16(1)), odp.PopVLAN()))
	f.Add(seed(v4, odp.PushMPLS(0x8847, 1<<12|packet.MPLSBOS|64), odp.PopMPLS(0x800), odp.Set(odp.FieldIPv4Src, ip4C)))
	f.Add(seed(nd, odp.Set(odp.FieldNdTarget, ip6C), odp.Set(odp.FieldNdSLL, macC), odp.Set(odp.FieldIPv6Src, ip6C)))
	f.Add(seed(v4[:30], odp.Set(odp.FieldIPv4TTL, []byte{1})))

	const actLen = 35
	frame := make([]byte, packet.FrameSize)
	pool, err := packet.NewPool(4)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { pool.Close() })
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		n := int(in[0] % 8)
		in = in[1:]
		var acts [8]odp.Action
		for i := 0; i < n && len(in) >= actLen; i++ {
			a := &acts[i]
			a.Op, a.Field = odp.Op(in[0]%uint8(odp.OpDrop+1)), odp.Field(in[1]%uint8(odp.NumFields))
			a.Arg, a.Arg2 = uint32(in[2])<<8|uint32(in[3]), uint32(in[4])<<8|uint32(in[5])
			copy(a.Value[:], in[6:22])
			copy(a.Mask[:], in[22:35])
			in = in[actLen:]
		}
		pkt := in
		if len(pkt) > packet.FrameSize-packet.Headroom-64 {
			pkt = pkt[:packet.FrameSize-packet.Headroom-64]
		}
		// Fill the frame with a pattern so writes outside the packet show.
		for i := range frame {
			frame[i] = 0xa5
		}
		var b packet.Buffer
		b.Reset(frame, packet.Headroom, len(pkt))
		copy(b.Data(), pkt)
		var k flow.Key
		flow.Parse(&b, &k)
		lowest := b.Off // the lowest start the packet had
		for i := range n {
			ok := odp.Execute(&b, &acts[i], pool)
			lowest = min(lowest, b.Off)
			if !ok {
				break
			}
			if b.Flags&packet.Copied != 0 {
				pool.Put(&b) // a push moved it; the rest is checked elsewhere
				return
			}
			if b.L3Off != packet.NoOffset && int(b.L3Off) > b.Len || b.L4Off != packet.NoOffset && int(b.L4Off) > b.Len {
				t.Fatalf("offsets %d/%d beyond packet of %d bytes", b.L3Off, b.L4Off, b.Len)
			}
		}
		// Pushes grow into the headroom and pops leave stale bytes behind
		// the new start, so only what lies before the packet's lowest
		// start and after its original end must be as it was.
		for i, c := range frame {
			if c != 0xa5 && (i < lowest || i >= packet.Headroom+len(pkt)) {
				t.Fatalf("Execute wrote at frame offset %d (packet now at %d, %d bytes)", i, b.Off, b.Len)
			}
		}
	})
}
