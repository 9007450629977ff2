package ofproto

import (
	"sync/atomic"
	"time"
)

// Meter numbers (ofp_meter).
const (
	MeterMax        uint32 = 0xffff0000
	MeterSlowPath   uint32 = 0xfffffffd
	MeterController uint32 = 0xfffffffe
	MeterAll        uint32 = 0xffffffff
)

// MeterModCommand is ofp_meter_mod_command.
type MeterModCommand uint8

const (
	MeterAdd    MeterModCommand = 0
	MeterModify MeterModCommand = 1
	MeterDelete MeterModCommand = 2
)

// MeterMod is a meter table modification.
type MeterMod struct {
	Command MeterModCommand
	MeterSpec
}

// MaxBands bounds a meter's bands.
const MaxBands = 8

// BandStats counts what one band acted on.
type BandStats struct {
	Packets atomic.Uint64
	Bytes   atomic.Uint64
}

// Meter is a meter in the bridge's meter table. The rate limiting itself
// runs in the datapath; this holds the spec and statistics.
type Meter struct {
	Spec    MeterSpec
	Created time.Time

	Packets atomic.Uint64 // input to the meter
	Bytes   atomic.Uint64
	Bands   []BandStats
}

// Meter returns meter id or nil. Caller holds RLock.
func (b *Bridge) Meter(id uint32) *Meter { return b.meters[id] }

// Meters returns the meters by id. It takes the read lock.
func (b *Bridge) Meters() []*Meter {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]*Meter, 0, len(b.meters))
	for _, m := range b.meters {
		out = append(out, m)
	}
	sortMeters(out)
	return out
}

// MeterMod applies mm (OF1.3 §6.6).
func (b *Bridge) MeterMod(mm *MeterMod) error {
	b.mu.Lock()
	var removed []Removed
	var err error
	switch mm.Command {
	case MeterAdd, MeterModify:
		err = b.addOrModifyMeterLocked(mm)
	case MeterDelete:
		removed, err = b.deleteMeterLocked(mm.ID)
	default:
		err = ofErr(ErrMeterModFailed, MeterModBadCommand, "meter-mod command %d", mm.Command)
	}
	if err != nil {
		b.mu.Unlock()
		return err
	}
	b.changed(removed)
	return nil
}

func (b *Bridge) addOrModifyMeterLocked(mm *MeterMod) error {
	if mm.ID == 0 || mm.ID > MeterMax {
		return ofErr(ErrMeterModFailed, MeterModInvalidMeter, "meter id %#x", mm.ID)
	}
	old := b.meters[mm.ID]
	if mm.Command == MeterAdd && old != nil {
		return ofErr(ErrMeterModFailed, MeterModMeterExists, "meter %d exists", mm.ID)
	}
	if mm.Command == MeterModify && old == nil {
		return ofErr(ErrMeterModFailed, MeterModUnknownMeter, "meter %d", mm.ID)
	}
	if mm.Command == MeterAdd && len(b.meters) >= b.MaxMeters {
		return ofErr(ErrMeterModFailed, MeterModOutOfMeters, "%d meters", len(b.meters))
	}
	if err := validateMeter(&mm.MeterSpec); err != nil {
		return err
	}
	spec := mm.MeterSpec
	spec.Bands = append([]MeterBand(nil), mm.Bands...)
	m := &Meter{Spec: spec, Created: b.Now(), Bands: make([]BandStats, len(spec.Bands))}
	if old != nil {
		m.Created = old.Created
		m.Packets.Store(old.Packets.Load())
		m.Bytes.Store(old.Bytes.Load())
	}
	b.meters[mm.ID] = m
	return nil
}

func validateMeter(s *MeterSpec) error {
	const known = MeterKbps | MeterPktps | MeterBurst | MeterStats
	if s.Flags&^known != 0 || s.Flags&(MeterKbps|MeterPktps) == MeterKbps|MeterPktps {
		return ofErr(ErrMeterModFailed, MeterModBadFlags, "meter flags %#x", s.Flags)
	}
	if len(s.Bands) > MaxBands {
		return ofErr(ErrMeterModFailed, MeterModOutOfBands, "%d bands", len(s.Bands))
	}
	for i, bd := range s.Bands {
		switch bd.Type {
		case BandDrop:
		case BandDSCPRemark:
			if bd.PrecLevel == 0 || bd.PrecLevel > 63 {
				return ofErr(ErrMeterModFailed, MeterModBadBandValue, "band %d prec_level %d", i, bd.PrecLevel)
			}
		default:
			return ofErr(ErrMeterModFailed, MeterModBadBand, "band %d type %d", i, bd.Type)
		}
		if bd.Rate == 0 {
			return ofErr(ErrMeterModFailed, MeterModBadRate, "band %d rate 0", i)
		}
		if s.Flags&MeterBurst != 0 && bd.Burst == 0 {
			return ofErr(ErrMeterModFailed, MeterModBadBurst, "band %d burst 0 with BURST", i)
		}
	}
	return nil
}

func (b *Bridge) deleteMeterLocked(id uint32) ([]Removed, error) {
	var ids []uint32
	switch {
	case id == MeterAll:
		for mid := range b.meters {
			ids = append(ids, mid)
		}
	case b.meters[id] != nil:
		ids = []uint32{id}
	}
	var removed []Removed
	for _, mid := range ids {
		delete(b.meters, mid)
		var rules []*Rule
		for _, t := range b.tables {
			t.cls.each(func(r *Rule) bool {
				if r.UsesMeter(mid) {
					rules = append(rules, r)
				}
				return true
			})
		}
		removed = append(removed, b.removeRulesLocked(rules, RemovedMeterDelete)...)
	}
	return removed, nil
}
