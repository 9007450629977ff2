package ofproto

import "testing"

func mtr(id uint32, flags uint16, bands ...MeterBand) *MeterMod {
	return &MeterMod{Command: MeterAdd, MeterSpec: MeterSpec{ID: id, Flags: flags, Bands: bands}}
}

var dropBand = MeterBand{Type: BandDrop, Rate: 1000}

func TestMeterModErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup bool // meter 1 exists
		mm    *MeterMod
		code  uint16
	}{
		{"exists", true, mtr(1, MeterKbps, dropBand), MeterModMeterExists},
		{"zero id", false, mtr(0, MeterKbps, dropBand), MeterModInvalidMeter},
		{"reserved id", false, mtr(MeterController, MeterKbps, dropBand), MeterModInvalidMeter},
		{"modify unknown", false, &MeterMod{Command: MeterModify, MeterSpec: MeterSpec{ID: 3, Flags: MeterKbps}}, MeterModUnknownMeter},
		{"bad command", false, &MeterMod{Command: 5}, MeterModBadCommand},
		{"kbps and pktps", false, mtr(1, MeterKbps|MeterPktps, dropBand), MeterModBadFlags},
		{"unknown flag", false, mtr(1, 1<<9, dropBand), MeterModBadFlags},
		{"zero rate", false, mtr(1, MeterKbps, MeterBand{Type: BandDrop}), MeterModBadRate},
		{"burst flag without burst", false, mtr(1, MeterKbps|MeterBurst, dropBand), MeterModBadBurst},
		{"unknown band", false, mtr(1, MeterKbps, MeterBand{Type: 7, Rate: 1}), MeterModBadBand},
		{"dscp remark without level", false, mtr(1, MeterKbps, MeterBand{Type: BandDSCPRemark, Rate: 1}), MeterModBadBandValue},
		{"too many bands", false, mtr(1, MeterKbps, dropBand, dropBand, dropBand, dropBand, dropBand,
			dropBand, dropBand, dropBand, dropBand), MeterModOutOfBands},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := NewBridge("br0")
			if c.setup {
				if err := b.MeterMod(mtr(1, MeterKbps, dropBand)); err != nil {
					t.Fatal(err)
				}
			}
			fmWantErr(t, b.MeterMod(c.mm), ErrMeterModFailed, c.code)
		})
	}
}

func TestMeterModLifecycle(t *testing.T) {
	b := NewBridge("br0")
	b.MaxMeters = 2
	if err := b.MeterMod(mtr(1, MeterPktps|MeterBurst, MeterBand{Type: BandDrop, Rate: 10, Burst: 5})); err != nil {
		t.Fatal(err)
	}
	if err := b.MeterMod(mtr(2, MeterKbps, MeterBand{Type: BandDSCPRemark, Rate: 10, PrecLevel: 1})); err != nil {
		t.Fatal(err)
	}
	fmWantErr(t, b.MeterMod(mtr(3, MeterKbps, dropBand)), ErrMeterModFailed, MeterModOutOfMeters)

	b.RLock()
	b.Meter(1).Packets.Add(9)
	b.RUnlock()
	if err := b.MeterMod(&MeterMod{Command: MeterModify, MeterSpec: MeterSpec{ID: 1, Flags: MeterKbps, Bands: []MeterBand{dropBand}}}); err != nil {
		t.Fatal(err)
	}
	b.RLock()
	m := b.Meter(1)
	b.RUnlock()
	if m.Spec.Flags != MeterKbps || m.Packets.Load() != 9 || len(m.Bands) != 1 {
		t.Fatalf("modified meter %+v", m.Spec)
	}

	// Rules metered by a deleted meter go with it.
	fm := NewFlowMod(FlowAdd)
	fm.Match, fm.Meter = fmMatch(t, "in_port=1"), 1
	if err := b.FlowMod(fm); err != nil {
		t.Fatal(err)
	}
	fm = NewFlowMod(FlowAdd)
	fm.Match, fm.Apply = fmMatch(t, "in_port=2"), []Action{{Type: ActMeter, Meter: 2}}
	if err := b.FlowMod(fm); err != nil {
		t.Fatal(err)
	}
	var removed []Removed
	b.OnRemoved = func(r []Removed) { removed = append(removed, r...) }
	if err := b.MeterMod(&MeterMod{Command: MeterDelete, MeterSpec: MeterSpec{ID: 1}}); err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0].Reason != RemovedMeterDelete || removed[0].Rule.Match.Key().InPort != 1 {
		t.Fatalf("removed %v", removed)
	}
	if err := b.MeterMod(&MeterMod{Command: MeterDelete, MeterSpec: MeterSpec{ID: MeterAll}}); err != nil {
		t.Fatal(err)
	}
	if len(b.Meters()) != 0 || len(b.Flows(AllFlows())) != 0 || len(removed) != 2 {
		t.Fatalf("after delete all: %d meters, %d flows", len(b.Meters()), len(b.Flows(AllFlows())))
	}
}
