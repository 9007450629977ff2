package vhost

import (
	"encoding/binary"
	"testing"

	"github.com/govs/govs/internal/packet"
)

// FuzzMessage runs arbitrary bytes through the message parser and the
// request handler of a device with no connection: no input may panic,
// and a malformed one must be refused.
func FuzzMessage(f *testing.F) {
	seeds := [][]byte{
		EncodeMessage(ReqGetFeatures, 1, nil),
		EncodeMessage(ReqSetFeatures, 1, u64Bytes(FeatVersion1|FeatNetMrgRxbuf)),
		EncodeMessage(ReqSetVringNum, 1, VringState{1, 256}.bytes()),
		EncodeMessage(ReqSetVringAddr, 1, make([]byte, vringAddrSize)),
		EncodeMessage(ReqSetVringKick, 1, u64Bytes(vringFDNoFD|1)),
		EncodeMessage(ReqSetMemTable, 1, append(binary.LittleEndian.AppendUint64(nil, 1), make([]byte, 32)...)),
		EncodeMessage(ReqGetVringBase, 1, VringState{0, 0}.bytes()),
		EncodeMessage(ReqSetVringEnable, 1|flagNeedReply, VringState{0, 1}.bytes()),
		EncodeMessage(ReqNetSetMTU, 1, u64Bytes(9000)),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	d, err := NewDevice(Config{QueuePairs: 2, MTU: 1500})
	if err != nil {
		f.Fatal(err)
	}
	defer d.Close()
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			return
		}
		p := b[headerSize:]
		if int(h.Size) < len(p) {
			p = p[:h.Size]
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		d.handle(&message{Header: h, payload: p})
		d.resetLocked()
		d.reclaimLocked()
	})
}

// fakeRing builds a vring over plain memory: guest-physical 0x1000 is
// mem[0]; the descriptor table is the first 16*num bytes.
func fakeRing(mem []byte, num uint16) *vring {
	t := &memTable{n: 1}
	t.regions[0] = region{gpa: 0x1000, uva: 0x1000, size: uint64(len(mem)), mem: mem}
	return &vring{num: num, desc: mem[:16*int(num)], mem: t, indirect: true, callFD: -1}
}

// FuzzRingWalker walks descriptor chains from fuzzed descriptor tables
// and guest memory: every chain ends (no loop), every buffer returned lies
// in guest memory, Recv's take never panics, and transmit's put fills a
// chain whole or leaves it.
func FuzzRingWalker(f *testing.F) {
	desc := func(addr uint64, n uint32, flags, next uint16) []byte {
		b := binary.LittleEndian.AppendUint64(nil, addr)
		b = binary.LittleEndian.AppendUint32(b, n)
		b = binary.LittleEndian.AppendUint16(b, flags)
		return binary.LittleEndian.AppendUint16(b, next)
	}
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return append(b, make([]byte, 256)...)
	}
	f.Add(uint8(0), cat(desc(0x1080, 100, 0, 0)))
	f.Add(uint8(0), cat(desc(0x1080, 12, descFNext, 1), desc(0x1090, 60, 0, 0)))
	f.Add(uint8(0), cat(desc(0x1080, 12, descFNext, 1), desc(0x1090, 60, descFNext, 0)))
	f.Add(uint8(1), cat(desc(0, 0, 0, 0), desc(0x1040, 32, descFIndirect, 0), desc(0x1080, 12, descFNext, 1), desc(0x10a0, 60, 0, 0)))
	f.Add(uint8(0), cat(desc(0x1000, 16, descFIndirect, 0)))
	f.Add(uint8(0), cat(desc(0xffffffffffffff00, 0x200, 0, 0)))
	f.Fuzz(func(t *testing.T, head uint8, mem []byte) {
		const num = 4
		if len(mem) < 16*num {
			return
		}
		r := fakeRing(mem, num)
		var c chain
		if c.start(r, uint16(head)) != nil {
			return
		}
		for steps := 0; ; steps++ {
			buf, _, ok, err := c.next()
			if err != nil || !ok {
				break
			}
			if steps > 2*num {
				t.Fatalf("chain of %d buffers in a queue of %d", steps, num)
			}
			if cap(buf) > len(mem) {
				t.Fatalf("buffer outside guest memory")
			}
		}
		q := &RxQueue{hdrLen: 12}
		q.ring = *r
		for i := range q.frames {
			q.frames[i] = make([]byte, packet.FrameSize)
		}
		var b packet.Buffer
		if ok, err := q.take(uint16(head), &b, 0); ok && err == nil && b.Len == 0 {
			t.Fatal("empty packet accepted")
		}
		// The same chain as a receive buffer the guest posted: put writes
		// a 60-byte packet into it, or refuses it having consumed nothing.
		avail := make([]byte, 8+2*num)
		binary.LittleEndian.PutUint16(avail[4:], uint16(head))
		for _, mrg := range []bool{false, true} {
			tx := &txRing{dev: &Device{}, hdrLen: 12, mrg: mrg}
			tx.ring = *r
			tx.ring.avail, tx.ring.used = avail, make([]byte, 8+8*num)
			k, ok := tx.put(make([]byte, 60), 1, 0)
			switch {
			case ok && (k != 1 || tx.ring.lastAvail != 1):
				t.Fatalf("put used %d chains, lastAvail %d, from one avail entry", k, tx.ring.lastAvail)
			case ok && binary.LittleEndian.Uint32(tx.ring.used[4:]) != uint32(head) ||
				ok && binary.LittleEndian.Uint32(tx.ring.used[8:]) != 72:
				t.Fatalf("used entry %x, want head %d, 72 bytes", tx.ring.used[4:12], head)
			case !ok && tx.ring.lastAvail != 0:
				t.Fatalf("refused put consumed avail entries (lastAvail %d)", tx.ring.lastAvail)
			}
		}
	})
}
