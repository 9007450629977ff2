package bridge

import (
	"strings"
	"testing"
	"time"

	"github.com/govs/govs/internal/dpif"
)

func TestTunablesFrom(t *testing.T) {
	def := dpif.Config{PMDSleepMax: time.Millisecond, MaxIdle: 3 * time.Second, FlowLimit: 7, EMCInsertInvProb: 5}
	defT := dpif.Tunables{PMDSleepMax: time.Millisecond, MaxIdle: 3 * time.Second, FlowLimit: 7, EMCInsertInvProb: 5}
	for _, tc := range []struct {
		oc   map[string]string
		want dpif.Tunables
		err  string
	}{
		{nil, defT, ""},
		{map[string]string{"pmd-sleep-max": "500", "max-idle": "2000", "flow-limit": "1000", "emc-insert-inv-prob": "1"},
			dpif.Tunables{PMDSleepMax: 500 * time.Microsecond, MaxIdle: 2 * time.Second, FlowLimit: 1000, EMCInsertInvProb: 1}, ""},
		// OVS's bounds: sleep at most 10 ms, max-idle at least 500 ms; an
		// inverse probability of 0 turns EMC insertion off.
		{map[string]string{"pmd-sleep-max": "50000", "max-idle": "10", "emc-insert-inv-prob": "0"},
			dpif.Tunables{PMDSleepMax: 10 * time.Millisecond, MaxIdle: 500 * time.Millisecond, FlowLimit: 7, EMCInsertInvProb: -1}, ""},
		// OVS 3.1's name for pmd-sleep-max.
		{map[string]string{"pmd-maxsleep": "100"},
			dpif.Tunables{PMDSleepMax: 100 * time.Microsecond, MaxIdle: 3 * time.Second, FlowLimit: 7, EMCInsertInvProb: 5}, ""},
		// A bad value keeps the default and is reported; the rest apply.
		{map[string]string{"flow-limit": "many", "pmd-sleep-max": "20"},
			dpif.Tunables{PMDSleepMax: 20 * time.Microsecond, MaxIdle: 3 * time.Second, FlowLimit: 7, EMCInsertInvProb: 5},
			`other_config:flow-limit="many"`},
		{map[string]string{"max-idle": "-1"}, defT, `other_config:max-idle="-1"`},
	} {
		got, err := tunablesFrom(tc.oc, def)
		if got != tc.want {
			t.Errorf("%v: got %+v, want %+v", tc.oc, got, tc.want)
		}
		if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%v: err %v, want %q", tc.oc, err, tc.err)
		}
	}
}
