package dpif

import (
	"sync/atomic"
	"time"
)

// Tunables are the settings Open_vSwitch other_config may change while the
// datapath runs (names in Config). Zero values mean Config's defaults.
type Tunables struct {
	PMDSleepMax      time.Duration
	MaxIdle          time.Duration
	FlowLimit        int
	EMCInsertInvProb int
}

// tunables holds the live values. PMDs read sleepMax each idle iteration
// and emcInvProb when they serve a rendezvous, the control side the rest,
// so a change needs no restart of anything.
type tunables struct {
	sleepMax   atomic.Int64 // ns
	maxIdle    atomic.Int64 // ns
	flowLimit  atomic.Int64
	emcInvProb atomic.Uint32 // insert 1 in emcInvProb; 0: never
}

func (t *tunables) store(c Config) {
	t.sleepMax.Store(int64(max(c.PMDSleepMax, 0)))
	t.maxIdle.Store(int64(c.MaxIdle))
	t.flowLimit.Store(int64(c.FlowLimit))
	t.emcInvProb.Store(emcInvProb(c.EMCInsertInvProb))
}

// emcInvProb turns Config.EMCInsertInvProb (negative: never) into the
// EMC's form (0: never).
func emcInvProb(p int) uint32 {
	if p <= 0 {
		return 0
	}
	return uint32(min(p, 1<<31))
}

// SetTunables applies t at once: on return every PMD uses the new EMC
// insertion probability, the next idle sleep and the next revalidation
// round the rest.
func (dp *Datapath) SetTunables(t Tunables) {
	c := dp.cfg
	c.PMDSleepMax, c.MaxIdle, c.FlowLimit, c.EMCInsertInvProb = t.PMDSleepMax, t.MaxIdle, t.FlowLimit, t.EMCInsertInvProb
	c = c.withDefaults()
	dp.tun.store(c)
	dp.pmdMu.Lock()
	dp.syncLocked()
	dp.pmdMu.Unlock()
}

// CurrentTunables returns the settings in force.
func (dp *Datapath) CurrentTunables() Tunables {
	p := int(dp.tun.emcInvProb.Load())
	if p == 0 {
		p = -1
	}
	return Tunables{
		PMDSleepMax:      time.Duration(dp.tun.sleepMax.Load()),
		MaxIdle:          time.Duration(dp.tun.maxIdle.Load()),
		FlowLimit:        int(dp.tun.flowLimit.Load()),
		EMCInsertInvProb: p,
	}
}
