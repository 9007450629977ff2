package vswitchd

import (
	"testing"
	"time"

	"github.com/govs/govs/internal/ovsdb"
	"github.com/govs/govs/internal/ovsdb/vswitch"
)

func TestBuildConfig(t *testing.T) {
	tag, mode := 10, "native-untagged"
	req, cur := 7, 3
	s := &ovsdb.Snapshot{
		Root: &vswitch.OpenvSwitch{UUID: "root", Bridges: []string{"b0", "b1"}, NextCfg: 4, OtherConfig: map[string]string{"pmd-cpu-mask": "0x2"}},
		Bridges: map[string]*vswitch.Bridge{
			"b0": {UUID: "b0", Name: "br0", DatapathType: "system", Ports: []string{"p1", "p2"}},
			"b1": {UUID: "b1", Name: "br1", DatapathType: "netdev", Ports: []string{"p3", "p4"}},
		},
		Ports: map[string]*vswitch.Port{
			"p1": {UUID: "p1", Name: "p1", Interfaces: []string{"i1"}, Tag: &tag, Trunks: []int{30, 20}, VLANMode: &mode},
			"p2": {UUID: "p2", Name: "p2", Interfaces: []string{"i2"}},
			"p3": {UUID: "p3", Name: "p3", Interfaces: []string{"i1"}}, // i1 claimed twice
			"p4": {UUID: "p4", Name: "p4", Interfaces: []string{"i4"}},
		},
		Interfaces: map[string]*vswitch.Interface{
			"i1": {UUID: "i1", Name: "p1", Type: "tap", OfportRequest: &req, Ofport: &cur},
			"i2": {UUID: "i2", Name: "p2", MAC: ptr("not-a-mac")},
			"i4": {UUID: "i4", Name: "p4", Type: "patch", Options: map[string]string{"peer": "x"}},
		},
	}
	cfg := BuildConfig(s)

	if cfg.NextCfg != 4 || cfg.OtherConfig["pmd-cpu-mask"] != "0x2" {
		t.Errorf("root fields: %+v", cfg)
	}
	br0 := cfg.Bridges["br0"]
	if br0.DatapathType != "netdev" || br0.RequestedDatapathType != "system" {
		t.Errorf("system bridge: datapath %q requested %q", br0.DatapathType, br0.RequestedDatapathType)
	}
	p1 := br0.Ports["p1"]
	if !p1.Tagged || p1.Tag != 10 || p1.VLANMode != mode || len(p1.Trunks) != 2 || p1.Trunks[0] != 20 {
		t.Errorf("port fields: %+v", p1)
	}
	if i := p1.Interfaces["p1"]; i.OFPortRequest != 7 || i.OFPortHint != 3 || i.Type != "tap" {
		t.Errorf("interface fields: %+v", i)
	}
	if _, ok := br0.Ports["p2"]; ok {
		t.Error("port whose only interface has a bad mac should be left out")
	}
	if cfg.Rejected["p2"] == "" {
		t.Error("bad mac not reported")
	}
	if _, ok := cfg.Bridges["br1"].Ports["p3"]; ok {
		t.Error("interface claimed by two ports kept in the second")
	}
	if cfg.Rejected["p1"] == "" {
		t.Error("double claim not reported")
	}
	if cfg.Bridges["br1"].Ports["p4"].Interfaces["p4"].Options["peer"] != "x" {
		t.Error("options lost")
	}
}

func TestBuildConfigNoRoot(t *testing.T) {
	cfg := BuildConfig(&ovsdb.Snapshot{})
	if len(cfg.Bridges) != 0 {
		t.Errorf("bridges without a root row: %v", cfg.Bridges)
	}
}

func ptr[T any](v T) *T { return &v }

// TestBuildConfigControllers: ssl targets get the SSL row, probe and
// backoff settings are derived as OVS does, and an SSL row change is a
// bridge change.
func TestBuildConfigControllers(t *testing.T) {
	s := &ovsdb.Snapshot{
		Root: &vswitch.OpenvSwitch{UUID: "root", Bridges: []string{"b0"}, SSL: ptr("s1")},
		Bridges: map[string]*vswitch.Bridge{
			"b0": {UUID: "b0", Name: "br0", Controller: []string{"c1", "c2", "c3"}},
		},
		Controllers: map[string]*vswitch.Controller{
			"c1": {UUID: "c1", Target: "ssl:10.0.0.1", InactivityProbe: ptr(0), MaxBackoff: ptr(2500)},
			"c2": {UUID: "c2", Target: "tcp:10.0.0.2", InactivityProbe: ptr(1000)},
			"c3": {UUID: "c3", Target: "pssl:6653", InactivityProbe: ptr(12345)},
		},
		SSL: map[string]*vswitch.SSL{"s1": {UUID: "s1", PrivateKey: "k", Certificate: "c", CaCert: "ca"}},
	}
	br := BuildConfig(s).Bridges["br0"]
	want := []struct {
		target         string
		ssl            bool
		probe, backoff time.Duration
	}{
		{"pssl:6653", true, 12 * time.Second, 8 * time.Second},
		{"ssl:10.0.0.1", true, 0, 2 * time.Second},
		{"tcp:10.0.0.2", false, 5 * time.Second, 8 * time.Second},
	}
	if len(br.Controllers) != len(want) {
		t.Fatalf("controllers %+v", br.Controllers)
	}
	for i, w := range want {
		c := br.Controllers[i]
		if c.Target != w.target || (c.SSL != nil) != w.ssl || c.ProbeInterval() != w.probe || c.MaxBackoffInterval() != w.backoff {
			t.Errorf("controller %d: %+v probe %v backoff %v, want %+v", i, c, c.ProbeInterval(), c.MaxBackoffInterval(), w)
		}
	}
	if c := br.Controllers[1]; c.SSL == nil || *c.SSL != (SSLSpec{PrivateKey: "k", Certificate: "c", CACert: "ca"}) {
		t.Errorf("ssl spec %+v", c.SSL)
	}
	if (ControllerSpec{InactivityProbe: ProbeUnset}).ProbeInterval() != 5*time.Second {
		t.Error("unset inactivity_probe is not 5 s")
	}
	s.SSL["s1"].CaCert = "other"
	if br.sameBridgeFields(BuildConfig(s).Bridges["br0"]) {
		t.Error("an SSL row change does not reconfigure the bridge")
	}
}
