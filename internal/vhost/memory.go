package vhost

import (
	"errors"
	"fmt"

	"github.com/govs/govs/internal/vhost/memfault"
	"golang.org/x/sys/unix"
)

// Memory-table errors.
var (
	ErrRegionOverlap = errors.New("vhost-user: memory regions overlap or wrap")
	ErrRegionFile    = errors.New("vhost-user: memory region beyond its file")
)

// region is one mmap'd guest memory region. mem covers exactly
// [GuestPhys, GuestPhys+Size) and [UserAddr, UserAddr+Size).
type region struct {
	gpa, uva, size uint64
	mem            []byte
	mapping        []byte // what to munmap (starts at file offset 0)
}

// memTable is the guest memory as SET_MEM_TABLE described it. It is
// immutable once built; a new table replaces it while the rings are
// stopped, and it is unmapped only when nothing can point into it.
type memTable struct {
	n       int
	regions [maxRegions]region
}

// mapMemTable mmaps every region's fd. The fds stay the caller's (it
// closes them after mapping, as a mapping keeps the file alive).
func mapMemTable(regs []MemRegion, fds []int) (*memTable, error) {
	if len(fds) != len(regs) {
		return nil, fmt.Errorf("SET_MEM_TABLE: %d regions, %d fds: %w", len(regs), len(fds), ErrBadRegions)
	}
	t := &memTable{}
	for i, r := range regs {
		if err := checkRegion(r, regs[:i]); err != nil {
			t.unmap()
			return nil, err
		}
		m, err := mapRegion(r, fds[i])
		if err != nil {
			t.unmap()
			return nil, err
		}
		t.regions[t.n] = region{gpa: r.GuestPhys, uva: r.UserAddr, size: r.Size,
			mem: m[r.MmapOffset : r.MmapOffset+r.Size : r.MmapOffset+r.Size], mapping: m}
		t.n++
	}
	return t, nil
}

// checkRegion rejects empty and wrapping regions and overlaps with the
// regions before it, in either address space.
func checkRegion(r MemRegion, prev []MemRegion) error {
	if r.Size == 0 || r.GuestPhys+r.Size < r.GuestPhys || r.UserAddr+r.Size < r.UserAddr ||
		r.MmapOffset+r.Size < r.MmapOffset || r.MmapOffset+r.Size > 1<<47 {
		return ErrRegionOverlap
	}
	for _, p := range prev {
		if r.GuestPhys < p.GuestPhys+p.Size && p.GuestPhys < r.GuestPhys+r.Size ||
			r.UserAddr < p.UserAddr+p.Size && p.UserAddr < r.UserAddr+r.Size {
			return ErrRegionOverlap
		}
	}
	return nil
}

// mapRegion maps the file from offset 0 through the region's end, rounded
// up to the file's block size (hugetlbfs refuses lengths that are not a
// multiple of its page size). A region reaching past the end of its file
// is refused: touching it would raise SIGBUS in the switch.
func mapRegion(r MemRegion, fd int) ([]byte, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("memory region fd: %w", err)
	}
	end := r.MmapOffset + r.Size
	if uint64(st.Size) < end {
		return nil, fmt.Errorf("region of %#x bytes at file offset %#x, file has %#x: %w",
			r.Size, r.MmapOffset, st.Size, ErrRegionFile)
	}
	length := end
	if bs := uint64(st.Blksize); bs > 0 && bs&(bs-1) == 0 {
		length = (end + bs - 1) &^ (bs - 1)
		if length > uint64(st.Size) {
			length = end
		}
	}
	m, err := unix.Mmap(fd, 0, int(length), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap guest memory (%#x bytes): %w", length, err)
	}
	return m, nil
}

func (t *memTable) unmap() {
	for i := range t.n {
		memfault.Unregister(t.regions[i].mem)
		unix.Munmap(t.regions[i].mapping)
		t.regions[i] = region{}
	}
	t.n = 0
}

// gpa returns the n bytes of guest memory at guest-physical address addr,
// or false when they are not all inside one region.
func (t *memTable) gpa(addr uint64, n uint32) ([]byte, bool) {
	for i := range t.n {
		r := &t.regions[i]
		off := addr - r.gpa
		if addr >= r.gpa && off < r.size && uint64(n) <= r.size-off {
			return r.mem[off : off+uint64(n) : off+uint64(n)], true
		}
	}
	return nil, false
}

// uva is gpa for a front-end user address (ring addresses).
func (t *memTable) uva(addr uint64, n uint64) ([]byte, bool) {
	for i := range t.n {
		r := &t.regions[i]
		off := addr - r.uva
		if addr >= r.uva && off < r.size && n <= r.size-off {
			return r.mem[off : off+n : off+n], true
		}
	}
	return nil, false
}
