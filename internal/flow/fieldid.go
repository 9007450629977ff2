package flow

// FieldID names a matchable (and possibly settable) field: every OXM basic
// field of OpenFlow 1.3, the Nicira (NXM) fields ovs-ofctl uses, registers,
// metadata, tunnel and conntrack fields. The registry in field.go describes
// each one: its names, OXM/NXM codes, width, maskability, prerequisites and
// where it lives in Key (OVS's meta-flow).
type FieldID uint16

// Fields. The order is stable (it is not a wire format).
const (
	FieldNone FieldID = iota

	// Metadata.
	FieldInPort    // in_port (OpenFlow port number, translated by ofproto)
	FieldInPhyPort // in_phy_port
	FieldMetadata  // metadata
	FieldTunID     // tun_id / tunnel_id
	FieldTunSrc    // tun_src
	FieldTunDst    // tun_dst
	FieldTunIPv6Src
	FieldTunIPv6Dst
	FieldTunFlags
	FieldTunTOS
	FieldTunTTL
	FieldTunTpSrc
	FieldTunTpDst
	FieldPktMark // pkt_mark
	FieldRecircID
	FieldDpHash
	FieldReg0 // reg0 .. reg15 are consecutive
	FieldReg1
	FieldReg2
	FieldReg3
	FieldReg4
	FieldReg5
	FieldReg6
	FieldReg7
	FieldReg8
	FieldReg9
	FieldReg10
	FieldReg11
	FieldReg12
	FieldReg13
	FieldReg14
	FieldReg15
	FieldCtState
	FieldCtZone
	FieldCtMark
	FieldCtLabel
	FieldCtNwProto
	FieldCtNwSrc
	FieldCtNwDst
	FieldCtTpSrc
	FieldCtTpDst

	// L2.
	FieldEthSrc
	FieldEthDst
	FieldEthType
	FieldVLANVID // OF1.3 vlan_vid: 12-bit VID | OFPVID_PRESENT (0x1000)
	FieldVLANPCP
	FieldVLANTCI // NXM dl_vlan tci (vid | pcp<<13 | CFI)
	FieldMPLSLabel
	FieldMPLSTC
	FieldMPLSBOS
	FieldMPLSTTL
	FieldPbbISID

	// L3.
	FieldIPv4Src
	FieldIPv4Dst
	FieldIPv6Src
	FieldIPv6Dst
	FieldIPv6Label
	FieldIPProto
	FieldIPDSCP // 6-bit DSCP value (OXM IP_DSCP)
	FieldIPECN
	FieldNwTOS  // NXM nw_tos: DSCP << 2 (ECN bits zero)
	FieldNwTTL  // nw_ttl / IPv6 hop limit
	FieldIPFrag // NXM ip_frag
	FieldIPv6Exthdr
	FieldArpOp
	FieldArpSPA
	FieldArpTPA
	FieldArpSHA
	FieldArpTHA
	FieldNdTarget
	FieldNdSLL
	FieldNdTLL

	// L4.
	FieldTCPSrc
	FieldTCPDst
	FieldTCPFlags
	FieldUDPSrc
	FieldUDPDst
	FieldSCTPSrc
	FieldSCTPDst
	FieldICMPv4Type
	FieldICMPv4Code
	FieldICMPv6Type
	FieldICMPv6Code

	NumFieldIDs
)

// FieldReg returns the FieldID of register i (0..15).
func FieldReg(i int) FieldID { return FieldReg0 + FieldID(i) }
