// Package netdev defines the one interface every port type implements, and
// the registry that builds ports from their OVSDB Interface type name
// ("afxdp", "system", "tap", "internal", "patch", "dpdkvhostuser", "dummy", ...).
// Port types live in sub-packages and register themselves.
//
// Contract, as wireguard-go's tun.Device and gVisor's LinkEndpoint state
// theirs:
//
//   - A PMD thread polls an RxQueue; one RxQueue is polled by one PMD at a
//     time. Recv fills a caller-owned Batch with Buffers pointing into the
//     port's memory; they stay valid until the next Recv on that queue.
//   - Send copies packets out (one copy, into the port's own memory) and
//     never keeps the Buffers. Queue qid is used by one PMD at a time unless
//     the port has fewer tx queues than PMDs, in which case the caller
//     serialises (see TxQueues).
//   - Neither Recv nor Send allocates in steady state.
package netdev

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"

	"github.com/govs/govs/internal/packet"
)

// Netdev is a port: something packets come from and go to.
type Netdev interface {
	Name() string
	Type() string

	// RxQueues returns the receive queues. Their number is fixed until the
	// port is reconfigured.
	RxQueues() []RxQueue
	// TxQueues returns the number of transmit queues (at least 1).
	TxQueues() int
	// Send transmits the packets of b on queue qid (qid < TxQueues()) and
	// returns how many were accepted; the rest were dropped and counted in
	// the port's TxDropped. The Buffers are not retained.
	Send(qid int, b *packet.Batch) int

	// Stats returns the port's counters.
	Stats() Stats
	// Status returns key/value pairs for OVSDB Interface.status.
	Status() map[string]string

	MAC() net.HardwareAddr
	MTU() int
	// LinkUp reports the carrier state.
	LinkUp() bool

	// Close releases the port's kernel resources (sockets, XDP programs,
	// TAP devices it created). It is called after no PMD polls the port.
	Close() error
}

// RxQueue is one receive queue of a port.
type RxQueue interface {
	// Recv fills b (cleared first) with up to packet.BatchSize packets and
	// returns how many. It does not block. Buffers from the previous Recv
	// on this queue become invalid.
	Recv(b *packet.Batch) (int, error)
	// ID returns the queue index within its port.
	ID() int
}

// SyscallPoller is implemented by receive queues whose poll is a system
// call (TAP and internal ports: a read() that usually answers EAGAIN). PMDs
// poll such queues less often while they stay empty, the way OVS polls them
// from its main thread rather than from PMDs, so an idle management port
// does not cost the PMD a syscall per iteration.
type SyscallPoller interface {
	PollIsSyscall() bool
}

// KernelForwarder is a port whose kernel device can forward everything it
// receives to another device without the frames reaching user space: the
// datapath's hw-offload (OVS's other_config:hw-offload, which hands flows to
// TC). When a megaflow says that all a port receives leaves unchanged on one
// other port (it matches only in_port and its one action is output to a
// Transmitter), the datapath asks the input port to forward in the kernel,
// saving a trip through the rx ring, a PMD and the output port's tx ring
// per packet.
//
// While forwarding, the port's RxQueues stay valid but receive nothing, and
// the packets do not show in Stats: the datapath adds Forwarded to the
// megaflow's statistics instead.
type KernelForwarder interface {
	// ForwardTo makes the kernel transmit every frame the port receives
	// from now on, unchanged, on the device with index ifindex; with cpus
	// non-empty, the kernel's receive processing of the port (its NAPI
	// threads) is moved onto those CPUs. ifindex 0 stops forwarding: frames
	// reach the port's rx queues again and the NAPI setting is restored.
	// It returns once new frames follow the new setting.
	//
	// Calling it again with the same ifindex and cpus does nothing. On
	// error forwarding is whole, as before the call or as asked (frames
	// reach either the rx queues or one device, never some of each), and
	// the error says what failed, e.g. moving the NAPI threads.
	ForwardTo(ifindex int, cpus []int) error
	// Forwarded returns the packets and bytes the kernel has forwarded
	// for the port since it was opened (monotonic, survives stop/start).
	// It is cheap enough to call once per revalidation round, and still
	// answers, with the last totals, after Close.
	Forwarded() (packets, bytes uint64)
}

// Transmitter is a port whose Send transmits on a kernel device's egress,
// which a KernelForwarder may therefore forward to in its place.
type Transmitter interface {
	// TransmitIfindex returns the index of that device, in the network
	// namespace the switch runs in.
	TransmitIfindex() int
}

// Stats are a port's counters, as OVSDB Interface.statistics names them.
type Stats struct {
	RxPackets, RxBytes, RxDropped, RxErrors uint64
	TxPackets, TxBytes, TxDropped, TxErrors uint64
}

// Spec is what a port is built from: an OVSDB Interface row turned into plain
// data (cilium/ebpf's Spec/object split: only the live port owns fds).
type Spec struct {
	Name    string
	Type    string            // OVS Interface.type ("" means "system")
	Options map[string]string // Interface.options
	MTU     int               // Interface.mtu_request, 0 = port default
	MAC     net.HardwareAddr  // Interface.mac, nil = port default
	RunDir  string            // OVS_RUNDIR (vhost-user sockets live here)
}

// Constructor builds a port from its spec.
type Constructor func(Spec) (Netdev, error)

var (
	registryMu sync.Mutex
	registry   = map[string]Constructor{}
)

// Register makes a port type available under the OVSDB type name typ.
func Register(typ string, c Constructor) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[typ]; dup {
		panic("netdev: type registered twice: " + typ)
	}
	registry[typ] = c
}

// Types returns the registered type names, sorted (Open_vSwitch.iface_types).
func Types() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	t := make([]string, 0, len(registry))
	for k := range registry {
		t = append(t, k)
	}
	sort.Strings(t)
	return t
}

// ErrUnknownType is wrapped by Open for a type nobody registered.
var ErrUnknownType = errors.New("unknown interface type")

// Open builds the port described by s.
func Open(s Spec) (Netdev, error) {
	typ := s.Type
	if typ == "" {
		typ = "system"
	}
	registryMu.Lock()
	c := registry[typ]
	registryMu.Unlock()
	if c == nil {
		return nil, fmt.Errorf("%s: %w %q", s.Name, ErrUnknownType, typ)
	}
	return c(s)
}
