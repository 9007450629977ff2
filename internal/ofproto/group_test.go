package ofproto

import (
	"testing"
)

func grp(id uint32, typ GroupType, buckets ...Bucket) *GroupMod {
	return &GroupMod{Command: GroupAdd, GroupSpec: GroupSpec{ID: id, Type: typ, Buckets: buckets}}
}

func bucketTo(port uint32) Bucket {
	return Bucket{WatchPort: PortAny, WatchGroup: GroupAny, Actions: []Action{{Type: ActOutput, Port: port}}}
}

func bucketGroup(g uint32) Bucket {
	return Bucket{WatchPort: PortAny, WatchGroup: GroupAny, Actions: []Action{{Type: ActGroup, Group: g}}}
}

func TestGroupModErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup []*GroupMod
		gm    *GroupMod
		code  uint16
	}{
		{"exists", []*GroupMod{grp(1, GroupTypeAll)}, grp(1, GroupTypeAll), GroupModGroupExists},
		{"invalid id", nil, grp(GroupAll, GroupTypeAll), GroupModInvalidGroup},
		{"modify unknown", nil, &GroupMod{Command: GroupModify, GroupSpec: GroupSpec{ID: 5}}, GroupModUnknownGroup},
		{"bad type", nil, grp(1, 9), GroupModBadType},
		{"bad command", nil, &GroupMod{Command: 7}, GroupModBadCommand},
		{"indirect needs one bucket", nil, grp(1, GroupTypeIndirect, bucketTo(1), bucketTo(2)), GroupModBadBucket},
		{"weight on all", nil, grp(1, GroupTypeAll, Bucket{Weight: 3, WatchPort: PortAny, WatchGroup: GroupAny}), GroupModBadBucket},
		{"ff without watch", nil, grp(1, GroupTypeFastFailover, bucketTo(1)), GroupModBadWatch},
		{"ff watching unknown group", nil, grp(1, GroupTypeFastFailover,
			Bucket{WatchPort: PortAny, WatchGroup: 8}), GroupModBadWatch},
		{"chain to unknown", nil, grp(1, GroupTypeAll, bucketGroup(2)), GroupModUnknownGroup},
		{"chain to self", nil, grp(1, GroupTypeAll, bucketGroup(1)), GroupModLoop},
		{"loop through modify", []*GroupMod{grp(1, GroupTypeAll), grp(2, GroupTypeAll, bucketGroup(1))},
			&GroupMod{Command: GroupModify, GroupSpec: GroupSpec{ID: 1, Type: GroupTypeAll, Buckets: []Bucket{bucketGroup(2)}}},
			GroupModLoop},
		{"delete chained", []*GroupMod{grp(1, GroupTypeAll), grp(2, GroupTypeAll, bucketGroup(1))},
			&GroupMod{Command: GroupDelete, GroupSpec: GroupSpec{ID: 1}}, GroupModChainedGroup},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := NewBridge("br0")
			for _, gm := range c.setup {
				if err := b.GroupMod(gm); err != nil {
					t.Fatal(err)
				}
			}
			fmWantErr(t, b.GroupMod(c.gm), ErrGroupModFailed, c.code)
		})
	}
}

func TestGroupModLifecycle(t *testing.T) {
	b := NewBridge("br0")
	if err := b.GroupMod(grp(1, GroupTypeSelect, Bucket{Weight: 1, WatchPort: PortAny, WatchGroup: GroupAny,
		Actions: []Action{{Type: ActOutput, Port: 1}}})); err != nil {
		t.Fatal(err)
	}
	b.RLock()
	g := b.Group(1)
	b.RUnlock()
	g.Packets.Add(5)
	mod := &GroupMod{Command: GroupModify, GroupSpec: GroupSpec{ID: 1, Type: GroupTypeAll,
		Buckets: []Bucket{bucketTo(1), bucketTo(2)}}}
	if err := b.GroupMod(mod); err != nil {
		t.Fatal(err)
	}
	b.RLock()
	g2 := b.Group(1)
	b.RUnlock()
	if g2.Spec.Type != GroupTypeAll || len(g2.Buckets) != 2 || g2.Packets.Load() != 5 {
		t.Fatalf("modified group %+v", g2.Spec)
	}
	mod.Buckets[0].Actions[0].Port = 77 // the bridge keeps its own copy
	if g2.Spec.Buckets[0].Actions[0].Port != 1 {
		t.Fatal("group spec aliases the caller's actions")
	}

	// Deleting a group deletes the rules that use it.
	fmAdd(t, b, 0, 5, "in_port=1", 0, []Action{{Type: ActGroup, Group: 1}})
	fmAdd(t, b, 0, 5, "in_port=2", 0, fmOutput(3))
	var removed []Removed
	b.OnRemoved = func(r []Removed) { removed = r }
	if err := b.GroupMod(&GroupMod{Command: GroupDelete, GroupSpec: GroupSpec{ID: 1}}); err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0].Reason != RemovedGroupDelete || len(b.Flows(AllFlows())) != 1 {
		t.Fatalf("removed %v, %d flows left", removed, len(b.Flows(AllFlows())))
	}
	if len(b.Groups()) != 0 {
		t.Fatal("group still there")
	}
	// Deleting an unknown group is not an error; GroupAll deletes all.
	if err := b.GroupMod(&GroupMod{Command: GroupDelete, GroupSpec: GroupSpec{ID: 42}}); err != nil {
		t.Fatal(err)
	}
	for id := uint32(1); id <= 3; id++ {
		if err := b.GroupMod(grp(id, GroupTypeAll)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.GroupMod(&GroupMod{Command: GroupDelete, GroupSpec: GroupSpec{ID: GroupAll}}); err != nil || len(b.Groups()) != 0 {
		t.Fatalf("delete all: %v, %d left", err, len(b.Groups()))
	}
}

func TestBucketLive(t *testing.T) {
	b := NewBridge("br0")
	for _, p := range []*Port{{Name: "p1", OFPort: 1}, {Name: "p2", OFPort: 2}} {
		if err := b.AddPort(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.GroupMod(grp(10, GroupTypeFastFailover, Bucket{WatchPort: 2, WatchGroup: GroupAny})); err != nil {
		t.Fatal(err)
	}
	watch1 := Bucket{WatchPort: 1, WatchGroup: GroupAny}
	watchGroup := Bucket{WatchPort: PortAny, WatchGroup: 10}
	watchGone := Bucket{WatchPort: 9, WatchGroup: GroupAny}
	check := func(name string, bk Bucket, want bool) {
		t.Helper()
		b.RLock()
		defer b.RUnlock()
		if got := b.BucketLive(&bk); got != want {
			t.Errorf("%s: BucketLive = %v, want %v", name, got, want)
		}
	}
	check("port up", watch1, true)
	check("group with live bucket", watchGroup, true)
	check("missing port", watchGone, false)
	b.SetPortState(1, StateLinkDown)
	check("link down", watch1, false)
	b.SetPortState(1, 0)
	if err := b.SetPortConfig(1, PortDown, PortDown); err != nil {
		t.Fatal(err)
	}
	check("admin down", watch1, false)
	b.SetPortState(2, StateLinkDown)
	check("watched group's port down", watchGroup, false)
	b.RLock()
	live := b.Port(2).State&StateLive != 0
	b.RUnlock()
	if live {
		t.Error("LIVE bit still set on a down port")
	}
}

func TestPorts(t *testing.T) {
	b := NewBridge("br0")
	if err := b.AddPort(&Port{Name: "br0", OFPort: PortLocal}); err != nil {
		t.Fatal(err)
	}
	a, c := &Port{Name: "a"}, &Port{Name: "c", OFPort: 2}
	if err := b.AddPort(c); err != nil {
		t.Fatal(err)
	}
	if err := b.AddPort(a); err != nil || a.OFPort != 1 {
		t.Fatalf("auto ofport %d, %v", a.OFPort, err)
	}
	if err := b.AddPort(&Port{Name: "d"}); err != nil {
		t.Fatal(err)
	}
	if b.PortByName("d").OFPort != 3 {
		t.Fatal("auto ofport skipped a gap wrongly")
	}
	for _, bad := range []*Port{{Name: "a"}, {Name: "x", OFPort: 2}, {Name: ""}, {Name: "y", OFPort: PortMax}} {
		if err := b.AddPort(bad); err == nil {
			t.Errorf("AddPort(%+v) succeeded", bad)
		}
	}
	if ps := b.Ports(); len(ps) != 4 || ps[0].OFPort != 1 || ps[3].OFPort != PortLocal {
		t.Fatalf("Ports() = %v", ps)
	}
	b.DelPort(1)
	if b.Port(1) != nil || b.PortByName("a") != nil {
		t.Fatal("DelPort left the port")
	}
	if !b.UpdatePort(2, func(p *Port) { p.Tag = 10; p.Name = "c2" }) || b.PortByName("c2") == nil || b.PortByName("c") != nil {
		t.Fatal("UpdatePort rename")
	}
	if b.PortByName("c2").EffectiveVLANMode() != VLANModeAccess {
		t.Fatal("tagged port not access by default")
	}
	fmWantErr(t, b.SetPortConfig(99, PortDown, PortDown), ErrPortModFailed, PortModBadPort)
}
