package ofproto

import (
	"sync"
	"testing"

	"github.com/govs/govs/internal/flow"
)

// TestBridgeConcurrentModsAndLookups runs flow-mods against translations
// holding the read lock; run with -race.
func TestBridgeConcurrentModsAndLookups(t *testing.T) {
	b := NewBridge("br0")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := uint32(0); ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				b.RLock()
				k := flow.Key{InPort: i % 50}
				if r := b.Table(0).Lookup(&k, nil); r != nil {
					r.AddStats(1, 64, int64(i))
				}
				b.RUnlock()
			}
		}()
	}
	for i := 0; i < 200; i++ {
		fm := NewFlowMod(FlowAdd)
		fm.Match = NewMatch(&flow.Key{InPort: uint32(i % 50)}, &flow.Mask{InPort: 0xffffffff})
		fm.Priority = uint16(i % 7)
		if err := b.FlowMod(fm); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			del := NewFlowMod(FlowDelete)
			del.Table = TableAll
			del.Match = fm.Match
			if err := b.FlowMod(del); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(stop)
	wg.Wait()
	if b.Version() == 0 {
		t.Fatal("version never moved")
	}
}
