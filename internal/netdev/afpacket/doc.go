// Package afpacket is the "system" port type: an existing kernel interface
// driven through an AF_PACKET socket with TPACKET_V3 rings, as OVS's
// default type for a kernel device. It works on any interface and any
// kernel, at a fraction of AF_XDP's speed; use "afxdp" where that matters.
//
// Receive flow (one PMD per queue, no locks):
//
//  1. The kernel fills blocks of the mmap'd RX ring with packets and hands a
//     block to us by setting TP_STATUS_USER in its header (when the block is
//     full or after RetireTimeout).
//  2. Recv first gives back to the kernel the blocks the previous Recv used
//     up (their packets were valid until now), then walks the current block
//     and hands its packets out in place as packet.Buffers, up to
//     packet.BatchSize. A VLAN tag the kernel moved into the header is put
//     back into the packet, using the headroom PACKET_RESERVE leaves.
//
// Transmit flow: Send copies each packet into the next free frame of the
// mmap'd TX ring and marks it TP_STATUS_SEND_REQUEST; one sendto per batch
// makes the kernel send them all. PACKET_QDISC_BYPASS skips the qdisc layer
// and PACKET_IGNORE_OUTGOING keeps our own transmissions out of our RX ring.
//
// The peer of a veth (or a NIC) should have TSO/GSO and transmit checksum
// offload turned off, as for OVS's userspace datapath: with them on, the
// kernel hands AF_PACKET 64 KiB TCP super-frames and packets whose
// checksum is still to be filled in (see docs on `ethtool -K`). Frames
// longer than a ring block are dropped and counted as receive errors.
package afpacket
