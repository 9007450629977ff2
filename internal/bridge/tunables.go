package bridge

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/govs/govs/internal/dpif"
)

// OVS's bounds for the datapath's other_config keys (vswitchd.xml).
const (
	maxPMDSleepMax = 10 * time.Millisecond // pmd-sleep-max is capped at 10 000 µs
	minMaxIdle     = 500 * time.Millisecond
)

// tunablesFrom reads the datapath settings of Open_vSwitch other_config:
//
//	pmd-sleep-max        µs an idle PMD may sleep (pmd-maxsleep, OVS 3.1's name, too)
//	max-idle             ms before an unused megaflow is deleted
//	flow-limit           megaflows installed at most
//	emc-insert-inv-prob  1 in how many megaflow hits enter the EMC; 0 never
//
// An absent key takes the value the switch started with (def). A key with
// a bad value keeps that value too and is reported, the others apply.
func tunablesFrom(oc map[string]string, def dpif.Config) (dpif.Tunables, error) {
	t := dpif.Tunables{
		PMDSleepMax: def.PMDSleepMax, MaxIdle: def.MaxIdle,
		FlowLimit: def.FlowLimit, EMCInsertInvProb: def.EMCInsertInvProb,
	}
	var errs []error
	number := func(key string, limit uint64) (uint64, bool) {
		v, ok := oc[key]
		if !ok {
			return 0, false
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > limit {
			errs = append(errs, fmt.Errorf("other_config:%s=%q: want an integer from 0 to %d", key, v, limit))
			return 0, false
		}
		return n, true
	}
	sleepKey := "pmd-sleep-max"
	if _, ok := oc[sleepKey]; !ok {
		sleepKey = "pmd-maxsleep"
	}
	if us, ok := number(sleepKey, 1<<32-1); ok {
		t.PMDSleepMax = min(time.Duration(us)*time.Microsecond, maxPMDSleepMax)
	}
	if ms, ok := number("max-idle", 1<<32-1); ok {
		t.MaxIdle = max(time.Duration(ms)*time.Millisecond, minMaxIdle)
	}
	if n, ok := number("flow-limit", 1<<32-1); ok {
		t.FlowLimit = int(max(n, 1))
	}
	if p, ok := number("emc-insert-inv-prob", 1<<32-1); ok {
		t.EMCInsertInvProb = int(p)
		if p == 0 {
			t.EMCInsertInvProb = -1 // OVS: 0 disables EMC insertion
		}
	}
	return t, errors.Join(errs...)
}
