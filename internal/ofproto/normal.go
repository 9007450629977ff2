package ofproto

import "github.com/govs/govs/internal/flow"

// NORMAL: the bridge as a learning L2 switch with 802.1Q VLANs (OVS's
// xlate_normal).
//
//  1. Frames to reserved multicast addresses 01:80:c2:00:00:0x (STP, LACP,
//     pause, ...) are dropped, as OVS does without forward-bpdu.
//  2. The ingress port's VLAN mode gives the frame's VLAN: an access port
//     puts it in its tag (tagged frames other than priority tags are
//     dropped); a trunk takes the frame's VID (untagged: VLAN 0) if it
//     carries it; native-tagged/untagged ports put untagged frames in
//     their tag.
//  3. The source MAC is learned on (VLAN, ingress port).
//  4. A known unicast destination goes to its port unless that is the
//     ingress port; anything else floods to every port carrying the VLAN
//     except the ingress port and NO_FLOOD ports.
//  5. Each output tags or untags per the output port's mode.
//
// The megaflow depends on dl_src (learning), dl_dst (the forwarding
// decision) and the VLAN stack.

func (c *xlateCtx) normal() {
	k, wc := &c.key, &c.wc
	wc.EthDst, wc.EthSrc = allOnes6, allOnes6
	c.vlanExact()
	in := c.bs.b.Port(k.InPort)
	if in == nil {
		c.note("NORMAL: packet from a non-port (%d): dropping", k.InPort)
		return
	}
	if isReservedMulticast(&k.EthDst) {
		c.note("NORMAL: reserved multicast destination: dropping")
		return
	}
	vlan, ok := inputVLAN(in, k)
	if !ok {
		c.note("NORMAL: VLAN not allowed on ingress port %d: dropping", in.OFPort)
		return
	}
	mac := c.bs.mac
	if !isMulticast(&k.EthSrc) {
		if c.mayLearn && mac.Learn(k.EthSrc, vlan, in.OFPort, c.now) {
			c.macsChanged = true
		}
		c.macs = append(c.macs, macRef{mac, k.EthSrc, vlan, in.OFPort})
	}
	if !isMulticast(&k.EthDst) {
		if port, ok := mac.Lookup(k.EthDst, vlan, c.now); ok {
			if port == in.OFPort {
				c.note("NORMAL: learned port is the input port: dropping")
				return
			}
			if p := c.bs.b.Port(port); p != nil && portIncludesVLAN(p, vlan) {
				c.normalOutput(p, vlan)
				return
			}
		}
	}
	for _, p := range c.ports() {
		if p.OFPort == in.OFPort || p.Config&PortNoFlood != 0 || p.State&StateLinkDown != 0 {
			continue
		}
		if !portIncludesVLAN(p, vlan) {
			continue
		}
		c.normalOutput(p, vlan)
		if c.exit {
			return
		}
	}
}

// normalOutput sends the packet to p in vlan, tagged or not as p's mode
// says.
func (c *xlateCtx) normalOutput(p *Port, vlan uint16) {
	k := &c.key
	saved := k.VLANs
	tagged := vlan != 0
	switch p.EffectiveVLANMode() {
	case VLANModeAccess:
		tagged = false
	case VLANModeNativeUntagged:
		tagged = tagged && vlan != p.Tag
	}
	switch {
	case !tagged && k.VLANs[0].TCI&flow.VLANCFI != 0:
		copy(k.VLANs[:], k.VLANs[1:])
		k.VLANs[flow.MaxVLANs-1] = flow.VLAN{}
	case tagged && k.VLANs[0].TCI&flow.VLANCFI != 0:
		k.VLANs[0].TCI = k.VLANs[0].TCI&0xe000 | flow.VLANCFI | vlan
	case tagged:
		copy(k.VLANs[1:], k.VLANs[:flow.MaxVLANs-1])
		k.VLANs[0] = flow.VLAN{TPID: flow.EthTypeVLAN, TCI: flow.VLANCFI | vlan}
	}
	c.outputPort(p.OFPort, false)
	k.VLANs = saved
}

// inputVLAN returns the VLAN a frame received on in belongs to.
func inputVLAN(in *Port, k *flow.Key) (uint16, bool) {
	tagged := k.VLANs[0].TCI&flow.VLANCFI != 0
	vid := k.VLANs[0].TCI & 0xfff
	if !tagged {
		vid = 0
	}
	switch in.EffectiveVLANMode() {
	case VLANModeAccess:
		if vid != 0 {
			return 0, false
		}
		return in.Tag, true
	case VLANModeTrunk:
		return vid, in.TrunksVLAN(vid)
	default: // native-tagged, native-untagged
		if vid == 0 {
			return in.Tag, true
		}
		return vid, portIncludesVLAN(in, vid)
	}
}

// portIncludesVLAN reports whether p carries vlan (OVS's
// xbundle_includes_vlan).
func portIncludesVLAN(p *Port, vlan uint16) bool {
	switch p.EffectiveVLANMode() {
	case VLANModeAccess:
		return vlan == p.Tag
	case VLANModeTrunk:
		return p.TrunksVLAN(vlan)
	default:
		return vlan == p.Tag || p.TrunksVLAN(vlan)
	}
}

func isMulticast(mac *[6]byte) bool { return mac[0]&1 != 0 }

// isReservedMulticast reports 01:80:c2:00:00:00 through 01:80:c2:00:00:0f,
// the IEEE 802.1D reserved group addresses a bridge must not forward.
func isReservedMulticast(mac *[6]byte) bool {
	return mac[0] == 0x01 && mac[1] == 0x80 && mac[2] == 0xc2 &&
		mac[3] == 0 && mac[4] == 0 && mac[5]&0xf0 == 0
}
