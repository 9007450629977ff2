package vhost

// RingFill is one running virtqueue's fill level, read from guest memory
// for the metrics endpoint; nothing on the packet path counts it.
type RingFill struct {
	Queue int    // queue pair
	Dir   string // "rx": the guest's TX ring (packets for the switch to receive); "tx": the guest's RX ring (buffers for the switch to fill)
	Size  int    // entries in the ring
	// Fill is avail.idx - used.idx: entries the guest made available that
	// the switch has not returned yet (for "rx" a backlog, for "tx" the
	// room left for packets to the guest).
	Fill int
}

// RingFill samples the running rings. It holds the device's lock, under
// which the control side maps and unmaps guest memory, so the rings it
// reads stay mapped.
func (d *Device) RingFill() []RingFill {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []RingFill
	for i := range d.rings {
		if !d.gate(i).running() {
			continue
		}
		r := d.vring(i)
		dir := "tx"
		if i%2 == 1 {
			dir = "rx"
		}
		// A guest may write any avail.idx; more than the ring holds is
		// reported as full.
		var fill int
		if !d.touchGuest(func() { fill = min(int(r.availIdx()-r.readUsedIdx()), int(r.num)) }) {
			continue
		}
		out = append(out, RingFill{Queue: i / 2, Dir: dir, Size: int(r.num), Fill: fill})
	}
	return out
}
