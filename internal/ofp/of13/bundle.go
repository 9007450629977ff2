package of13

import (
	"github.com/govs/govs/internal/ofp"
)

// Inner splits a bundle add's Message into the inner message (header
// included) and the properties that follow it.
func (m *BundleAdd) Inner() (msg, props []byte, err error) {
	h, err := ofp.ParseHeader(m.Message)
	if err != nil {
		return nil, nil, err
	}
	return m.Message[:h.Length], m.Message[h.Length:], nil
}

// NewBundleControl builds the ONF bundle control message (an OFPT_EXPERIMENTER)
// the switch answers a bundle control request with.
func NewBundleControl(xid, bundleID uint32, typ, flags uint16) *Experimenter {
	bc := BundleControl{BundleID: bundleID, Type: typ, Flags: flags}
	return &Experimenter{Xid: xid, Experimenter: ONFExperimenter, ExpType: ONFTBundleControl, Data: bc.Append(nil)}
}
