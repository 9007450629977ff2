package afxdp

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
)

// xdpPass is XDP_PASS: bpf_redirect_map's fallback action (the low bits
// of its flags argument, Linux 5.3+) when no socket sits at the key, so a
// queue without a socket still reaches the kernel stack.
const xdpPass = 2

// xdpMDRxQueueIndex is the offset of rx_queue_index in struct xdp_md.
const xdpMDRxQueueIndex = 16

// redirect is the XDP program and the XSKMAP it redirects into: every
// frame goes to the AF_XDP socket of the queue it arrived on.
type redirect struct {
	xsks *ebpf.Map
	prog *ebpf.Program
	link link.Link
}

// newRedirect builds the program for a device with queues rx queues. The
// program is five instructions, assembled here, so no clang is needed:
//
//	r2 = ctx->rx_queue_index
//	r1 = &xsks_map
//	r3 = XDP_PASS
//	return bpf_redirect_map(r1, r2, r3)
func newRedirect(queues int) (*redirect, error) {
	m, err := ebpf.NewMap(&ebpf.MapSpec{
		Name:       "govs_xsks",
		Type:       ebpf.XSKMap,
		KeySize:    4,
		ValueSize:  4,
		MaxEntries: uint32(queues),
	})
	if err != nil {
		return nil, fmt.Errorf("create xskmap: %w", err)
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "govs_xsk_redir",
		Type: ebpf.XDP,
		Instructions: asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, xdpMDRxQueueIndex, asm.Word),
			asm.LoadMapPtr(asm.R1, m.FD()),
			asm.Mov.Imm(asm.R3, xdpPass),
			asm.FnRedirectMap.Call(),
			asm.Return(),
		},
		License: "Dual BSD/GPL",
	})
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("load xdp program: %w", err)
	}
	return &redirect{xsks: m, prog: prog}, nil
}

// attach links the program to ifindex in driver (native) or generic (SKB)
// mode. A bpf_link detaches by itself if the process dies.
func (r *redirect) attach(ifindex int, native bool) error {
	flags := link.XDPGenericMode
	if native {
		flags = link.XDPDriverMode
	}
	l, err := link.AttachXDP(link.XDPOptions{Program: r.prog, Interface: ifindex, Flags: flags})
	if err != nil {
		return err
	}
	r.link = l
	return nil
}

// detach removes the program from the device.
func (r *redirect) detach() error {
	if r.link == nil {
		return nil
	}
	err := r.link.Close()
	r.link = nil
	return err
}

// swap makes the attached link run prog instead of what it runs now. The
// kernel replaces the program in place (no detach in between), so every
// frame meets either the old program or the new one. It does not wait for
// frames the old program is still handling.
func (r *redirect) swap(prog *ebpf.Program) error {
	if r.link == nil {
		return errors.New("xdp program not attached")
	}
	return r.link.Update(prog)
}

// newPass loads the XDP program a forwarding port runs in place of the
// redirect: it hands every frame to the kernel stack, whose TC ingress
// hook forwards it (see forward.go).
//
//	return XDP_PASS
func newPass() (*ebpf.Program, error) {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "govs_xdp_pass",
		Type: ebpf.XDP,
		Instructions: asm.Instructions{
			asm.Mov.Imm(asm.R0, xdpPass),
			asm.Return(),
		},
		License: "Dual BSD/GPL",
	})
	if err != nil {
		return nil, fmt.Errorf("load xdp pass program: %w", err)
	}
	return prog, nil
}

// setSocket points queue qid at the socket fd.
func (r *redirect) setSocket(qid, fd int) error {
	if err := r.xsks.Put(uint32(qid), uint32(fd)); err != nil {
		return fmt.Errorf("xskmap[%d]: %w", qid, err)
	}
	return nil
}

func (r *redirect) close() error {
	return errors.Join(r.detach(), r.prog.Close(), r.xsks.Close())
}
