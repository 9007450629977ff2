package linux_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/govs/govs/internal/netdev/linux"
	"github.com/govs/govs/internal/netdev/linux/linuxtest"
	"golang.org/x/sys/unix"
)

func TestLookupMissingDevice(t *testing.T) {
	name := linuxtest.Name("x")
	_, err := linux.Lookup(name)
	want := "could not open network device " + name + " (No such device)"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	if !errors.Is(err, unix.ENODEV) {
		t.Errorf("%v does not wrap ENODEV", err)
	}
}

func TestDeviceAttributes(t *testing.T) {
	v := linuxtest.NewVeth(t, linuxtest.VethOptions{})
	d, err := linux.Lookup(v.Host)
	if err != nil {
		t.Fatal(err)
	}
	if d.MAC().String() != v.HostMAC.String() {
		t.Errorf("MAC %s, want %s", d.MAC(), v.HostMAC)
	}
	mac, _ := net.ParseMAC("02:00:00:00:00:42")
	if err := d.Configure(1280, mac); err != nil {
		t.Fatal(err)
	}
	if d.MTU() != 1280 || d.MAC().String() != mac.String() {
		t.Errorf("MTU %d MAC %s after Configure(1280, %s)", d.MTU(), d.MAC(), mac)
	}
	if drv, err := linux.Driver(v.Host); err != nil || drv != "veth" {
		t.Errorf("Driver = %q, %v; want veth", drv, err)
	}
}

func TestWatchLinks(t *testing.T) {
	v := linuxtest.NewVeth(t, linuxtest.VethOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan linux.LinkEvent, 256)
	done := make(chan error, 1)
	go func() {
		done <- linux.WatchLinks(ctx, func(e linux.LinkEvent) {
			if e.Name == v.Host {
				events <- e
			}
		})
	}()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("WatchLinks returned %v, want context.Canceled", err)
		}
	}()
	wait := func(what string, match func(linux.LinkEvent) bool) {
		t.Helper()
		timeout := time.After(3 * time.Second)
		for {
			select {
			case e := <-events:
				if match(e) {
					return
				}
			case <-timeout:
				t.Fatalf("no event: %s", what)
			}
		}
	}
	wait("initial state up", func(e linux.LinkEvent) bool { return e.Up && e.AdminUp })
	linuxtest.Run(t, "ip", "-n", v.NS, "link", "set", v.Peer, "down")
	wait("carrier down", func(e linux.LinkEvent) bool { return !e.Up && e.AdminUp })
	linuxtest.Run(t, "ip", "-n", v.NS, "link", "set", v.Peer, "up")
	wait("carrier up", func(e linux.LinkEvent) bool { return e.Up })
	linuxtest.Run(t, "ip", "link", "del", v.Host)
	wait("deleted", func(e linux.LinkEvent) bool { return e.Deleted })
}
