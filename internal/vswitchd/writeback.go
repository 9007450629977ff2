package vswitchd

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	ovsdbc "github.com/govs/govs/internal/ovsdb"
	"github.com/govs/govs/internal/ovsdb/vswitch"
)

// datapathTypeNote explains in Bridge.status why a "system" bridge works.
const datapathTypeNote = "govs serves this bridge with its userspace datapath (as datapath_type=netdev)"

// writeBack returns the operations that bring the status columns of the
// snapshot's rows to what the switch reports. Columns already right are not
// written, so a steady switch produces no transactions at all.
func (r *Reconciler) writeBack(api client.Client, s *ovsdbc.Snapshot, info systemInfo) []ovsdb.Operation {
	var ops []ovsdb.Operation
	add := func(m model.Model, fields ...any) {
		if len(fields) == 0 {
			return
		}
		o, err := api.Where(m).Update(m, fields...)
		if err == nil { // a row gone from the cache since the snapshot needs nothing
			ops = append(ops, o...)
		}
	}
	for _, u := range slices.Sorted(maps.Keys(s.Interfaces)) {
		row := s.Interfaces[u]
		res, ok := r.results[row.Name]
		if !ok {
			continue // in no bridge: not ours to describe
		}
		m := &vswitch.Interface{UUID: u}
		add(m, r.interfaceFields(row, res, m)...)
	}
	for _, u := range slices.Sorted(maps.Keys(s.Bridges)) {
		row := s.Bridges[u]
		b, ok := r.applied.Bridges[row.Name]
		if !ok {
			continue
		}
		st := r.sw.BridgeState(row.Name)
		m := &vswitch.Bridge{UUID: u}
		var f []any
		if dpid := fmt.Sprintf("%016x", st.DatapathID); !eqStr(row.DatapathID, dpid) {
			m.DatapathID = &dpid
			f = append(f, &m.DatapathID)
		}
		status := maps.Clone(st.Status)
		if b.RequestedDatapathType != b.DatapathType {
			if status == nil {
				status = map[string]string{}
			}
			status["datapath_type_note"] = datapathTypeNote
		}
		if !maps.Equal(row.Status, status) {
			m.Status = status
			f = append(f, &m.Status)
		}
		if row.DatapathVersion != info.datapathVersion {
			m.DatapathVersion = info.datapathVersion
			f = append(f, &m.DatapathVersion)
		}
		add(m, f...)
		controllerWriteBack(s, row, st.Controllers, add)
	}
	if root := s.Root; root != nil {
		m := &vswitch.OpenvSwitch{UUID: root.UUID}
		var f []any
		if root.CurCfg != r.applied.NextCfg {
			m.CurCfg = r.applied.NextCfg
			f = append(f, &m.CurCfg)
		}
		if dt := r.sw.DatapathTypes(); !slices.Equal(sortedCopy(root.DatapathTypes), sortedCopy(dt)) {
			m.DatapathTypes = dt
			f = append(f, &m.DatapathTypes)
		}
		if it := r.sw.InterfaceTypes(); !slices.Equal(sortedCopy(root.IfaceTypes), sortedCopy(it)) {
			m.IfaceTypes = it
			f = append(f, &m.IfaceTypes)
		}
		for _, c := range []struct {
			cur  *string
			want string
			dst  **string
		}{
			{root.OVSVersion, info.ovsVersion, &m.OVSVersion},
			{root.DbVersion, info.dbVersion, &m.DbVersion},
			{root.SystemType, info.systemType, &m.SystemType},
			{root.SystemVersion, info.systemVersion, &m.SystemVersion},
		} {
			if c.want != "" && !eqStr(c.cur, c.want) {
				w := c.want
				*c.dst = &w
				f = append(f, c.dst)
			}
		}
		add(m, f...)
	}
	return ops
}

// interfaceFields fills m with the columns of row that need writing and
// returns pointers to them.
func (r *Reconciler) interfaceFields(row *vswitch.Interface, res ifaceResult, m *vswitch.Interface) []any {
	var f []any
	if res.err != "" {
		if !eqInt(row.Ofport, -1) {
			v := -1
			m.Ofport = &v
			f = append(f, &m.Ofport)
		}
		if !eqStr(row.Error, res.err) {
			e := res.err
			m.Error = &e
			f = append(f, &m.Error)
		}
		return f
	}
	st := r.sw.InterfaceState(res.bridge, row.Name)
	if v := int(res.ofport); !eqInt(row.Ofport, v) {
		m.Ofport = &v
		f = append(f, &m.Ofport)
	}
	if row.Error != nil {
		f = append(f, &m.Error) // nil: clear it
	}
	if !maps.Equal(row.Status, st.Status) {
		m.Status = st.Status
		f = append(f, &m.Status)
	}
	if v := upDown(st.LinkUp); !eqStr(row.LinkState, v) {
		m.LinkState = &v
		f = append(f, &m.LinkState)
	}
	if v := upDown(st.AdminUp); !eqStr(row.AdminState, v) {
		m.AdminState = &v
		f = append(f, &m.AdminState)
	}
	if st.MACInUse != nil {
		if v := st.MACInUse.String(); !eqStr(row.MACInUse, v) {
			m.MACInUse = &v
			f = append(f, &m.MACInUse)
		}
	}
	if v := st.IfIndex; !eqInt(row.Ifindex, v) {
		m.Ifindex = &v
		f = append(f, &m.Ifindex)
	}
	if v := st.MTU; v > 0 && !eqInt(row.MTU, v) {
		m.MTU = &v
		f = append(f, &m.MTU)
	}
	if v := st.LinkSpeed; v > 0 && !eqInt(row.LinkSpeed, v) {
		m.LinkSpeed = &v
		f = append(f, &m.LinkSpeed)
	}
	if st.Stats != nil && !maps.Equal(row.Statistics, st.Stats) {
		m.Statistics = st.Stats
		f = append(f, &m.Statistics)
	}
	return f
}

// systemInfo is the version information written into the root row.
type systemInfo struct {
	ovsVersion, dbVersion, systemType, systemVersion, datapathVersion string
}

// readSystemInfo fills in what ovs-ctl would (system_type/version from
// os-release) and what ovs-vswitchd would.
func readSystemInfo(version string) systemInfo {
	info := systemInfo{
		ovsVersion:      version,
		dbVersion:       vswitch.Schema().Version,
		datapathVersion: "<built-in>",
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			v = strings.Trim(v, `"`)
			switch k {
			case "ID":
				info.systemType = v
			case "VERSION_ID":
				info.systemVersion = v
			}
		}
	}
	return info
}

func upDown(b bool) string {
	if b {
		return "up"
	}
	return "down"
}

func eqStr(p *string, v string) bool { return p != nil && *p == v }
func eqInt(p *int, v int) bool       { return p != nil && *p == v }

func sortedCopy(s []string) []string { return slices.Sorted(slices.Values(s)) }
