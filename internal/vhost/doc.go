// Package vhost is the back-end (the "slave" in older QEMU wording) of the
// vhost-user protocol and the VIRTIO 1.1 split virtqueues it sets up: what
// lets a VM's virtio-net (QEMU) or a DPDK virtio-user container exchange
// packets with the switch through shared memory, with no system call per
// packet.
//
// Control flow (one goroutine per connection, Device.Serve):
//
//  1. The front-end negotiates features (GET/SET_FEATURES: VERSION_1,
//     MRG_RXBUF, EVENT_IDX, INDIRECT_DESC, ANY_LAYOUT, IN_ORDER, MQ, MTU)
//     and protocol features (GET/SET_PROTOCOL_FEATURES: MQ, REPLY_ACK,
//     MTU).
//  2. SET_MEM_TABLE passes one fd per guest memory region; each is mmap'd
//     whole (memory.go). Ring addresses are translated from the
//     front-end's user addresses, descriptor addresses from guest-physical
//     ones, with a bounds check on every access.
//  3. Per ring: SET_VRING_NUM/ADDR/BASE, CALL and KICK eventfds; the ring
//     runs once kicked (and, with protocol features, enabled by
//     SET_VRING_ENABLE); GET_VRING_BASE stops it.
//  4. Any malformed or out-of-order message, or a bad descriptor met by the
//     datapath, ends the connection and resets the device; the Device
//     stays and serves the next connection.
//
// Data flow (PMD goroutines, no locks, no allocation, no system call but
// at most one eventfd write per batch):
//
//   - The guest's transmit rings (odd indices) are our receive queues
//     (rx.go). Recv walks available descriptor chains and hands out
//     packet.Buffers that point into guest memory, flagged ReadOnly; a
//     packet scattered over several descriptors is gathered into a frame of
//     the queue's packet.Pool. The chains are returned to the guest (used
//     ring) at the start of the next Recv, when the datapath is done with
//     them.
//   - The guest's receive rings (even indices) are our transmit queues
//     (tx.go). Send copies each packet once into the guest's buffers, with
//     VIRTIO_NET_F_MRG_RXBUF spreading it over several.
//   - Both publish used->idx once per batch with an atomic store and then
//     decide whether to interrupt the guest (VRING_AVAIL_F_NO_INTERRUPT, or
//     used_event with VIRTIO_F_RING_EVENT_IDX). The switch busy-polls, so it
//     asks the guest not to kick (VRING_USED_F_NO_NOTIFY) and never reads
//     the kick eventfd.
//
// Sharing between the two: every ring has a gate (gate.go), an atomic word
// the PMD flips from idle to busy and back around each Recv or Send, and
// the control goroutine flips from idle to stopped before it touches the
// ring's configuration or the memory table. Memory a stopped receive queue
// may still have handed out is unmapped only after that queue's PMD came
// back for its next Recv (or when the Device closes).
//
// Guest memory is little-endian (VIRTIO_F_VERSION_1); so are the machines
// govs runs on (amd64, arm64).
package vhost
