package vswitchd

import (
	"hash/fnv"
	"net"
	"strconv"
	"strings"
)

// DatapathID chooses a bridge's OpenFlow datapath ID the way OVS does:
// other_config:datapath-id when it is 16 hex digits (optionally "0x") and
// not all zeros, else the bridge MAC (other_config:hwaddr when valid, else
// mac) in the low 48 bits.
func DatapathID(b BridgeSpec, mac net.HardwareAddr) uint64 {
	if s, ok := b.OtherConfig["datapath-id"]; ok {
		s = strings.TrimPrefix(strings.ToLower(s), "0x")
		if len(s) == 16 {
			if v, err := strconv.ParseUint(s, 16, 64); err == nil && v != 0 {
				return v
			}
		}
	}
	if s, ok := b.OtherConfig["hwaddr"]; ok {
		if hw, err := net.ParseMAC(s); err == nil && len(hw) == 6 {
			mac = hw
		}
	}
	var v uint64
	for _, x := range mac {
		v = v<<8 | uint64(x)
	}
	return v
}

// StableMAC returns a locally administered unicast MAC derived from name, for
// ports and bridges that have no hardware address of their own: the same
// name gets the same MAC across restarts.
func StableMAC(name string) net.HardwareAddr {
	h := fnv.New64a()
	h.Write([]byte(name))
	s := h.Sum64()
	return net.HardwareAddr{0x02 | byte(s>>40)&0xfc, byte(s >> 32), byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)}
}
