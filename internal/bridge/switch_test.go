package bridge

import "testing"

func TestLastCPUIn(t *testing.T) {
	for _, c := range []struct {
		list string
		want int
	}{
		{"0-1\n", 1},
		{"0", 0},
		{"0,2-5,7", 7},
		{"0-3,8,10-11", 11},
		{"", -1},
		{"garbage", -1},
	} {
		if got := lastCPUIn(c.list); got != c.want {
			t.Errorf("lastCPUIn(%q) = %d, want %d", c.list, got, c.want)
		}
	}
}

func TestParseCPUMask(t *testing.T) {
	for _, c := range []struct {
		mask string
		want []int
		err  bool
	}{
		{"", nil, false},
		{"0x2", []int{1}, false},
		{"3", []int{0, 1}, false},
		{"0x1", []int{0}, false},
		{"zz", nil, true},
	} {
		got, err := parseCPUMask(c.mask)
		if (err != nil) != c.err {
			t.Errorf("parseCPUMask(%q) error %v, want error %v", c.mask, err, c.err)
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("parseCPUMask(%q) = %v, want %v", c.mask, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("parseCPUMask(%q) = %v, want %v", c.mask, got, c.want)
			}
		}
	}
}
