package ofproto

import (
	"fmt"
	"sync"
	"testing"

	"github.com/govs/govs/internal/flow"
)

// TestFlowsConsistentUnderModify: a view from Flows carries the
// instructions and cookie one modify wrote, never a mix of two, while
// modifies run beside the dump (under -race, `make race`, reading the
// rule's own fields here would be reported).
func TestFlowsConsistentUnderModify(t *testing.T) {
	br := NewBridge("br0")
	fm := NewFlowMod(FlowAdd)
	fm.Priority = 1
	fm.Match = Match{Key: flow.Key{EthType: 0x0800}, Mask: flow.Mask{EthType: 0xffff}}
	fm.Apply = []Action{{Type: ActOutput, Port: 1}}
	fm.Cookie = 1
	if err := br.FlowMod(fm); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 2; i < 300; i++ {
			m := NewFlowMod(FlowModify)
			m.Apply = []Action{{Type: ActOutput, Port: uint32(i)}}
			m.SetCookie, m.NewCookie = true, uint64(i)
			if err := br.FlowMod(m); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	check := func(v *FlowView) {
		if port := v.Instructions.Apply[0].Port; uint64(port) != v.Cookie {
			t.Fatalf("view has output:%d with cookie %d", port, v.Cookie)
		}
		if v.Modified.Before(v.Created) {
			t.Fatalf("modified %v before created %v", v.Modified, v.Created)
		}
	}
	for range 300 {
		for _, v := range br.Flows(AllFlows()) {
			check(&v)
		}
		for chunk := range br.FlowChunks(AllFlows(), 1) {
			check(&chunk[0])
		}
	}
	wg.Wait()
}

// TestFlowChunks: the chunks give the rules of Flows, in its order, n at
// a time, and stopping early stops the walk.
func TestFlowChunks(t *testing.T) {
	br := NewBridge("br0")
	for i := range 10 {
		fm := NewFlowMod(FlowAdd)
		fm.Priority = uint16(i)
		fm.Table = uint8(i % 2)
		fm.Match = Match{Key: flow.Key{EthType: 0x0800, NwSrc: uint32(i)}, Mask: flow.Mask{EthType: 0xffff, NwSrc: 0xffffffff}}
		fm.Cookie = uint64(i)
		if err := br.FlowMod(fm); err != nil {
			t.Fatal(err)
		}
	}
	want := br.Flows(AllFlows())
	var got []FlowView
	sizes := []int{}
	for chunk := range br.FlowChunks(AllFlows(), 4) {
		got = append(got, chunk...)
		sizes = append(sizes, len(chunk))
	}
	if len(got) != len(want) || fmt.Sprint(sizes) != "[4 4 2]" {
		t.Fatalf("chunks of %v, %d views, want 10 in [4 4 2]", sizes, len(got))
	}
	for i := range want {
		if got[i].Rule != want[i].Rule || got[i].Cookie != want[i].Cookie {
			t.Errorf("view %d: rule priority %d, want %d", i, got[i].Priority, want[i].Priority)
		}
	}
	n := 0
	for range br.FlowChunks(AllFlows(), 3) {
		n++
		break
	}
	if n != 1 {
		t.Errorf("walk went on after a break")
	}
}

// TestStrictFlowsBesideAdds: strict selections, two at once under the
// read lock, beside adds of other masks; under the race detector a
// selection that wrote the classifier's state would be reported.
func TestStrictFlowsBesideAdds(t *testing.T) {
	br := NewBridge("br0")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 200 {
			fm := NewFlowMod(FlowAdd)
			fm.Priority = 1
			fm.Match = Match{Key: flow.Key{EthType: 0x0800, NwSrc: uint32(i)},
				Mask: flow.Mask{EthType: 0xffff, NwSrc: 0xffffffff << (i % 3)}}
			fm.Match.Key.NwSrc &= fm.Match.Mask.NwSrc
			if err := br.FlowMod(fm); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	f := AllFlows()
	f.Strict, f.Priority = true, 1
	f.Match = Match{Key: flow.Key{EthType: 0x0800, NwSrc: 3}, Mask: flow.Mask{EthType: 0xffff, NwSrc: 0xffffffff}}
	// Two readers: under the read lock they run at once.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 200 {
			br.Flows(f)
		}
	}()
	for range 200 {
		br.Flows(f)
	}
	wg.Wait()
	if n := len(br.Flows(f)); n != 1 {
		t.Errorf("strict selection found %d rules, want 1", n)
	}
}
