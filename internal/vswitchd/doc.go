// Package vswitchd is govs' counterpart of OVS's vswitchd/bridge.c: it turns
// the Open_vSwitch database into the switch's desired state and keeps the
// switch there, and writes the switch's state back into the database.
//
// One pass, run after every database change (and every stats interval):
//
//  1. Snapshot the monitored rows (internal/ovsdb).
//  2. Build a Config: plain data, no UUIDs or pointers into the cache
//     (BuildConfig). Bad rows are dropped here with a reason kept per
//     interface, so one bad row never disturbs the others.
//  3. Diff it with the Config last applied and call the Switch only for what
//     changed (Reconcile): deletions first, so that a name moving between
//     bridges or a reused ofport is free before it is added again.
//  4. Write back what ovs-vswitchd writes: Interface ofport/error/status/...,
//     Bridge datapath_id/status, and Open_vSwitch cur_cfg = next_cfg, which
//     is what `ovs-vsctl` waits for before it returns. Only columns whose
//     value differs are written, so a write-back does not cause another
//     round of work.
//
// The Switch interface is the seam to the forwarding core: the daemon runs
// with the real implementation, tests and bring-up with LogSwitch.
//
// Datapath types: govs has one datapath, the userspace one. Bridges of type
// "netdev" are served as such; "system" and "" (OVS's default, the kernel
// datapath, which govs does not use) are served by the same userspace
// datapath, with Bridge.status:datapath_type_note saying so, because OVS
// recipes written for the kernel datapath then work unchanged. Any other
// type is handed to the Switch, which may refuse it.
package vswitchd
