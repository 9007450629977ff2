package odp

import (
	"math"
	"sync/atomic"
)

// Meter band types (OF1.3 ofp_meter_band_type).
const (
	MeterBandDrop       = 1 // drop the packet
	MeterBandDSCPRemark = 2 // raise the drop precedence of its DSCP
)

// MeterConfig describes a meter (OF1.3 §7.3.4.4 ofp_meter_mod): the units
// of its band rates (Kbps or Pktps; kbps when neither is set, as OVS
// does), whether band Burst sizes are given (else a band's bucket holds one
// second of its rate, as OVS's userspace datapath does), whether to count
// statistics, and its bands.
type MeterConfig struct {
	Kbps, Pktps, Burst, Stats bool
	Bands                     []MeterBand
}

// MeterBand is one band of a meter: it applies to the packets above Rate
// (kbit/s or packets/s) once Burst (kbit or packets) is used up.
// PrecLevel is how many drop-precedence levels a DSCP remark band adds.
type MeterBand struct {
	Type      uint8
	Rate      uint32
	Burst     uint32
	PrecLevel uint8
}

// Meter measures the rate of the packets passed through it and applies
// the band with the highest rate below the measured rate (OF1.3 §5.7.1).
//
// Each band is a token bucket written as the equivalent virtual
// scheduling algorithm (GCRA, ITU-T I.371): its whole state is one
// "theoretical arrival time", so PMD goroutines update it with a single
// compare-and-swap and no lock. A packet conforms to a band when sending
// it keeps the band's arrival time within the burst ahead of now; it then
// advances that time by its cost. A band a packet exceeds is not debited,
// as in OVS, so one band's overflow does not drain another's budget.
//
// Time is kept in ticks of 1/16 ns, which keeps per-packet costs exact
// enough at 100 Gbit/s and lasts 18 years from the clock's zero.
type Meter struct {
	bands   []meterBand
	byBytes bool // kbps: cost is per byte; pktps: per packet
	stats   bool

	// Counters, shared by every PMD using the meter.
	packets atomic.Uint64
	bytes   atomic.Uint64
}

type meterBand struct {
	tat     atomic.Int64 // theoretical arrival time, ticks
	costQ16 uint64       // ticks per cost unit (byte or packet) × 2^16
	depth   int64        // burst tolerance, ticks; < 0: nothing conforms
	rate    uint32
	typ     uint8
	prec    uint8

	packets atomic.Uint64 // packets this band applied to
	bytes   atomic.Uint64
}

const (
	ticksPerNs  = 16
	ticksPerSec = 1e9 * ticksPerNs
	maxDepth    = math.MaxInt64 / 4 // keeps tat+cost-now far from overflow
	maxPacket   = 1 << 16           // largest packet a cost is computed for
)

// NewMeter returns a meter for cfg. Bands of unknown type never apply, so
// the packets they would cover pass; a band with rate 0 applies to every
// packet (if none of higher rate does).
func NewMeter(cfg MeterConfig) *Meter {
	m := &Meter{bands: make([]meterBand, len(cfg.Bands)), byBytes: !cfg.Pktps || cfg.Kbps, stats: cfg.Stats}
	for i, c := range cfg.Bands {
		b := &m.bands[i]
		b.rate, b.typ, b.prec = c.Rate, c.Type, c.PrecLevel
		if c.Rate == 0 {
			b.depth = -1
			continue
		}
		burst := c.Burst
		if !cfg.Burst || burst == 0 {
			burst = c.Rate
		}
		// A kbit is 125 bytes: a byte costs 8e-3/rate s.
		perUnit := ticksPerSec / float64(c.Rate)
		if m.byBytes {
			perUnit *= 8.0 / 1000
		}
		// At most 2^40 even at 1 pkt/s, so units × costQ16 cannot overflow.
		b.costQ16 = uint64(perUnit * 65536)
		b.depth = int64(math.Min(float64(burst)*ticksPerSec/float64(c.Rate), maxDepth))
	}
	return m
}

// Pass runs one packet of pktLen bytes arriving at nowNs (a monotonic
// clock in nanoseconds) through the meter. It reports whether the packet
// passes, and for a packet a DSCP remark band applies to, the precedence
// levels to add (see RemarkDSCP). It is safe for concurrent use and does
// not allocate.
func (m *Meter) Pass(nowNs int64, pktLen int) (pass bool, precIncrease uint8) {
	if m.stats {
		m.packets.Add(1)
		m.bytes.Add(uint64(pktLen))
	}
	now := nowNs * ticksPerNs
	units := uint64(1)
	if m.byBytes {
		units = uint64(min(max(pktLen, 0), maxPacket))
	}
	applied := -1
	for i := range m.bands {
		b := &m.bands[i]
		if b.take(now, units) {
			continue
		}
		if b.typ != MeterBandDrop && b.typ != MeterBandDSCPRemark {
			continue
		}
		if applied < 0 || b.rate > m.bands[applied].rate {
			applied = i
		}
	}
	if applied < 0 {
		return true, 0
	}
	b := &m.bands[applied]
	if m.stats {
		b.packets.Add(1)
		b.bytes.Add(uint64(pktLen))
	}
	if b.typ == MeterBandDrop {
		return false, 0
	}
	return true, b.prec
}

// take debits the band for a packet of the given cost units and reports
// whether it conformed.
func (b *meterBand) take(now int64, units uint64) bool {
	if b.depth < 0 {
		return false
	}
	cost := int64(units * b.costQ16 >> 16)
	for {
		tat := b.tat.Load()
		t := max(tat, now)
		if t+cost-now > b.depth {
			return false
		}
		if b.tat.CompareAndSwap(tat, t+cost) {
			return true
		}
	}
}

// MeterStats are a meter's counters (OF1.3 ofp_meter_stats without the
// flow count and duration, which ofproto knows).
type MeterStats struct {
	Packets, Bytes uint64           // packets and bytes in
	Bands          []MeterBandStats // in configuration order
}

// MeterBandStats count the packets and bytes a band applied to.
type MeterBandStats struct {
	Packets, Bytes uint64
}

// Stats fills s, reusing s.Bands' storage. Counters stay zero unless the
// meter was configured with Stats.
func (m *Meter) Stats(s *MeterStats) {
	s.Packets, s.Bytes = m.packets.Load(), m.bytes.Load()
	s.Bands = s.Bands[:0]
	for i := range m.bands {
		b := &m.bands[i]
		s.Bands = append(s.Bands, MeterBandStats{Packets: b.packets.Load(), Bytes: b.bytes.Load()})
	}
}
