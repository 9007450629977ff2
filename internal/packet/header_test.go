package packet

import (
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestHeaderViewsMatchGopacket reads a tagged IPv6/TCP packet with
// extension headers and an IPv4/UDP one through the views and compares
// with gopacket's decoding of the same bytes.
func TestHeaderViewsMatchGopacket(t *testing.T) {
	src, dst := net.ParseIP("2001:db8::1"), net.ParseIP("2001:db8::2")
	ip6 := &layers.IPv6{Version: 6, TrafficClass: 0xb8, FlowLabel: 0xbeef1, NextHeader: layers.IPProtocolIPv6HopByHop,
		HopLimit: 9, SrcIP: src, DstIP: dst}
	hbh := &layers.IPv6HopByHop{}
	hbh.NextHeader = layers.IPProtocolTCP
	hbh.Options = []*layers.IPv6HopByHopOption{{OptionType: 1, OptionLength: 4, OptionData: []byte{0, 0, 0, 0}}}
	tcp := &layers.TCP{SrcPort: 443, DstPort: 5000, Seq: 11, Ack: 12, PSH: true, ACK: true, Window: 999}
	tcp.SetNetworkLayerForChecksum(ip6)
	d := serialize(t, &layers.Ethernet{SrcMAC: net.HardwareAddr{1, 2, 3, 4, 5, 6}, DstMAC: net.HardwareAddr{7, 8, 9, 10, 11, 12},
		EthernetType: layers.EthernetTypeDot1Q}, &layers.Dot1Q{Priority: 5, VLANIdentifier: 321, Type: layers.EthernetTypeIPv6},
		ip6, hbh, tcp, gopacket.Payload("hello"))

	e := Ethernet(d)
	if !e.IsValid() || e.Source() != [6]byte{1, 2, 3, 4, 5, 6} || e.Destination() != [6]byte{7, 8, 9, 10, 11, 12} {
		t.Fatalf("ethernet view wrong: %x", d[:14])
	}
	typ, l2, ok := e.L2Length()
	if !ok || typ != EtherTypeIPv6 || l2 != 18 {
		t.Fatalf("L2Length = %#x, %d, %v", typ, l2, ok)
	}
	v := VLANTag(d[12:])
	if !v.IsValid() || v.VID() != 321 || v.PCP() != 5 {
		t.Errorf("VLAN view: vid %d pcp %d", v.VID(), v.PCP())
	}
	ip := IPv6(d[l2:])
	if !ip.IsValid() || ip.TrafficClass() != 0xb8 || ip.FlowLabel() != 0xbeef1 || ip.HopLimit() != 9 ||
		!net.IP(ip.Source()[:]).Equal(src) || !net.IP(ip.Destination()[:]).Equal(dst) {
		t.Errorf("IPv6 view wrong")
	}
	proto, off, routing, ok := ip.Upper()
	if !ok || proto != IPProtoTCP || off != 48 || routing {
		t.Fatalf("Upper = %d, %d, %v, %v", proto, off, routing, ok)
	}
	th := TCP(ip[off:])
	if !th.IsValid() || th.SourcePort() != 443 || th.DestinationPort() != 5000 || th.Seq() != 11 || th.Ack() != 12 ||
		th.Window() != 999 || th.Flags() != 0x18 {
		t.Errorf("TCP view wrong: %x", ip[off:off+20])
	}
	pseudo := PseudoHeaderSumIPv6(ip.Source(), ip.Destination(), IPProtoTCP, uint32(len(ip)-off))
	if Checksum(ip[off:], pseudo) != 0xffff {
		t.Error("TCP checksum does not verify through the pseudo-header")
	}

	ip4 := &layers.IPv4{Version: 4, IHL: 5, TOS: 0x10, Id: 77, Flags: layers.IPv4DontFragment, TTL: 3,
		Protocol: layers.IPProtocolUDP, SrcIP: net.IP{1, 2, 3, 4}, DstIP: net.IP{5, 6, 7, 8}}
	udp := &layers.UDP{SrcPort: 1, DstPort: 2}
	udp.SetNetworkLayerForChecksum(ip4)
	d4 := serialize(t, ip4, udp, gopacket.Payload("x"))
	h := IPv4(d4)
	if !h.IsValid() || h.TOS() != 0x10 || h.ID() != 77 || h.Flags() != IPv4DontFragment || h.TTL() != 3 ||
		h.Protocol() != IPProtoUDP || h.Source() != [4]byte{1, 2, 3, 4} || h.Destination() != [4]byte{5, 6, 7, 8} ||
		h.CalculateChecksum() != h.Checksum() {
		t.Errorf("IPv4 view wrong: %x", d4[:20])
	}
	u := UDP(h.Payload())
	if !u.IsValid() || u.SourcePort() != 1 || u.DestinationPort() != 2 || u.Length() != 9 {
		t.Errorf("UDP view wrong")
	}
	var enc [20]byte
	IPv4(enc[:]).Encode(&IPv4Fields{TOS: 0x10, TotalLength: 29, ID: 77, Flags: IPv4DontFragment, TTL: 3,
		Protocol: IPProtoUDP, Src: [4]byte{1, 2, 3, 4}, Dst: [4]byte{5, 6, 7, 8}})
	if string(enc[:]) != string(d4[:20]) {
		t.Errorf("Encode = %x, gopacket %x", enc, d4[:20])
	}
}

func TestIPv4SettersKeepChecksum(t *testing.T) {
	var b [20]byte
	h := IPv4(b[:])
	h.Encode(&IPv4Fields{TotalLength: 20, TTL: 64, Protocol: IPProtoTCP, Src: [4]byte{10, 0, 0, 1}, Dst: [4]byte{10, 0, 0, 2}})
	h.SetTTL(1)
	h.SetTOS(0xfc)
	h.SetSource([4]byte{255, 255, 255, 255})
	h.SetDestination([4]byte{0, 0, 0, 0})
	if h.Checksum() != h.CalculateChecksum() {
		t.Errorf("checksum %#x, should be %#x", h.Checksum(), h.CalculateChecksum())
	}
}

func TestIPv6UpperFragment(t *testing.T) {
	b := make([]byte, 40+8+20)
	b[0] = 0x60
	b[6] = IPv6ExtFragment
	b[40] = IPProtoTCP
	if p, off, _, ok := IPv6(b).Upper(); !ok || p != IPProtoTCP || off != 48 {
		t.Errorf("first fragment: %d at %d, %v", p, off, ok)
	}
	b[42] = 0x01 // offset 32 bytes: a later fragment
	if p, off, _, ok := IPv6(b).Upper(); !ok || p != IPProtoIPv6Frag || off != 40 {
		t.Errorf("later fragment: %d at %d, %v", p, off, ok)
	}
	if _, _, _, ok := IPv6(b[:44]).Upper(); ok {
		t.Error("cut fragment header reported ok")
	}
}

func TestNDLinkAddr(t *testing.T) {
	b := make([]byte, 24+8+8)
	b[0] = ICMPv6NeighborAdvert
	b[24], b[25] = 14, 1 // an unknown option first
	b[32], b[33] = NDOptTargetLinkAddr, 1
	copy(b[34:], []byte{1, 2, 3, 4, 5, 6})
	c := ICMPv6(b)
	if !c.IsND() || string(c.NDLinkAddr(NDOptTargetLinkAddr)) != "\x01\x02\x03\x04\x05\x06" || c.NDLinkAddr(NDOptSourceLinkAddr) != nil {
		t.Error("TLL option not found behind another option")
	}
	b[25] = 0 // a zero-length option ends the walk
	if ICMPv6(b).NDLinkAddr(NDOptTargetLinkAddr) != nil {
		t.Error("zero-length option not rejected")
	}
}

// FuzzHeaderViews feeds any bytes to every view's validity check and, when
// it passes, to the accessors: none may panic.
func FuzzHeaderViews(f *testing.F) {
	f.Add([]byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add(append([]byte{0x60, 0, 0, 0, 0, 8, 0, 64}, make([]byte, 48)...))
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x81, 0, 0, 1, 0x88, 0x47, 0, 0, 1, 0x40})
	f.Fuzz(func(t *testing.T, b []byte) {
		if e := Ethernet(b); e.IsValid() {
			e.L2Length()
		}
		if ip := IPv4(b); ip.IsValid() {
			_ = ip.Payload()
			ip.CalculateChecksum()
		}
		if ip := IPv6(b); ip.IsValid() {
			if _, off, _, ok := ip.Upper(); ok && off > len(b) {
				t.Fatalf("Upper offset %d beyond %d bytes", off, len(b))
			}
		}
		if c := ICMPv6(b); c.IsND() {
			if a := c.NDLinkAddr(NDOptSourceLinkAddr); a != nil && len(a) != 6 {
				t.Fatal("link address not 6 bytes")
			}
		}
		if a := ARP(b); a.IsValid() {
			a.Op()
		}
		if tc := TCP(b); tc.IsValid() {
			tc.Flags()
		}
		if s := SCTP(b); s.IsValid() {
			SCTPChecksum(b)
		}
	})
}
