// Package ports registers the kernel-facing port types with netdev, so the
// daemon imports one package to serve "system", "afxdp", "tap" and
// "internal" interfaces:
//
//	import _ "github.com/govs/govs/internal/netdev/ports"
package ports

import (
	_ "github.com/govs/govs/internal/netdev/afpacket" // "system"
	_ "github.com/govs/govs/internal/netdev/afxdp"    // "afxdp"
	_ "github.com/govs/govs/internal/netdev/tap"      // "tap", "internal"
)
