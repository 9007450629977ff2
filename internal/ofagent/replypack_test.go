package ofagent

import (
	"bytes"
	"fmt"
	"testing"
)

// TestReplyPacker checks the packing of entries into bodies: each body
// starts with the prefix, holds whole entries in order, stays within the
// budget unless one entry alone exceeds it, and only the last has more
// unset.
func TestReplyPacker(t *testing.T) {
	prefix := []byte("PFX")
	type sent struct {
		body string
		more bool
	}
	for _, sizes := range [][]int{{}, {5}, {4, 4, 4, 4, 4}, {30, 2, 2}, {2, 30, 2}, {10, 10, 10, 1}} {
		t.Run(fmt.Sprint(sizes), func(t *testing.T) {
			var got []sent
			p := newReplyPacker(prefix, 13, func(b []byte, more bool) {
				got = append(got, sent{string(b), more})
			})
			var want []string
			cur := string(prefix)
			for i, n := range sizes {
				e := bytes.Repeat([]byte{byte('a' + i)}, n)
				m := p.mark()
				p.body = append(p.body, e...)
				p.added(m)
				if len(cur)+n > 13 && len(cur) > len(prefix) {
					want = append(want, cur)
					cur = string(prefix)
				}
				cur += string(e)
			}
			p.finish()
			want = append(want, cur)
			if len(got) != len(want) {
				t.Fatalf("%d bodies %v, want %d %q", len(got), got, len(want), want)
			}
			for i := range got {
				if got[i].body != want[i] || got[i].more != (i < len(want)-1) {
					t.Errorf("body %d: %q more=%v, want %q more=%v", i, got[i].body, got[i].more, want[i], i < len(want)-1)
				}
			}
		})
	}
}
