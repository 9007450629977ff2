package ofagent

import (
	"encoding/binary"

	"github.com/govs/govs/internal/ofp"
)

// nxmCookieField is NXM_NX_COOKIE's field number (class NXM1, 8 bytes,
// maskable as NXM_NX_COOKIE_W).
const nxmCookieField = 30

// splitNXCookie takes NXM_NX_COOKIE(_W) out of an NXM match. It is not a
// packet field: in NXT_FLOW_MOD and the NXST_FLOW and NXST_AGGREGATE
// requests it is the cookie filter (OVS's nx_pull_match with a cookie),
// which `ovs-ofctl dump-flows br0 cookie=0x5/-1` and `del-flows` send.
// rest is tlvs without it (tlvs itself when absent).
func splitNXCookie(tlvs []ofp.OXM) (rest []ofp.OXM, cookie, mask uint64, found bool, err error) {
	for i := range tlvs {
		o := &tlvs[i]
		if o.Class != ofp.ClassNXM1 || o.Field != nxmCookieField {
			continue
		}
		if found {
			return nil, 0, 0, false, errDupField
		}
		if len(o.Value) != 8 || o.HasMask && len(o.Mask) != 8 {
			return nil, 0, 0, false, errBadField
		}
		found = true
		cookie, mask = binary.BigEndian.Uint64(o.Value), ^uint64(0)
		if o.HasMask {
			mask = binary.BigEndian.Uint64(o.Mask)
		}
		if cookie&^mask != 0 {
			return nil, 0, 0, false, errBadValue
		}
	}
	if !found {
		return tlvs, 0, 0, false, nil
	}
	rest = make([]ofp.OXM, 0, len(tlvs)-1)
	for _, o := range tlvs {
		if o.Class != ofp.ClassNXM1 || o.Field != nxmCookieField {
			rest = append(rest, o)
		}
	}
	return rest, cookie, mask, true, nil
}
