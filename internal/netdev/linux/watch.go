package linux

import (
	"context"
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// LinkEvent is a change of a kernel interface as the switch cares about it:
// carrier, admin state, MTU, MAC, or its removal.
type LinkEvent struct {
	Name    string
	Index   int
	Up      bool // carrier (IFF_RUNNING), what OpenFlow calls !OFPPS_LINK_DOWN
	AdminUp bool // IFF_UP, what OpenFlow calls !OFPPC_PORT_DOWN
	MTU     int
	MAC     net.HardwareAddr
	Deleted bool
}

// WatchLinks calls fn for every change of every interface in the current
// network namespace until ctx is done, starting with the current state of
// each one. fn runs on one goroutine, in the kernel's order; it should
// hand the event off quickly (the kernel drops notifications if the socket
// buffer fills, and WatchLinks then returns an error so the caller can
// resynchronise by watching again).
//
// WatchLinks blocks; run it on its own goroutine:
//
//	go linux.WatchLinks(ctx, func(e linux.LinkEvent) { bridge.PortStatus(e) })
func WatchLinks(ctx context.Context, fn func(LinkEvent)) error {
	ch := make(chan netlink.LinkUpdate, 64)
	done := make(chan struct{})
	defer close(done)
	errc := make(chan error, 1)
	err := netlink.LinkSubscribeWithOptions(ch, done, netlink.LinkSubscribeOptions{
		ListExisting: true,
		ErrorCallback: func(err error) {
			select {
			case errc <- err:
			default:
			}
		},
	})
	if err != nil {
		return fmt.Errorf("subscribe to link events: %w", err)
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errc:
			return fmt.Errorf("link events: %w", err)
		case u, ok := <-ch:
			if !ok {
				return fmt.Errorf("link events: subscription closed")
			}
			a := u.Link.Attrs()
			fn(LinkEvent{
				Name:    a.Name,
				Index:   a.Index,
				Up:      u.IfInfomsg.Flags&unix.IFF_RUNNING != 0,
				AdminUp: u.IfInfomsg.Flags&unix.IFF_UP != 0,
				MTU:     a.MTU,
				MAC:     a.HardwareAddr,
				Deleted: u.Header.Type == unix.RTM_DELLINK,
			})
		}
	}
}
