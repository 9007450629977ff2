package ofproto

import (
	"testing"

	"github.com/govs/govs/internal/dpif"
	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
	"github.com/govs/govs/internal/packet"
)

// execFrame runs acts on a copy of frame with the datapath's own action
// code and returns the frame sent by the first output.
func execFrame(t *testing.T, frame []byte, acts odp.Actions) []byte {
	t.Helper()
	mem := make([]byte, 64+len(frame)+64)
	var b packet.Buffer
	b.Reset(mem, 64, len(frame))
	copy(b.Data(), frame)
	var k flow.Key
	flow.Parse(&b, &k)
	for i := range acts {
		if acts[i].Op == odp.OpOutput {
			return append([]byte(nil), b.Data()...)
		}
		if !odp.Execute(&b, &acts[i], nil) {
			t.Fatalf("action %d of %v dropped the packet", i, acts)
		}
	}
	t.Fatalf("no output in %v", acts)
	return nil
}

// mplsOver is 02..02 <- 02..01, one MPLS label (100, TTL 64) over inner.
func mplsOver(inner []byte) []byte {
	f := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0x47, 0, 0x06, 0x41, 64}
	return append(f, inner...)
}

// IPv4 TCP 10.0.0.1:1234 -> 10.0.0.2:80, TTL 32, with a right checksum.
func ipv4TTL32() []byte {
	ip := []byte{0x45, 0, 0, 40, 0, 0, 0, 0, 32, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0x04, 0xd2, 0, 80, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0}
	packet.IPv4(ip).SetChecksum(packet.IPv4(ip).CalculateChecksum())
	return ip
}

// IPv6 10::10 -> 20::20 TCP, hop limit 32.
func ipv6HL32() []byte {
	return []byte{0x60, 0, 0, 100, 0, 20, 6, 32,
		0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
		0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20,
		0x2b, 0x67, 0x08, 0xae, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0}
}

// TestXlateCopyTTLOneLabel is Ryu's 11_COPY_TTL_OUT and 12_COPY_TTL_IN:
// one label (TTL 64) over IPv4 or IPv6 (TTL 32). The IP TTL is not in the
// datapath key; it is read from the packet, and the packet that comes out
// has the TTL copied (and a right IPv4 checksum).
func TestXlateCopyTTLOneLabel(t *testing.T) {
	for _, tc := range []struct {
		name     string
		act      ActionType
		inner    []byte
		mplsTTL  uint8
		innerTTL uint8
	}{
		{"out/ipv4", ActCopyTTLOut, ipv4TTL32(), 32, 32},
		{"out/ipv6", ActCopyTTLOut, ipv6HL32(), 32, 32},
		{"in/ipv4", ActCopyTTLIn, ipv4TTL32(), 64, 64},
		{"in/ipv6", ActCopyTTLIn, ipv6HL32(), 64, 64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, b, _ := newTestSwitch(t, 2)
			addFlow(t, b, 0, 10, matchOf(flow.FieldEthType, int(flow.EthTypeMPLS)),
				apply(Action{Type: tc.act}, outAct(2)))
			frame := mplsOver(tc.inner)
			u, _ := upcallFrame(t, o, frame)
			if !u.NoInstall {
				t.Error("megaflow installed: its key does not hold the IP TTL")
			}
			got := execFrame(t, frame, u.Actions)
			if len(got) != len(frame) {
				t.Fatalf("actions %v: frame %x, want %d bytes", u.Actions, got, len(frame))
			}
			if got[17] != tc.mplsTTL || got[14] != 0 || got[15] != 0x06 || got[16] != 0x41 {
				t.Errorf("actions %v: label % x, want TTL %d", u.Actions, got[14:18], tc.mplsTTL)
			}
			ip := got[18:]
			ttl := ip[8]
			if ip[0]>>4 == 6 {
				ttl = ip[7]
			} else if c := packet.IPv4(ip).CalculateChecksum(); c != packet.IPv4(ip).Checksum() {
				t.Errorf("IPv4 checksum wrong after %v", u.Actions)
			}
			if ttl != tc.innerTTL {
				t.Errorf("actions %v: IP TTL %d, want %d", u.Actions, ttl, tc.innerTTL)
			}

			// Without the packet, translation cannot know the TTL: the
			// revalidated megaflow goes.
			r := &dpif.Revalidation{Key: u.Key, Actions: u.Actions}
			if err := o.Revalidate(r); err != nil {
				t.Fatal(err)
			}
			if !r.Delete {
				t.Errorf("revalidation kept a megaflow with %v", r.Actions)
			}
		})
	}
}
