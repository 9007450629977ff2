package vswitchd

import (
	"io"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func bridge(name string, ports ...PortSpec) BridgeSpec {
	b := BridgeSpec{Name: name, DatapathType: "netdev", RequestedDatapathType: "netdev", Ports: map[string]PortSpec{}}
	for _, p := range ports {
		b.Ports[p.Name] = p
	}
	return b
}

func port(name string, ifaces ...InterfaceSpec) PortSpec {
	p := PortSpec{Name: name, Interfaces: map[string]InterfaceSpec{}}
	for _, i := range ifaces {
		p.Interfaces[i.Name] = i
	}
	return p
}

func iface(name, typ string) InterfaceSpec { return InterfaceSpec{Name: name, Type: typ} }

func config(bridges ...BridgeSpec) Config {
	c := Config{Bridges: map[string]BridgeSpec{}}
	for _, b := range bridges {
		c.Bridges[b.Name] = b
	}
	return c
}

// step is one Reconcile and the calls it must make, in order.
type step struct {
	cfg   Config
	calls []string
}

func TestReconcile(t *testing.T) {
	base := bridge("br0", port("br0", iface("br0", "internal")), port("p1", iface("p1", "tap")))
	tagged := bridge("br0", port("br0", iface("br0", "internal")), port("p1", iface("p1", "tap")))
	p1 := tagged.Ports["p1"]
	p1.Tag, p1.Tagged = 10, true
	tagged.Ports["p1"] = p1
	req := bridge("br0", port("br0", iface("br0", "internal")), port("p1", InterfaceSpec{Name: "p1", Type: "tap", OFPortRequest: 9}))
	hinted := bridge("br0", port("br0", iface("br0", "internal")), port("p1", InterfaceSpec{Name: "p1", Type: "tap", OFPortHint: 1}))
	retyped := bridge("br0", port("br0", iface("br0", "internal")), port("p1", iface("p1", "internal")))
	secure := bridge("br0", port("br0", iface("br0", "internal")), port("p1", iface("p1", "tap")))
	secure.FailMode = "secure"

	tests := []struct {
		name  string
		steps []step
	}{
		{"add bridge with ports, bridge port first", []step{
			{config(base), []string{"SetOtherConfig {}", "AddBridge br0", "AddInterface br0 br0 br0 type=internal ofport=65534", "AddInterface br0 p1 p1 type=tap ofport=1"}},
		}},
		{"same config again makes no calls", []step{
			{config(base), nil}, {config(base), nil},
		}},
		{"ofport hint alone changes nothing", []step{
			{config(base), nil}, {config(hinted), nil},
		}},
		{"port tag change reconfigures only the port", []step{
			{config(base), nil}, {config(tagged), []string{"ReconfigurePort br0 p1 tag=10 trunks=[] vlan_mode="}},
		}},
		{"ofport_request change reconfigures the interface", []step{
			{config(base), nil}, {config(req), []string{"ReconfigureInterface br0 p1 p1 ofport=9"}},
		}},
		{"type change deletes and re-adds", []step{
			{config(base), nil}, {config(retyped), []string{"DelInterface br0 p1", "AddInterface br0 p1 p1 type=internal ofport=1"}},
		}},
		{"fail mode change reconfigures the bridge only", []step{
			{config(base), nil}, {config(secure), []string{"ReconfigureBridge br0"}},
		}},
		{"del port", []step{
			{config(base), nil}, {config(bridge("br0", port("br0", iface("br0", "internal")))), []string{"DelInterface br0 p1"}},
		}},
		{"del bridge is one call", []step{
			{config(base), nil}, {config(), []string{"DelBridge br0"}},
		}},
		{"interface moves between bridges: deleted before added", []step{
			{config(base, bridge("br1", port("br1", iface("br1", "internal")))), nil},
			{config(bridge("br0", port("br0", iface("br0", "internal"))), bridge("br1", port("br1", iface("br1", "internal")), port("p1", iface("p1", "tap")))),
				[]string{"DelInterface br0 p1", "AddInterface br1 p1 p1 type=tap ofport=1"}},
		}},
		{"other_config change", []step{
			{config(), []string{"SetOtherConfig {}"}},
			{Config{Bridges: map[string]BridgeSpec{}, OtherConfig: map[string]string{"pmd-cpu-mask": "0x2"}}, []string{"SetOtherConfig {pmd-cpu-mask=0x2}"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sw := NewLogSwitch(quiet())
			r := NewReconciler(sw, quiet())
			for i, st := range tt.steps {
				before := len(sw.Calls())
				r.Reconcile(st.cfg)
				got := sw.Calls()[before:]
				if st.calls == nil && i > 0 && len(got) != 0 {
					t.Errorf("step %d: want no calls, got %q", i, got)
				}
				if st.calls != nil {
					if diff := cmp.Diff(st.calls, got); diff != "" {
						t.Errorf("step %d calls (-want +got):\n%s", i, diff)
					}
				}
			}
		})
	}
}

func TestReconcileFailedInterfaceIsIsolatedAndRetried(t *testing.T) {
	sw := NewLogSwitch(quiet())
	r := NewReconciler(sw, quiet())
	cfg := config(bridge("br0", port("br0", iface("br0", "internal")), port("bad", iface("bad", "bogus")), port("p1", iface("p1", "tap"))))
	r.Reconcile(cfg)
	if got := r.results["bad"]; got.err == "" {
		t.Fatalf("bad interface: no error recorded: %+v", got)
	}
	if got := r.results["p1"]; got.err != "" || got.ofport != 1 {
		t.Fatalf("p1 disturbed by the bad interface: %+v", got)
	}
	before := len(sw.Calls())
	r.Reconcile(cfg)
	want := []string{`AddInterface br0 bad bad failed: could not open network device bad (unknown interface type "bogus")`}
	if diff := cmp.Diff(want, sw.Calls()[before:]); diff != "" {
		t.Errorf("second pass retries only the failed interface (-want +got):\n%s", diff)
	}
}

func TestReconcileOFPortRequestConflict(t *testing.T) {
	sw := NewLogSwitch(quiet())
	r := NewReconciler(sw, quiet())
	r.Reconcile(config(bridge("br0",
		port("a", InterfaceSpec{Name: "a", Type: "tap", OFPortRequest: 5}),
		port("b", InterfaceSpec{Name: "b", Type: "tap", OFPortRequest: 5}))))
	if r.results["a"].ofport != 5 || r.results["b"].err == "" {
		t.Errorf("want a on 5 and b refused, got a=%+v b=%+v", r.results["a"], r.results["b"])
	}
}

func TestReconcileRejectedRows(t *testing.T) {
	sw := NewLogSwitch(quiet())
	r := NewReconciler(sw, quiet())
	cfg := config(bridge("br0", port("br0", iface("br0", "internal"))))
	cfg.Rejected = map[string]string{"dup": "interface dup is already in port br1/dup"}
	r.Reconcile(cfg)
	if got := r.results["dup"].err; got != cfg.Rejected["dup"] {
		t.Errorf("rejected interface error = %q", got)
	}
}

func TestDatapathID(t *testing.T) {
	mac := []byte{0x02, 0, 0, 0, 0, 0x01}
	tests := []struct {
		name string
		oc   map[string]string
		want uint64
	}{
		{"from mac", nil, 0x020000000001},
		{"other_config datapath-id", map[string]string{"datapath-id": "00000000000000aa"}, 0xaa},
		{"datapath-id with 0x", map[string]string{"datapath-id": "0x00000000000000bb"}, 0xbb},
		{"short datapath-id ignored", map[string]string{"datapath-id": "aa"}, 0x020000000001},
		{"hwaddr", map[string]string{"hwaddr": "00:11:22:33:44:55"}, 0x001122334455},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DatapathID(BridgeSpec{OtherConfig: tt.oc}, mac); got != tt.want {
				t.Errorf("got %016x want %016x", got, tt.want)
			}
		})
	}
}
