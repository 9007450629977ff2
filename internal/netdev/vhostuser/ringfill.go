package vhostuser

import "github.com/govs/govs/internal/vhost"

// RingFill samples the fill level of the port's running virtqueues (the
// metrics endpoint reads it at scrape time).
func (p *Port) RingFill() []vhost.RingFill { return p.dev.RingFill() }
