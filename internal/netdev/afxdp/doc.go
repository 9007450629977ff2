// Package afxdp is the "afxdp" port type: the kernel keeps the NIC and its
// driver, an XDP program steers every received frame into an AF_XDP socket
// of ours, and frames move through rings in shared memory with no system
// call per packet.
//
// Per port: one XSKMAP and one five-instruction XDP program (assembled with
// cilium/ebpf's asm package, no clang) that calls bpf_redirect_map with the
// frame's rx queue index as key and XDP_PASS as the fallback, so a queue we
// have no socket for still reaches the kernel stack. The program is attached
// through a bpf_link, which the kernel removes if govs dies.
//
// Per rx queue (options:n_rxq, default 1): one socket bound to that queue,
// with its own UMEM of FrameSize frames off the Go heap and four rings
// (fill, completion, rx, tx; one file each). Producer and consumer indices
// are cached and published once per batch. The socket's TX ring is the
// port's tx queue of the same index. See queue.go for the receive and
// transmit flows.
//
// options:xdp-mode is OVS's: native-with-zerocopy (driver mode and
// XDP_ZEROCOPY), native (driver mode, XDP_COPY), generic (SKB mode,
// XDP_COPY), or best-effort (the default: the first of those three that
// works). Status reports the mode chosen and whether it is zero-copy.
// need_wakeup is always on: the kernel is kicked (sendto for TX, recvfrom
// when the fill ring runs dry) only when it says it sleeps.
//
// A port can also have the kernel forward everything it receives to
// another device (netdev.KernelForwarder, the datapath's hw-offload): the
// XDP program is swapped for XDP_PASS and a TCX program redirects the
// frames, on the PMD's CPU; see forward.go.
//
// veth: native mode works and is what best-effort picks (veth has no
// zero-copy). The kernel refuses native XDP on a veth whose rx queues are
// fewer than its peer's tx queues (ENOSPC): create the pair with equal
// numrxqueues/numtxqueues (best-effort then falls back to generic). As for
// OVS's afxdp ports, turn off TSO/GSO and transmit checksum offload on the
// peer, or TCP super-frames and unfinished checksums reach the switch.
package afxdp
