package ofagent

import (
	"net"
	"testing"

	"github.com/govs/govs/internal/ofp"
	"github.com/govs/govs/internal/ofp/of13"
)

// FuzzHandle feeds arbitrary bytes, framed as one message of the
// negotiated version, to a connection's handler: it must never panic, and
// a bad message must leave the connection open (it gets an OFPT_ERROR).
func FuzzHandle(f *testing.F) {
	f.Add(uint8(4), flowMod13(1, 0, 1, []ofp.OXM{ethTypeIP}, applyOutput(2))[8:], uint8(of13.TypeFlowMod))
	f.Add(uint8(4), (&of13.MultipartRequest{MPType: of13.MPTableFeatures}).AppendTo(nil)[8:], uint8(of13.TypeMultipartRequest))
	f.Add(uint8(1), []byte{0, 0, 0x23, 0x20, 0, 0, 0, 13}, uint8(4))
	f.Add(uint8(4), []byte{0x4f, 0x4e, 0x46, 0, 0, 0, 8, 0xfc, 0, 0, 0, 1, 0, 0, 0, 0}, uint8(4))
	// A BUNDLE_ADD carrying a flow-mod (the bundle's reused decoder).
	add := (&of13.BundleAdd{BundleID: 1, Message: flowMod13(1, 0, 1, []ofp.OXM{ethTypeIP}, applyOutput(2))}).Append(nil)
	f.Add(uint8(4), append([]byte{0x4f, 0x4e, 0x46, 0, 0, 0, 8, 0xfd}, add...), uint8(4))
	f.Fuzz(func(t *testing.T, version uint8, body []byte, typ uint8) {
		if version != ofp.Version10 {
			version = ofp.Version13
		}
		if len(body) > 4000 {
			return
		}
		ts := newTestSwitch(t)
		a, b := net.Pipe()
		defer b.Close()
		c := newOfconn(ts.a, a, "fuzz", false)
		c.version = version
		go func() {
			for range c.out {
			}
		}()
		defer close(c.out)
		msg, s := ofp.AppendHeader(nil, version, typ, 1)
		msg = ofp.EndMessage(append(msg, body...), s)
		c.handle(msg)
		// The handler must not have closed the connection.
		select {
		case <-c.done:
			t.Fatal("connection closed by a bad message")
		default:
		}
	})
}
