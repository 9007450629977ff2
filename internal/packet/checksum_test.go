package packet

import (
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

// checksumRef is RFC 1071 §4.1 done the slow, obvious way: 16-bit words,
// carries folded at the end.
func checksumRef(b []byte, initial uint16) uint16 {
	s := uint32(initial)
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

func TestChecksumMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 1600)
	for i := range 2000 {
		n := r.IntN(len(buf))
		if i < 70 {
			n = i // every short length, all tail paths
		}
		b := buf[:n]
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		if i%7 == 0 {
			for j := range b {
				b[j] = 0xff // carries everywhere
			}
		}
		init := uint16(r.Uint32())
		if got, want := Checksum(b, init), checksumRef(b, init); got != want {
			t.Fatalf("len %d init %#x: Checksum = %#04x, reference %#04x", n, init, got, want)
		}
	}
}

func TestChecksumCombine(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, 200)
	for range 200 {
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		cut := 2 * r.IntN(len(b)/2)
		if got, want := ChecksumCombine(Checksum(b[:cut], 0), Checksum(b[cut:], 0)), Checksum(b, 0); got != want &&
			!(got == 0xffff && want == 0) && !(got == 0 && want == 0xffff) {
			t.Fatalf("cut %d: combined %#x, whole %#x", cut, got, want)
		}
	}
}

// TestChecksumUpdate checks each incremental update against recomputing
// the checksum of the changed bytes from scratch.
func TestChecksumUpdate(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	b := make([]byte, 64)
	full := func() uint16 { return ^Checksum(b, 0) }
	valid := func(name string, csum uint16) {
		t.Helper()
		// A correct checksum makes the sum over data+checksum all ones.
		if s := ChecksumCombine(Checksum(b, 0), csum); s != 0xffff {
			t.Fatalf("%s: checksum %#x does not verify (sum %#x)", name, csum, s)
		}
	}
	for range 1000 {
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		csum := full()
		off := 2 * r.IntN(24)

		old16 := binary.BigEndian.Uint16(b[off:])
		new16 := uint16(r.Uint32())
		binary.BigEndian.PutUint16(b[off:], new16)
		csum = ChecksumUpdate16(csum, old16, new16)
		valid("ChecksumUpdate16", csum)

		old32 := binary.BigEndian.Uint32(b[off:])
		new32 := r.Uint32()
		binary.BigEndian.PutUint32(b[off:], new32)
		csum = ChecksumUpdate32(csum, old32, new32)
		valid("ChecksumUpdate32", csum)

		var old128, new128 [16]byte
		copy(old128[:], b[off:])
		for j := range new128 {
			new128[j] = byte(r.Uint32())
		}
		copy(b[off:], new128[:])
		csum = ChecksumUpdate128(csum, &old128, &new128)
		valid("ChecksumUpdate128", csum)

		var old6 [6]byte
		copy(old6[:], b[off:])
		for j := range 6 {
			b[off+j] = byte(r.Uint32())
		}
		csum = ChecksumUpdateBytes(csum, old6[:], b[off:off+6])
		valid("ChecksumUpdateBytes", csum)
	}
}

func TestPseudoHeaderSums(t *testing.T) {
	src4, dst4 := [4]byte{10, 0, 0, 1}, [4]byte{192, 168, 200, 254}
	ph4 := append(append(append([]byte{}, src4[:]...), dst4[:]...), 0, 6, 0x05, 0xdc)
	if got, want := PseudoHeaderSumIPv4(src4, dst4, 6, 1500), checksumRef(ph4, 0); got != want {
		t.Errorf("IPv4: %#x, reference %#x", got, want)
	}
	var src6, dst6 [16]byte
	for i := range src6 {
		src6[i], dst6[i] = byte(0xf0+i), byte(0x0f*i)
	}
	ph6 := append(append(append([]byte{}, src6[:]...), dst6[:]...), 0, 1, 0x86, 0xa0, 0, 0, 0, 17)
	if got, want := PseudoHeaderSumIPv6(&src6, &dst6, 17, 100000), checksumRef(ph6, 0); got != want {
		t.Errorf("IPv6: %#x, reference %#x", got, want)
	}
}

func TestSCTPChecksum(t *testing.T) {
	b := make([]byte, 48)
	for i := range b {
		b[i] = byte(i * 7)
	}
	s := SCTP(b)
	s.SetChecksum(0xdeadbeef) // ignored by SCTPChecksum
	z := append([]byte{}, b...)
	clear(z[8:12])
	want := crc32.Checksum(z, crc32.MakeTable(crc32.Castagnoli))
	if got := SCTPChecksum(b); got != want {
		t.Fatalf("SCTPChecksum = %#x, want %#x", got, want)
	}
	s.SetChecksum(want)
	s.SetPorts(1234, 5678)
	if s.Checksum() != SCTPChecksum(b) {
		t.Errorf("SetPorts left a wrong CRC on a good packet")
	}
	s.SetChecksum(SCTPChecksum(b) ^ 0x5a)
	s.SetPorts(1, 2)
	if s.Checksum()^SCTPChecksum(b) != 0x5a {
		t.Errorf("SetPorts did not keep a bad CRC's error")
	}
}

var sink uint16

func BenchmarkChecksum1500(b *testing.B) {
	buf := make([]byte, 1500)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		sink = Checksum(buf, sink)
	}
}
