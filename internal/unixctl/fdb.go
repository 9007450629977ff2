package unixctl

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/govs/govs/internal/ofproto"
)

// fdb/*: NORMAL's MAC learning table, as OVS's ofproto-dpif prints it.

func (c *switchCmds) fdbShow(call *Call) (string, error) {
	mt := c.sw.Ofproto().MACTable(call.Args[0])
	if mt == nil {
		return "", errors.New("no such bridge")
	}
	now := c.now().UnixNano()
	ents := mt.Entries(now)
	// Oldest first, as OVS walks its LRU list.
	slices.SortStableFunc(ents, func(a, b ofproto.MACEntry) int {
		switch {
		case a.Used < b.Used:
			return -1
		case a.Used > b.Used:
			return 1
		}
		return 0
	})
	var b strings.Builder
	b.WriteString(" port  VLAN  MAC                Age\n")
	for _, e := range ents {
		age := (now - e.Used) / 1e9
		if age < 0 {
			age = 0
		}
		fmt.Fprintf(&b, "%5s  %4d  %s  %3d\n", ofPortName(e.Port), e.VLAN, macStr(e.MAC), age)
	}
	return b.String(), nil
}

func (c *switchCmds) fdbFlush(call *Call) (string, error) {
	names := c.sw.Bridges()
	if len(call.Args) == 1 {
		if c.sw.Bridge(call.Args[0]) == nil {
			return "", errors.New("no such bridge")
		}
		names = call.Args[:1]
	}
	// Revalidating pushes the megaflows' pending statistics first, which
	// may refresh MAC entries; after the flush, a second pass makes the
	// megaflows that forwarded to learned ports flood again at once.
	dp := c.sw.Datapath()
	dp.Revalidate()
	for _, n := range names {
		if mt := c.sw.Ofproto().MACTable(n); mt != nil {
			mt.Flush()
		}
	}
	dp.Revalidate()
	return "table successfully flushed\n", nil
}
