package ofagent

import (
	"strings"
	"testing"
)

func TestOfctlSmoke(t *testing.T) {
	ts := newTestSwitch(t)
	for _, proto := range [][]string{nil, {"-O", "OpenFlow13"}} {
		run := func(args ...string) string { return ts.ofctl(t, append(append([]string{}, proto...), args...)...) }
		t.Log(run("show", "SW"))
		run("add-flow", "SW", "priority=100,in_port=1,ip,nw_dst=10.0.0.1,actions=output:2")
		run("add-flow", "SW", "table=1,priority=7,reg0=5,tcp,tp_dst=80,actions=load:0x5->NXM_NX_REG2[0..15],resubmit(,3),output:1")
		t.Log(run("dump-flows", "SW"))
		t.Log(run("dump-aggregate", "SW"))
		t.Log(run("dump-ports", "SW"))
		t.Log(run("dump-ports-desc", "SW"))
		out := run("dump-tables", "SW")
		t.Log(out[:min(400, len(out))])
		run("del-flows", "SW")
		if s := run("dump-flows", "SW"); strings.Contains(s, "priority") {
			t.Fatal(s)
		}
	}
}
