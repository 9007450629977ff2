package vhost

// Ring life cycle on the control side (Device.mu held). A ring runs when
// the guest memory is mapped and the front-end has given it a size,
// addresses and a kick, and, once VHOST_USER_F_PROTOCOL_FEATURES is
// negotiated, enabled it (vhost-user.rst, "Ring states").

func (d *Device) vring(i int) *vring {
	if i%2 == 0 {
		return &d.txq[i/2].ring
	}
	return &d.rxq[i/2].ring
}

func (d *Device) gate(i int) *gate {
	if i%2 == 0 {
		return &d.txq[i/2].gate
	}
	return &d.rxq[i/2].gate
}

// stopRingLocked keeps the PMD out of ring i and gives the guest back what
// a receive queue still held.
func (d *Device) stopRingLocked(i int) {
	g := d.gate(i)
	if !g.running() {
		return
	}
	g.stop()
	if i%2 == 1 {
		q := d.rxq[i/2]
		if !d.touchGuest(q.returnHeld) {
			q.nheld = 0
		}
	}
}

func (d *Device) shouldRun(i int) bool {
	rc := &d.rings[i]
	return d.mem != nil && rc.num > 0 && rc.addrSet && rc.started &&
		(rc.enabled || d.features&FeatProtocolFeatures == 0)
}

// updateRingLocked starts or stops ring i as its configuration says, and
// publishes the device's link state.
func (d *Device) updateRingLocked(i int) error {
	defer d.publishLocked()
	g := d.gate(i)
	if !d.shouldRun(i) {
		d.stopRingLocked(i)
		return nil
	}
	if g.running() {
		return nil
	}
	r := d.vring(i)
	rc := &d.rings[i]
	if err := r.setup(d.mem, rc.num, rc.addr); err != nil {
		return err
	}
	f := d.features
	r.eventIdx = f&FeatRingEventIdx != 0
	r.indirect = f&FeatRingIndirectDesc != 0
	r.callFD = rc.callFD
	hdrLen := 10
	if f&(FeatVersion1|FeatNetMrgRxbuf) != 0 {
		hdrLen = 12
	}
	if i%2 == 0 {
		t := d.txq[i/2]
		t.hdrLen, t.mrg = hdrLen, f&FeatNetMrgRxbuf != 0
	} else {
		d.rxq[i/2].hdrLen = hdrLen
		d.rxq[i/2].nheld = 0
	}
	// Resume where the guest saw us stop: whatever we took and did not
	// return (a back-end that died mid-batch) is taken again.
	var flags uint32
	if !r.eventIdx {
		flags = usedFNoNotify // we poll: the guest need not kick
	}
	if !d.touchGuest(func() {
		r.usedIdx = r.readUsedIdx()
		r.lastAvail = r.usedIdx
		word(r.used, 0).Store(uint32(r.usedIdx)<<16 | flags)
	}) {
		return ErrGuestMemoryFault
	}
	g.start()
	return nil
}

// reconfigureLocked stops every ring, applies f, and restarts the rings
// that should run. It returns the first ring that failed to start.
func (d *Device) reconfigureLocked(f func()) error {
	for i := range d.rings {
		d.stopRingLocked(i)
	}
	f()
	var first error
	for i := range d.rings {
		if err := d.updateRingLocked(i); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// publishLocked publishes the running transmit rings and the link state.
func (d *Device) publishLocked() {
	act := make([]uint16, 0, len(d.txq))
	up := false
	for i, t := range d.txq {
		if t.gate.running() {
			act = append(act, uint16(i))
			if d.rxq[i].gate.running() {
				up = true
			}
		}
	}
	d.txActive.Store(&act)
	d.link.Store(up)
}
