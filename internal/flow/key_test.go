package flow

import (
	"reflect"
	"testing"
	"unsafe"
)

// TestKeyLayout checks that Key has no padding except its two blank fields,
// so Words sees every field and nothing the compiler inserted.
func TestKeyLayout(t *testing.T) {
	typ := reflect.TypeFor[Key]()
	size := unsafe.Sizeof(Key{})
	if size%8 != 0 {
		t.Errorf("Sizeof(Key) = %d, not a multiple of 8", size)
	}
	if KeyWords*8 != int(size) {
		t.Errorf("KeyWords*8 = %d, Sizeof(Key) = %d", KeyWords*8, size)
	}
	var sum uintptr
	blanks := 0
	end := uintptr(0) // end of the previous field
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Offset != end {
			t.Errorf("%d bytes of padding before %s", f.Offset-end, f.Name)
		}
		if f.Name == "_" {
			blanks++
		}
		sum += f.Type.Size()
		end = f.Offset + f.Type.Size()
	}
	if sum != size {
		t.Errorf("fields add up to %d bytes, Sizeof(Key) = %d", sum, size)
	}
	if blanks != 2 {
		t.Errorf("Key has %d blank fields, want 2", blanks)
	}
	var padding uintptr
	for _, r := range paddingRanges {
		padding += r[1] - r[0]
	}
	var blankSize uintptr
	for i := range typ.NumField() {
		if f := typ.Field(i); f.Name == "_" {
			blankSize += f.Type.Size()
		}
	}
	if padding != blankSize {
		t.Errorf("paddingRanges cover %d bytes, blank fields are %d", padding, blankSize)
	}
}

func TestKeyWordsAliasesKey(t *testing.T) {
	var k Key
	k.Metadata = 0x0102030405060708
	if got := k.Words()[0]; got != 0x0102030405060708 {
		t.Errorf("Words()[0] = %#x, want Metadata", got)
	}
	k.Words()[1] = 42
	if k.TunID != 42 {
		t.Errorf("TunID = %d after writing Words()[1], want 42", k.TunID)
	}
	if k.Bytes()[0] != 0x08 { // little-endian hosts; Key is host order
		t.Skip("big-endian host")
	}
}

func TestKeyMaskFrom(t *testing.T) {
	var src, m, got Key
	src.NwSrc = 0x0a0b0c0d
	src.TpDst = 80
	src.EthType = 0x0800
	m.NwSrc = 0xffff0000
	m.TpDst = 0xffff
	got.Metadata = 99 // MaskFrom overwrites everything
	got.MaskFrom(&src, &m)
	want := Key{NwSrc: 0x0a0b0000, TpDst: 80}
	if !got.Equal(&want) {
		t.Errorf("MaskFrom = %+v, want %+v", got, want)
	}
}

func TestKeyOr(t *testing.T) {
	a := Key{NwSrc: 0xff000000, TpSrc: 1}
	b := Key{NwSrc: 0x00ff0000, TpDst: 2, Regs: [NumRegs]uint32{3: 7}}
	a.Or(&b)
	want := Key{NwSrc: 0xffff0000, TpSrc: 1, TpDst: 2, Regs: [NumRegs]uint32{3: 7}}
	if !a.Equal(&want) {
		t.Errorf("Or = %+v, want %+v", a, want)
	}
}

func TestKeyEqualAndIsZero(t *testing.T) {
	var a, b Key
	if !a.IsZero() || !a.Equal(&b) {
		t.Fatal("zero keys not zero or not equal")
	}
	b.NdTarget[15] = 1
	if b.IsZero() || a.Equal(&b) {
		t.Error("key differing in the last byte of NdTarget compares equal or zero")
	}
	b.Reset()
	if !b.IsZero() {
		t.Error("Reset left bits set")
	}
}

func TestExactSetsEveryFieldAndNoPadding(t *testing.T) {
	m := Exact()
	b := m.Bytes()
	typ := reflect.TypeFor[Key]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		want := byte(0xff)
		if f.Name == "_" {
			want = 0
		}
		for j := f.Offset; j < f.Offset+f.Type.Size(); j++ {
			if b[j] != want {
				t.Errorf("Exact(): byte %d of field %s = %#x, want %#x", j-f.Offset, f.Name, b[j], want)
				break
			}
		}
	}
	// A masked key must not depend on padding.
	var k, got Key
	for i := range k.Words() {
		k.Words()[i] = ^uint64(0)
	}
	got.MaskFrom(&k, &m)
	if !got.Equal(&m) {
		t.Error("all-ones key masked by Exact() differs from Exact()")
	}
}
