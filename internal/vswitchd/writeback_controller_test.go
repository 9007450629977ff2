package vswitchd

import (
	"maps"
	"slices"
	"testing"

	"github.com/ovn-kubernetes/libovsdb/model"

	ovsdbc "github.com/govs/govs/internal/ovsdb"
	"github.com/govs/govs/internal/ovsdb/vswitch"
)

func TestControllerWriteBack(t *testing.T) {
	master, other := "master", "other"
	snap := &ovsdbc.Snapshot{Controllers: map[string]*vswitch.Controller{
		// Connected now: every column changes.
		"c1": {UUID: "c1", Target: "tcp:10.0.0.1:6653"},
		// Already written: nothing to do.
		"c2": {UUID: "c2", Target: "ptcp:6653", IsConnected: true, Role: &master,
			Status: map[string]string{"state": "ACTIVE"}},
		// Lost its connection: role cleared.
		"c3": {UUID: "c3", Target: "tcp:10.0.0.3:6653", IsConnected: true, Role: &other,
			Status: map[string]string{"state": "ACTIVE"}},
		// Not reported by the switch (not applied yet): left alone.
		"c4": {UUID: "c4", Target: "tcp:10.0.0.4:6653"},
	}}
	row := &vswitch.Bridge{Name: "br0", Controller: []string{"c1", "c2", "c3", "c4", "gone"}}
	states := []ControllerState{
		{Target: "tcp:10.0.0.1:6653", IsConnected: true, Role: "master", Status: map[string]string{"state": "ACTIVE"}},
		{Target: "ptcp:6653", IsConnected: true, Role: "master", Status: map[string]string{"state": "ACTIVE"}},
		{Target: "tcp:10.0.0.3:6653", Status: map[string]string{"state": "BACKOFF", "last_error": "Connection refused"}},
	}
	got := map[string]*vswitch.Controller{}
	fields := map[string]int{}
	controllerWriteBack(snap, row, states, func(m model.Model, f ...any) {
		if len(f) == 0 {
			return
		}
		c := m.(*vswitch.Controller)
		got[c.UUID] = c
		fields[c.UUID] = len(f)
	})
	if len(got) != 2 || got["c1"] == nil || got["c3"] == nil {
		t.Fatalf("updated %v, want c1 and c3", slices.Sorted(maps.Keys(got)))
	}
	if c := got["c1"]; !c.IsConnected || c.Role == nil || *c.Role != "master" || c.Status["state"] != "ACTIVE" || fields["c1"] != 3 {
		t.Errorf("c1 = %+v (%d fields)", c, fields["c1"])
	}
	if c := got["c3"]; c.IsConnected || c.Role != nil || c.Status["last_error"] != "Connection refused" || fields["c3"] != 3 {
		t.Errorf("c3 = %+v (%d fields)", c, fields["c3"])
	}
}
