// Package ofagent is govs's OpenFlow agent (OVS's connmgr, ofconn and
// rconn, plus the ofp-util conversions): it accepts OpenFlow connections
// for one bridge, speaks OpenFlow 1.0 with the Nicira extensions and
// OpenFlow 1.3 with them, converts between the wire (package ofp) and the
// switch model (package ofproto), and applies what controllers ask.
//
// Following one `ovs-ofctl add-flow br0 ...`:
//
//  1. listener.go accepts on <OVS_RUNDIR>/br0.mgmt (punix); conn.go's
//     serve sends HELLO and hello.go negotiates the version (bitmaps).
//  2. serve reads one message at a time (ofp.Reader) and handle10.go or
//     handle13.go decodes it: NXT_FLOW_MOD or OFPT_FLOW_MOD.
//  3. convert_match*.go turns the NXM/OXM or OF1.0 match into a flow.Key
//     and Mask, convert_actions.go and convert_instructions.go the actions;
//     anything unknown is answered with the spec's OFPT_ERROR, carrying
//     the offending message, and the connection goes on.
//  4. flowmod.go applies it with Bridge.FlowMod; the bridge's OnChange
//     hook lets the integrator revalidate.
//  5. ovs-ofctl's BARRIER: handle* calls Options.Sync (the integrator
//     revalidates the datapath synchronously) and only then replies, so
//     every packet after the barrier reply obeys the new rules.
//
// Integrator API:
//
//	a, err := ofagent.New(ofagent.Options{Bridge: b, Ofproto: o, RunDir: rundir,
//		Sync: revalidateNow, Execute: dp.Execute, PortStats: portStats,
//		OnConnectivity: applyFailMode, Log: log})
//	a.SetControllers([]ofagent.Controller{{Target: "tcp:10.0.0.1:6653"}, {Target: "pssl:6653", SSL: ssl}})
//	a.Listen("punix:/path")            // extra service listeners
//	a.PortChanged(ofagent.PortAdded, p) // every port add/delete/modify
//	a.FlowsRemoved(b.Expire(now))       // or Options.ExpireInterval
//	a.PacketIn(pi)                      // from ofproto.Options.OnPacketIn
//	a.Connected(); a.ControllerStatus() // fail_mode and OVSDB Controller rows
//	a.Close()
//
// New installs FlowsRemoved as Bridge.OnRemoved when that hook is unset,
// so FLOW_REMOVED for flow-mod deletes needs no wiring.
//
// Concurrency: each connection has a serving goroutine (requests in
// order), a writer goroutine fed by a bounded queue, and for controllers
// a prober (inactivity probes: Controller.ProbeInterval, 5 s by default). PacketIn, FlowsRemoved
// and PortChanged never block: a connection whose queue is full loses
// asynchronous messages (counted), as OVS's rconn does.
package ofagent
