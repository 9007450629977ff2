package dpif

import (
	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/odp"
	"github.com/govs/govs/internal/packet"
)

// Upcaller is the slow path the datapath consults: ofproto implements it.
// The datapath calls Upcall on a cache miss, Userspace for OpUserspace
// actions, and Revalidate from the revalidator. All methods may be called
// from several PMD goroutines at once.
type Upcaller interface {
	// Upcall translates a missed packet: it fills u.Mask, u.Actions (reuse
	// their capacity), u.Ref, and u.NoInstall. It may learn from the packet
	// (MAC learning).
	Upcall(u *Upcall) error

	// Userspace receives a packet for OpUserspace action a (a packet-in).
	// The packet is only valid during the call: copy what is kept.
	Userspace(p *packet.Buffer, k *flow.Key, a *odp.Action)

	// Revalidate re-translates an installed megaflow after rule or state
	// changes, and receives its statistics since the last call. It fills
	// r.Mask and r.Actions with the current translation; the datapath
	// keeps the megaflow when both are unchanged, replaces its actions when
	// only those changed and the new mask is not wider, and deletes it
	// otherwise.
	Revalidate(r *Revalidation) error
}

// Upcall carries one miss to the slow path and its answer back.
type Upcall struct {
	Key    flow.Key       // in: the packet's flow key
	Packet *packet.Buffer // in: the packet (read-only)

	Mask    flow.Mask   // out: the megaflow's mask
	Actions odp.Actions // out: datapath actions
	// Ref is an opaque handle the slow path uses to attribute megaflow
	// statistics to the rules it went through (OVS's xcache); it is
	// returned in Revalidation.Ref.
	Ref uint64
	// NoInstall asks the datapath to execute the actions on this packet
	// but not to install a megaflow (OVS's slow-path reasons).
	NoInstall bool
}

// Revalidation carries one installed megaflow to the slow path.
type Revalidation struct {
	Key  flow.Key  // in: the key the megaflow was installed for
	Mask flow.Mask // in: its mask; out: the current mask
	// Actions: in: the installed actions; out: the current ones.
	Actions odp.Actions
	Ref     uint64 // in: the Ref given at install; out: the new one

	// Statistics since the previous Revalidate of this megaflow.
	Packets, Bytes uint64
	TCPFlags       uint16
	Used           int64 // last use, unix nanoseconds; 0 = never

	// Delete is set by the slow path to delete the megaflow regardless.
	Delete bool
}

// Releaser is implemented by an Upcaller that keeps state per megaflow
// behind Upcall.Ref (ofproto's xcache). The datapath calls Release once for
// every megaflow it deletes (idle expiry, flush, a Revalidate answer it does
// not apply, or Delete), with the statistics gathered since the last
// Revalidate, so the state is freed and the last packets are counted. The
// Ref returned by Revalidate stays the megaflow's until then.
type Releaser interface {
	Release(ref uint64, packets, bytes uint64, used int64)
}
