package flow

import (
	"encoding/binary"
	"unsafe"
)

// Field describes one matchable field (OVS's struct mf_field): its names,
// its OXM and NXM codes, its width, and where its bits live in Key.
//
// Values cross this API in wire byte order, left-aligned in a [16]byte: the
// first Bytes bytes hold the value, most significant byte first. Get and Set
// touch only the field's own bits, so the same accessors read and write a
// Mask (a Mask is a Key): Unwildcard is Set(mask, all-ones) and MaskValue is
// Get(mask).
type Field struct {
	ID       FieldID
	Name     string   // ovs-ofctl's name
	Aliases  []string // other names (OXM-style, OVS's alternate spellings)
	Bits     int      // significant bits
	Bytes    int      // bytes on the wire (OXM/NXM payload width)
	Maskable bool     // arbitrary bitwise masks allowed (OVS's MFM_FULLY)
	Writable bool     // settable by set_field / reg_load / reg_move
	OXMClass uint16   // 0x8000 for OFPXMC_OPENFLOW_BASIC, 0 if none
	OXMField uint8
	// NXMHeader is the NXM header with hasmask clear and length zero:
	// class<<16 | field<<9. Zero if the field has no NXM code.
	NXMHeader uint32
	Prereqs   Prereq
	Format    Format // how ovs-ofctl spells values

	loc loc
}

// OXMClassBasic is OFPXMC_OPENFLOW_BASIC.
const OXMClassBasic = 0x8000

// NXM classes.
const (
	NXMClass0 = 0x0000 // NXM_OF_*
	NXMClass1 = 0x0001 // NXM_NX_*
)

// Format says how a field's values are written in ovs-ofctl syntax.
type Format uint8

const (
	FormatDecimal Format = iota
	FormatHex
	FormatEthernet
	FormatIPv4
	FormatIPv6
	FormatOFPort   // OpenFlow port number or reserved name (LOCAL, ...)
	FormatFrag     // ip_frag: no, yes, first, later, not_later
	FormatTCPFlags // +syn-ack or hex
	FormatCtState  // +trk+new or hex
)

// loc says where a field's bits live in Key. Integer storage holds
// host-order values; the field is the bits of storage selected by mask,
// shifted right by shift. Array storage (MACs, IPv6 addresses) is copied
// byte for byte.
type loc struct {
	off   uintptr
	size  uintptr // storage size in bytes: 1, 2, 4, 8, or the array length
	array bool
	mask  uint64 // integer storage: the field's bits within the storage
	shift uint8
}

func (l loc) load(k *Key) uint64 {
	p := unsafe.Add(unsafe.Pointer(k), l.off)
	switch l.size {
	case 1:
		return uint64(*(*uint8)(p))
	case 2:
		return uint64(*(*uint16)(p))
	case 4:
		return uint64(*(*uint32)(p))
	default:
		return *(*uint64)(p)
	}
}

func (l loc) store(k *Key, x uint64) {
	p := unsafe.Add(unsafe.Pointer(k), l.off)
	switch l.size {
	case 1:
		*(*uint8)(p) = uint8(x)
	case 2:
		*(*uint16)(p) = uint16(x)
	case 4:
		*(*uint32)(p) = uint32(x)
	default:
		*(*uint64)(p) = x
	}
}

func (l loc) bytes(k *Key) []byte {
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(k), l.off)), l.size)
}

// Get returns the field's value in k.
func (f *Field) Get(k *Key) [16]byte {
	var v [16]byte
	if f.loc.array {
		copy(v[:], f.loc.bytes(k))
		return v
	}
	x := (f.loc.load(k) & f.loc.mask) >> f.loc.shift
	putUint(v[:f.Bytes], x)
	return v
}

// AppendValue appends the field's value in k (its f.Bytes bytes of Get)
// to b: encoders that write a value straight into a message skip Get's
// 16-byte copy.
func (f *Field) AppendValue(b []byte, k *Key) []byte {
	if f.loc.array {
		return append(b, f.loc.bytes(k)...)
	}
	x := (f.loc.load(k) & f.loc.mask) >> f.loc.shift
	for i := f.Bytes - 1; i >= 0; i-- {
		b = append(b, byte(x>>(8*i)))
	}
	return b
}

// Set sets the field's bits of k to v, leaving every other bit alone. Bits
// of v beyond the field's width are ignored.
func (f *Field) Set(k *Key, v [16]byte) {
	if f.loc.array {
		copy(f.loc.bytes(k), v[:f.Bytes])
		return
	}
	x := getUint(v[:f.Bytes]) << f.loc.shift & f.loc.mask
	f.loc.store(k, f.loc.load(k)&^f.loc.mask|x)
}

// SetMasked sets the bits of the field selected by mask to v's.
func (f *Field) SetMasked(k *Key, v, mask [16]byte) {
	old := f.Get(k)
	for i := range old {
		old[i] = old[i]&^mask[i] | v[i]&mask[i]
	}
	f.Set(k, old)
}

// Unwildcard sets every bit of the field in m.
func (f *Field) Unwildcard(m *Mask) { f.Set(m, f.AllOnes()) }

// MaskValue returns the field's bits of m.
func (f *Field) MaskValue(m *Mask) [16]byte { return f.Get(m) }

// IsWildcarded reports whether no bit of the field is set in m.
func (f *Field) IsWildcarded(m *Mask) bool { return f.MaskValue(m) == [16]byte{} }

// IsExact reports whether every bit of the field is set in m.
func (f *Field) IsExact(m *Mask) bool { return f.MaskValue(m) == f.AllOnes() }

// AllOnes returns the field's exact-match mask.
func (f *Field) AllOnes() [16]byte {
	var v [16]byte
	if f.loc.array {
		for i := 0; i < f.Bytes; i++ {
			v[i] = 0xff
		}
		return v
	}
	putUint(v[:f.Bytes], f.loc.mask>>f.loc.shift)
	return v
}

// Uint returns a value of up to 8 bytes as an integer.
func (f *Field) Uint(v [16]byte) uint64 {
	if f.Bytes > 8 {
		return 0
	}
	return getUint(v[:f.Bytes])
}

// Value encodes the integer x as a value of f.
func (f *Field) Value(x uint64) [16]byte {
	var v [16]byte
	if f.Bytes <= 8 {
		putUint(v[:f.Bytes], x)
	}
	return v
}

func putUint(b []byte, x uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte(x)
		x >>= 8
	}
}

func getUint(b []byte) uint64 {
	if len(b) == 8 {
		return binary.BigEndian.Uint64(b)
	}
	var x uint64
	for _, c := range b {
		x = x<<8 | uint64(c)
	}
	return x
}

// FieldByID returns the field with id, or nil.
func FieldByID(id FieldID) *Field {
	if id == FieldNone || id >= NumFieldIDs {
		return nil
	}
	return &fields[id]
}

// FieldByName returns the field called name (its ovs-ofctl name or an
// alias), or nil.
func FieldByName(name string) *Field { return byName[name] }

// FieldByOXM returns the field with OXM class and field code, or nil.
func FieldByOXM(class uint16, field uint8) *Field {
	if class == OXMClassBasic && field < 128 {
		return byOXMBasic[field]
	}
	return byOXM[uint32(class)<<8|uint32(field)]
}

// FieldByNXM returns the field with NXM header (hasmask and length are
// ignored), or nil.
func FieldByNXM(header uint32) *Field { return byNXM[header&^0x1ff] }

// Fields returns every field, in FieldID order.
func Fields() []*Field {
	out := make([]*Field, 0, NumFieldIDs-1)
	for i := FieldID(1); i < NumFieldIDs; i++ {
		out = append(out, &fields[i])
	}
	return out
}

var (
	byName = map[string]*Field{}
	byOXM  = map[uint32]*Field{}
	byNXM  = map[uint32]*Field{}
	// byOXMBasic is byOXM's OpenFlow basic class (most matches), where
	// decoding a flow-mod looks each field up: an index, not a hash.
	byOXMBasic [128]*Field
)

func init() {
	for id, code := range oxmCodes {
		fields[id].OXMClass, fields[id].OXMField = OXMClassBasic, code
	}
	for i := FieldID(1); i < NumFieldIDs; i++ {
		f := &fields[i]
		f.ID = i
		if f.Name == "" {
			panic("flow: no field table entry for FieldID " + itoa(int(i)))
		}
		if f.Bytes == 0 {
			f.Bytes = (f.Bits + 7) / 8
		}
		if !f.loc.array && f.loc.mask == 0 {
			f.loc.mask = (1<<f.Bits - 1) << f.loc.shift
		}
		byName[f.Name] = f
		for _, a := range f.Aliases {
			byName[a] = f
		}
		if f.OXMClass != 0 {
			byOXM[uint32(f.OXMClass)<<8|uint32(f.OXMField)] = f
			if f.OXMClass == OXMClassBasic {
				byOXMBasic[f.OXMField] = f
			}
		}
		if f.NXMHeader != 0 || f.ID == FieldInPort {
			byNXM[f.NXMHeader] = f
		}
	}
}
