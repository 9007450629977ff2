package e2e

// The flow tables, packets and refused flow-mods TestDiffTraceOVS
// compares between govs and OVS.

// traceCase is a flow table and the packets traced through it.
type traceCase struct {
	name   string
	groups []string
	// ovsGroups, if set, replace groups on OVS, loaded with OpenFlow
	// 1.5 (for properties govs does not need).
	ovsGroups []string
	flows     []string
	packets   []string
	// known are the packets on which govs departs from OVS on purpose,
	// with the reason: their traces are logged, not compared.
	known map[string]string
}

// traceCases cover several tables, priorities and masks, goto-table with
// metadata and the action set, resubmit with registers, set-field and the
// mod_* actions (masked too), VLAN push/pop/rewrite, and the four group
// types. None uses NORMAL (whose flooding order and learning are not the
// pipeline's to compare).
var traceCases = []traceCase{
	{
		name: "priorities-masks",
		flows: []string{
			"priority=10,ip,actions=output:2",
			"priority=20,ip,nw_dst=10.1.0.0/16,actions=output:3",
			"priority=30,tcp,nw_dst=10.1.2.0/24,tcp_dst=0x50/0xfff0,actions=output:4",
			"priority=25,dl_src=02:00:00:00:00:00/ff:ff:00:00:00:00,actions=output:4",
			"priority=5,arp,actions=output:3",
			"priority=1,actions=drop",
		},
		packets: []string{
			"in_port=1,icmp,nw_src=10.0.0.1,nw_dst=10.2.0.1",
			"in_port=1,icmp,nw_src=10.0.0.1,nw_dst=10.1.9.9",
			"in_port=1,tcp,nw_src=10.0.0.1,nw_dst=10.1.2.3,tcp_dst=80",
			"in_port=1,tcp,nw_src=10.0.0.1,nw_dst=10.1.2.3,tcp_dst=95",
			"in_port=1,tcp,nw_src=10.0.0.1,nw_dst=10.1.2.3,tcp_dst=96",
			"in_port=2,dl_src=02:00:11:22:33:44,icmp,nw_dst=10.1.0.1",
			"in_port=2,dl_src=02:01:11:22:33:44,icmp,nw_dst=10.1.0.1",
			"in_port=1,arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1",
			"in_port=3,dl_type=0x88cc",
		},
	},
	{
		name: "goto-metadata-actionset",
		flows: []string{
			"table=0,priority=10,in_port=1,actions=write_metadata:0x5/0xff,goto_table:1",
			"table=0,priority=10,in_port=2,actions=write_actions(output:4),goto_table:1",
			"table=0,priority=10,in_port=3,ip,actions=output:2,write_actions(mod_nw_dst:10.7.7.7,output:4),goto_table:3",
			"table=1,priority=10,metadata=0x5/0xff,ip,actions=output:3,goto_table:2",
			"table=1,priority=5,actions=goto_table:2",
			"table=2,priority=10,icmp,actions=clear_actions",
			"table=2,priority=5,udp,actions=write_actions(output:2)",
			"table=3,priority=5,ip,actions=write_actions(mod_nw_src:10.8.8.8)",
		},
		packets: []string{
			"in_port=1,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
			"in_port=1,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,udp_dst=1",
			"in_port=2,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
			"in_port=2,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,udp_dst=1",
			"in_port=3,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
			"in_port=2,arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1",
		},
	},
	{
		name: "resubmit-registers",
		flows: []string{
			"table=0,priority=10,in_port=1,actions=load:0x7->NXM_NX_REG0[],resubmit(,3),output:2",
			"table=3,priority=10,reg0=7,actions=output:3",
			"table=3,priority=5,actions=output:4",
			"table=0,priority=10,in_port=2,actions=move:NXM_OF_IN_PORT[]->NXM_NX_REG1[0..15],resubmit(,3),resubmit(,4)",
			"table=4,priority=10,reg1=2,actions=output:4",
			"table=0,priority=10,in_port=3,actions=resubmit(4,0)",
			"table=0,priority=10,in_port=4,actions=output:1",
		},
		packets: []string{
			"in_port=1,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
			"in_port=2,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
			"in_port=3,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
			"in_port=4,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
		},
	},
	{
		name: "set-field",
		flows: []string{
			"priority=10,in_port=1,icmp,actions=mod_dl_src:02:aa:aa:aa:aa:aa,mod_dl_dst:02:bb:bb:bb:bb:bb,mod_nw_src:192.168.1.1,mod_nw_dst:192.168.1.2,dec_ttl,output:2",
			"priority=10,in_port=1,tcp,actions=set_field:8080->tcp_dst,set_field:1234->tcp_src,mod_nw_tos:32,output:3",
			"priority=10,in_port=1,udp,actions=set_field:5->ip_dscp,set_field:53->udp_dst,output:2,mod_nw_dst:1.2.3.4,output:3",
			"priority=10,in_port=2,ip,actions=set_field:10.0.0.0/255.0.0.0->ip_src,output:4",
			"priority=10,in_port=2,ipv6,actions=set_field:2001:db8::1->ipv6_dst,dec_ttl,output:3",
			"priority=10,in_port=3,ip,actions=mod_nw_dst:10.0.0.9,output:4,mod_nw_dst:10.0.0.2,output:2",
		},
		packets: []string{
			"in_port=1,icmp,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64",
			"in_port=1,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,tcp_src=40000,tcp_dst=80",
			"in_port=1,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,udp_src=40000,udp_dst=5353",
			"in_port=2,icmp,nw_src=192.168.7.7,nw_dst=10.0.0.2,nw_ttl=64",
			"in_port=2,icmp6,ipv6_src=2001:db8::7,ipv6_dst=2001:db8::8,nw_ttl=64",
			"in_port=3,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64",
		},
	},
	{
		name: "ttl-mpls",
		flows: []string{
			"priority=10,in_port=1,ip,actions=dec_ttl,output:2",
			"priority=10,in_port=2,ip,actions=push_mpls:0x8847,set_field:100->mpls_label,output:3",
			"priority=10,in_port=3,mpls,mpls_label=5,actions=pop_mpls:0x0800,output:4",
			"priority=10,in_port=4,mpls,actions=dec_mpls_ttl,set_mpls_ttl:9,output:1",
		},
		packets: []string{
			"in_port=1,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=2",
			"in_port=1,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=1",
			"in_port=1,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=0",
			"in_port=2,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64",
			"in_port=3,mpls,mpls_label=5,mpls_ttl=10,mpls_bos=1",
			"in_port=4,mpls,mpls_label=5,mpls_ttl=10,mpls_bos=1",
		},
	},
	{
		name: "vlan",
		flows: []string{
			"priority=10,in_port=1,vlan_tci=0x0000/0x1000,actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:2",
			"priority=10,in_port=1,dl_vlan=20,actions=pop_vlan,output:3",
			"priority=10,in_port=1,dl_vlan=30,actions=mod_vlan_vid:31,mod_vlan_pcp:5,output:4",
			"priority=10,in_port=2,dl_vlan=40,actions=strip_vlan,output:3,push_vlan:0x8100,set_field:4097->vlan_vid,output:4",
			"priority=10,in_port=3,actions=mod_vlan_vid:7,output:2",
			"priority=10,in_port=4,actions=push_vlan:0x88a8,output:1",
		},
		packets: []string{
			"in_port=1,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
			"in_port=1,dl_vlan=20,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
			"in_port=1,dl_vlan=30,dl_vlan_pcp=1,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
			"in_port=2,dl_vlan=40,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
			"in_port=3,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
			"in_port=3,dl_vlan=9,dl_vlan_pcp=3,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
			"in_port=4,dl_vlan=9,dl_vlan_pcp=3,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
			"in_port=4,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
		},
	},
	{
		// The first label's fields: OF1.3 §5.12.1 and Ryu's tests want
		// label 0, TC 0 and the IP TTL (0 if not IP); OVS takes TC from
		// the DSCP's low bits, uses TTL 64 for non-IP and label 2 for
		// IPv6. A second label copies the first.
		name: "push-mpls",
		flows: []string{
			"priority=10,in_port=1,actions=push_mpls:0x8847,output:2",
			"priority=10,in_port=2,actions=push_mpls:0x8847,push_mpls:0x8847,output:3",
		},
		packets: []string{
			"in_port=1,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=32,nw_ttl=64,tcp_dst=80",
			"in_port=1,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=5",
			"in_port=1,tcp6,ipv6_src=2001:db8::1,ipv6_dst=2001:db8::2,nw_ttl=64",
			"in_port=1,arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1",
			"in_port=1,mpls,mpls_label=5,mpls_tc=3,mpls_ttl=10,mpls_bos=1",
			"in_port=2,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=7",
		},
		known: map[string]string{
			"in_port=1,tcp6,ipv6_src=2001:db8::1,ipv6_dst=2001:db8::2,nw_ttl=64": "first label of IPv6: govs label 0 (OF1.3, Ryu), OVS label 2",
			"in_port=1,arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1":           "first label of non-IP: govs TTL 0 (OF1.3 §5.12.1, Ryu), OVS 64",
		},
	},
	{
		name: "groups",
		groups: []string{
			"group_id=1,type=all,bucket=mod_dl_src:02:00:00:00:00:aa,output:3,bucket=output:4",
			"group_id=2,type=indirect,bucket=mod_nw_dst:10.10.10.10,output:2",
			"group_id=3,type=select,bucket=weight:10,output:4",
			"group_id=4,type=fast_failover,bucket=watch_port:2,output:2,bucket=watch_port:3,output:3",
			"group_id=5,type=all,bucket=group:2,bucket=output:4",
		},
		// OVS's default select method hashes in the datapath and
		// recirculates, which a trace does not follow; its "hash"
		// method selects during translation, as govs does.
		ovsGroups: []string{
			"group_id=1,type=all,bucket=mod_dl_src:02:00:00:00:00:aa,output:3,bucket=output:4",
			"group_id=2,type=indirect,bucket=mod_nw_dst:10.10.10.10,output:2",
			"group_id=3,type=select,selection_method=hash,fields(ip_src),bucket=weight:10,output:4",
			"group_id=4,type=fast_failover,bucket=watch_port:2,output:2,bucket=watch_port:3,output:3",
			"group_id=5,type=all,bucket=group:2,bucket=output:4",
		},
		flows: []string{
			"priority=10,in_port=1,actions=group:1",
			"priority=10,in_port=2,icmp,actions=group:2",
			"priority=10,in_port=2,udp,actions=group:5",
			"priority=10,in_port=3,actions=group:3",
			"priority=10,in_port=4,actions=group:4",
		},
		packets: []string{
			"in_port=1,icmp,dl_src=02:00:00:00:00:01,nw_src=10.0.0.1,nw_dst=10.0.0.2",
			"in_port=2,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
			"in_port=2,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,udp_dst=9",
			"in_port=3,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
			"in_port=4,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
		},
	},
	{
		name: "ports",
		flows: []string{
			"priority=10,in_port=1,actions=output:1",
			"priority=10,in_port=2,actions=in_port",
			"priority=10,in_port=3,actions=output:1,output:2,output:3,output:4",
			"priority=10,in_port=4,actions=all",
		},
		packets: []string{
			"in_port=1,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
			"in_port=2,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
			"in_port=3,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
			"in_port=4,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
		},
	},
}

// refusedFlows are flow-mods a switch must refuse; govs must answer
// each with OVS's OFPT_ERROR type and code.
var refusedFlows = []string{
	"priority=10,in_port=3,actions=mod_nw_dst:10.7.7.7,output:4",
	"priority=10,tcp,actions=set_field:1->udp_dst,output:2",
	"priority=10,ip,actions=move:NXM_OF_TCP_SRC[]->NXM_NX_REG0[0..15],output:2",
	"priority=10,actions=set_field:5->vlan_pcp,output:2",
	"priority=10,actions=group:77",
	"priority=10,actions=meter:5,output:2",
}

// refusedKnown are refusals govs answers differently on purpose.
var refusedKnown = map[string]string{
	// A flow-mod naming a meter that does not exist: OF1.3's code list
	// offers both OFPMMFC_INVALID_METER ("invalid meter in meter
	// action") and OFPMMFC_UNKNOWN_METER ("bad meter in meter action");
	// OVS answers the first, govs the second.
	"priority=10,actions=meter:5,output:2": "OFPMMFC_UNKNOWN_METER",
}
