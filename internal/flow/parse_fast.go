package flow

import (
	"encoding/binary"
	"unsafe"

	"github.com/govs/govs/internal/packet"
	"github.com/govs/govs/internal/prefetch"
)

// The parser's fast path, for the frame most traffic consists of: untagged
// Ethernet, IPv4 without options and not a fragment, and a complete TCP or
// UDP header within the IP total length. It is one length check and one
// test per header, then straight stores; any other frame goes to
// parseGeneral, which gives the same key for these frames (the tests check
// both paths against each other and against gopacket).
//
// parseGeneral fills the packet fields of a zeroed key and returns the
// offsets; the fast path does the same inside ParseBatch's loop.
//
// A key the fast path produced is simple: besides InPort, only the fields
// in SimpleWords can be non-zero. ParseBatch reports which keys are, so a
// cache holding simple keys can compare those words only.

// SimpleWords are the indexes (into Key.Words) of the words a simple key
// may have non-zero, besides InPortWord: Ethernet addresses and type, IPv4
// addresses, protocol, TOS and TTL, TCP flags, and ports.
const (
	SimpleWordEth0  = int(unsafe.Offsetof(Key{}.EthDst) / 8)  // EthDst, EthSrc[:2]
	SimpleWordEth1  = int(unsafe.Offsetof(Key{}.EthType) / 8) // EthSrc[2:], EthType
	SimpleWordNw    = int(unsafe.Offsetof(Key{}.NwSrc) / 8)   // NwSrc, NwDst
	SimpleWordProto = int(unsafe.Offsetof(Key{}.NwProto) / 8) // NwProto, NwTOS, NwTTL
	SimpleWordFlags = int(unsafe.Offsetof(Key{}.TCPFlags) / 8)
	SimpleWordTp    = int(unsafe.Offsetof(Key{}.TpSrc) / 8) // TpSrc, TpDst
)

// Each field the fast path writes lies within the SimpleWords (a compile
// error otherwise: a constant index out of range). in is 0 when the bytes
// [off, off+n) lie in words w and w+span.
func _() {
	type in = [1]struct{}
	const (
		eth0, eth1 = uintptr(SimpleWordEth0), uintptr(SimpleWordEth1)
		nw, proto  = uintptr(SimpleWordNw), uintptr(SimpleWordProto)
		flags, tp  = uintptr(SimpleWordFlags), uintptr(SimpleWordTp)
	)
	var k Key
	_ = in{}[eth1-eth0-1]                             // Ethernet addresses: two words
	_ = in{}[(unsafe.Offsetof(k.EthSrc)+5)/8-eth1]    // ... ending in eth1
	_ = in{}[(unsafe.Offsetof(k.EthType)+1)/8-eth1]   // EthType
	_ = in{}[(unsafe.Offsetof(k.NwDst)+3)/8-nw]       // NwSrc, NwDst
	_ = in{}[unsafe.Offsetof(k.NwTOS)/8-proto]        // NwProto, NwTOS
	_ = in{}[unsafe.Offsetof(k.NwTTL)/8-proto]        // NwTTL
	_ = in{}[(unsafe.Offsetof(k.TCPFlags)+1)/8-flags] // TCPFlags
	_ = in{}[unsafe.Offsetof(k.TCPFlags)/8-flags]     // ...
	_ = in{}[(unsafe.Offsetof(k.TpDst)+1)/8-tp]       // TpSrc, TpDst
	_ = in{}[unsafe.Offsetof(k.TpSrc)/8-tp]           // ...
}

// ParseBatch parses each of pkts into the key of the same index, as Parse
// does; keys must be at least as long as pkts. It returns a bitmap of the
// packets (bit i for pkts[i], i < 32) whose keys are simple (see
// SimpleWords). Parse and ParseBytes come here too.
//
// The fast path is inlined in the loop, so a batch of simple packets makes
// no call at all (Go keeps no register across a call).
//
// The parser is the first to read the frames, which another CPU (a guest,
// a NIC) has just written: the headers of the whole batch are prefetched
// first, so their cache misses overlap instead of stalling one packet at a
// time.
func ParseBatch(pkts []*packet.Buffer, keys []Key) (simple uint32) {
	const (
		ipOff = ethHeaderLen
		tpOff = ethHeaderLen + ipv4MinLen
	)
	keys = keys[:len(pkts)]
	if len(pkts) > 1 { // one miss has nothing to overlap with
		prefetchHeaders(pkts)
	}
	for i, b := range pkts {
		k := &keys[i]
		data := b.Data()
		k.reset()
		k.InPort = b.InPort
		if len(data) >= tpOff+udpHeaderLen && binary.BigEndian.Uint16(data[12:]) == ethIPv4 {
			d := data[:tpOff+udpHeaderLen]
			tot := int(binary.BigEndian.Uint16(d[ipOff+2:]))
			proto := d[ipOff+9]
			if d[ipOff]&0x0f == ipv4MinLen/4 &&
				binary.BigEndian.Uint16(d[ipOff+6:])&(ipv4MF|ipv4OffMask) == 0 && tot <= len(data)-ipOff &&
				(proto == protoUDP && tot >= ipv4MinLen+udpHeaderLen ||
					proto == protoTCP && tot >= ipv4MinLen+tcpHeaderLen) {
				if proto == protoTCP {
					// tot <= len(data)-ipOff: the TCP header is in data.
					k.TCPFlags = binary.BigEndian.Uint16(data[tpOff+12:]) & tcpFlagsMask
				}
				k.EthDst = [6]byte(d[0:6])
				k.EthSrc = [6]byte(d[6:12])
				k.EthType = ethIPv4
				k.NwTOS = d[ipOff+1]
				k.NwTTL = d[ipOff+8]
				k.NwProto = proto
				k.NwSrc = binary.BigEndian.Uint32(d[ipOff+12:])
				k.NwDst = binary.BigEndian.Uint32(d[ipOff+16:])
				k.TpSrc = binary.BigEndian.Uint16(d[tpOff:])
				k.TpDst = binary.BigEndian.Uint16(d[tpOff+2:])
				b.L3Off, b.L4Off = ipOff, tpOff
				simple |= 1 << (i & 31)
				continue
			}
		}
		l3, l4 := parseGeneral(data, k)
		b.L3Off, b.L4Off = uint16(l3), uint16(l4)
	}
	return simple
}

// prefetchHeaders starts loading the first cache line of each of the
// first packet.BatchSize packets.
func prefetchHeaders(pkts []*packet.Buffer) {
	var addrs [packet.BatchSize]uintptr
	pkts = pkts[:min(len(pkts), packet.BatchSize)]
	for i, b := range pkts {
		addrs[i] = uintptr(unsafe.Pointer(unsafe.SliceData(b.Data())))
	}
	prefetch.Lines(addrs[:len(pkts)])
}

// reset zeroes k in straight-line stores (*k = Key{} compiles to a loop).
func (k *Key) reset() {
	w := k.Words()
	*(*[8]uint64)(w[0:8]) = [8]uint64{}
	*(*[8]uint64)(w[8:16]) = [8]uint64{}
	*(*[8]uint64)(w[16:24]) = [8]uint64{}
	*(*[8]uint64)(w[24:32]) = [8]uint64{}
	*(*[KeyWords - 32]uint64)(w[32:]) = [KeyWords - 32]uint64{}
}
