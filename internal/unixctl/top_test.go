package unixctl

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRenderTop(t *testing.T) {
	prev := &TopSnapshot{Time: 0,
		Ports: []TopPort{{Name: "p1", Type: "afxdp", RxPackets: 100, RxBytes: 10000}},
		PMDs:  []TopPMD{{PMD: 0, CPU: 1, Packets: 100, EMCHits: 50, MegaflowHits: 40, Lookups: 40, Upcalls: 10, BusyNs: 1e8, IdleNs: 9e8}},
		Flows: []TopFlow{{Flow: "recirc_id(0),in_port(p1),eth(), actions:p2", Packets: 100}},
	}
	cur := &TopSnapshot{Time: 2e9, Megaflows: 2,
		Ports: []TopPort{{Name: "p1", Type: "afxdp", RxPackets: 2100, RxBytes: 260000, RxDropped: 4}},
		PMDs:  []TopPMD{{PMD: 0, CPU: 1, Packets: 2100, EMCHits: 1550, MegaflowHits: 540, Lookups: 1040, Upcalls: 10, BusyNs: 6e8, IdleNs: 14e8}},
		Flows: []TopFlow{
			{Flow: "recirc_id(0),in_port(p1),eth(), actions:p2", Packets: 1100},
			{Flow: "recirc_id(0),in_port(p2),eth(), actions:p1", Packets: 1000, Bytes: 250000},
		},
	}
	out := renderTop(prev, cur, TopOptions{Flows: 10, Width: 120})
	for _, want := range []string{
		"interval 2.0s  megaflows 2\n",
		// 2000 packets and 250000 bytes in 2 s: 1000 pkt/s, 1 Mbit/s; 4 drops: 2/s.
		"p1               afxdp                  1000       1.00            0       0.00          2\n",
		// busy 5e8 of 1e9 ns; 2000 packets: EMC 1500 (75%), megaflow 500 (25%), 1000 lookups for 500 hits.
		"0       1   50.0         1000   75.0      25.0     0.0      2.00        0\n",
		"         500       0.00  recirc_id(0),in_port(p1),eth(), actions:p2\n",
		"         500       1.00  recirc_id(0),in_port(p2),eth(), actions:p1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("frame lacks %q:\n%s", want, out)
		}
	}
	if i, j := strings.Index(out, "in_port(p1)"), strings.Index(out, "in_port(p2)"); i < 0 || j < 0 {
		t.Errorf("flows missing:\n%s", out)
	}
}

func TestTopLive(t *testing.T) {
	ls := newLiveSwitch(t)
	ls.pingPong(t, 2)
	c, err := Dial(ls.path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// Traffic while top samples: p1 -> p2, unicast after learning.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			ls.ports["p1"].Inject(0, icmpFrame(mac1, mac2, 0x0a000001, 0x0a000002, uint16(i)))
			time.Sleep(time.Millisecond)
		}
	}()
	var out strings.Builder
	err = RunTop(context.Background(), c, &out, TopOptions{Interval: 100 * time.Millisecond, Iterations: 2})
	cancel()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	frames := strings.Split(out.String(), "\ngovs top ")
	if len(frames) != 2 {
		t.Fatalf("%d frames:\n%s", len(frames), out.String())
	}
	last := frames[1]
	t.Logf("last frame:\ngovs top %s", last)
	if !regexp.MustCompile(`(?m)^p1 +dummy +[1-9]\d* `).MatchString(last) {
		t.Errorf("p1 receives nothing:\n%s", last)
	}
	if !regexp.MustCompile(`(?m)^ +[1-9]\d* +\d+\.\d\d  recirc_id\(0\),in_port\(p1\),eth\(src=02:00:00:00:00:01,dst=02:00:00:00:00:02\).*actions:p2$`).MatchString(last) {
		t.Errorf("busiest megaflow p1 -> p2 missing:\n%s", last)
	}
	if !regexp.MustCompile(`(?m)^0 +\d+ +\d+\.\d +[1-9]\d* `).MatchString(last) {
		t.Errorf("PMD 0 line:\n%s", last)
	}
	if _, err := c.Call("govs/top-stats", "x"); err == nil {
		t.Error("bad flow count accepted")
	} else if _, ok := err.(*CallError); !ok {
		t.Errorf("error %T %v, want a *CallError", err, err)
	}
}
