package vswitchd

import (
	"maps"

	"github.com/ovn-kubernetes/libovsdb/model"

	ovsdbc "github.com/govs/govs/internal/ovsdb"
	"github.com/govs/govs/internal/ovsdb/vswitch"
)

// controllerWriteBack adds (through add) what brings the Controller rows
// of bridge row to the switch's report, states: is_connected, role and
// status, as OVS's bridge.c refresh_controller_status writes them. Rows
// whose target the switch does not report are left alone.
func controllerWriteBack(s *ovsdbc.Snapshot, row *vswitch.Bridge, states []ControllerState, add func(model.Model, ...any)) {
	if len(row.Controller) == 0 || len(states) == 0 {
		return
	}
	byTarget := make(map[string]ControllerState, len(states))
	for _, st := range states {
		byTarget[st.Target] = st
	}
	for _, u := range row.Controller {
		c := s.Controllers[u]
		if c == nil {
			continue
		}
		st, ok := byTarget[c.Target]
		if !ok {
			continue // not (yet) applied
		}
		m := &vswitch.Controller{UUID: u}
		var f []any
		if c.IsConnected != st.IsConnected {
			m.IsConnected = st.IsConnected
			f = append(f, &m.IsConnected)
		}
		if st.Role == "" {
			if c.Role != nil {
				f = append(f, &m.Role) // nil: clear it
			}
		} else if c.Role == nil || *c.Role != st.Role {
			role := st.Role
			m.Role = &role
			f = append(f, &m.Role)
		}
		if !maps.Equal(c.Status, st.Status) {
			m.Status = st.Status
			if m.Status == nil {
				m.Status = map[string]string{}
			}
			f = append(f, &m.Status)
		}
		add(m, f...)
	}
}
