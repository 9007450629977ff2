package ofagent

import (
	"testing"

	"github.com/govs/govs/internal/ofp"
)

func TestSplitNXCookie(t *testing.T) {
	ethType := ofp.OXM{Class: ofp.ClassNXM0, Field: 3, Value: []byte{0x08, 0x00}}
	cookie := func(v, m []byte) ofp.OXM {
		return ofp.OXM{Class: ofp.ClassNXM1, Field: nxmCookieField, HasMask: m != nil, Value: v, Mask: m}
	}
	c5 := []byte{0, 0, 0, 0, 0, 0, 0, 5}
	ff := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

	rest, c, m, found, err := splitNXCookie([]ofp.OXM{ethType, cookie(c5, nil)})
	if err != nil || !found || c != 5 || m != ^uint64(0) || len(rest) != 1 || rest[0].Field != 3 {
		t.Fatalf("exact cookie: rest %v, %#x/%#x, %v, %v", rest, c, m, found, err)
	}
	_, c, m, found, err = splitNXCookie([]ofp.OXM{cookie(c5, []byte{0, 0, 0, 0, 0, 0, 0, 0xf})})
	if err != nil || !found || c != 5 || m != 0xf {
		t.Fatalf("masked cookie: %#x/%#x, %v, %v", c, m, found, err)
	}
	rest, _, _, found, err = splitNXCookie([]ofp.OXM{ethType})
	if err != nil || found || len(rest) != 1 {
		t.Fatalf("no cookie: %v, %v, %v", rest, found, err)
	}
	for name, tlvs := range map[string][]ofp.OXM{
		"twice":           {cookie(c5, nil), cookie(c5, ff)},
		"short":           {cookie(c5[:4], nil)},
		"value past mask": {cookie(c5, []byte{0, 0, 0, 0, 0, 0, 0, 1 << 4})},
	} {
		if _, _, _, _, err := splitNXCookie(tlvs); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
