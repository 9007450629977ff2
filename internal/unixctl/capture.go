package unixctl

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/govs/govs/internal/capture"
)

// capture/stream is govs capture's command (cmd/govs/capture.go), not one
// for ovs-appctl: after its reply the connection carries the capture's
// record stream (internal/capture), until the capture ends.
//
//	capture/stream PORT DIRECTION SNAPLEN COUNT DURATION [PROGRAM]
//
// PROGRAM is a classic BPF program in tcpdump -ddd's format.
func registerCapture(s *Server, sw Switch) {
	s.Register(Command{Name: "capture/stream", Usage: "port rx|tx|both snaplen count duration [bpf]",
		MinArgs: 5, MaxArgs: 6, Run: func(c *Call) (string, error) { return captureStream(sw, c) }})
}

func captureStream(sw Switch, c *Call) (string, error) {
	name := c.Args[0]
	dir, err := capture.ParseDirection(c.Args[1])
	if err != nil {
		return "", err
	}
	snap, err := strconv.Atoi(c.Args[2])
	if err != nil || snap < 1 || snap > capture.DefaultSnapLen {
		return "", fmt.Errorf("snapshot length %q: want 1 to %d", c.Args[2], capture.DefaultSnapLen)
	}
	count, err := strconv.ParseUint(c.Args[3], 10, 64)
	if err != nil {
		return "", fmt.Errorf("count %q: %v", c.Args[3], err)
	}
	dur, err := time.ParseDuration(c.Args[4])
	if err != nil || dur < 0 {
		return "", fmt.Errorf("duration %q: want a duration such as 10s", c.Args[4])
	}
	var filter *capture.Filter
	if len(c.Args) == 6 && c.Args[5] != "" {
		if filter, err = capture.ParseFilter(c.Args[5]); err != nil {
			return "", err
		}
	}
	dp := sw.Datapath()
	no, found := uint32(0), false
	for _, p := range dp.PortEntries() {
		if p.Dev.Name() == name {
			no, found = p.No, true
		}
	}
	if !found {
		return "", fmt.Errorf("no port named %s", name)
	}
	dev := dp.PortDev(no)
	// The tap starts only once the reply is out: a client that went away
	// before it leaves nothing behind.
	c.Hijack(func(conn net.Conn) {
		tap := capture.NewTap(dir, filter, snap)
		if err := dp.AddTap(no, tap); err != nil {
			capture.NewEncoder(conn).WriteEnd(capture.End{Reason: err.Error()})
			return
		}
		gone := func() string {
			if dp.PortDev(no) != dev {
				return "port " + name + " was deleted"
			}
			return ""
		}
		capture.Serve(conn, tap, capture.SessionOptions{Count: count, Duration: dur, Gone: gone},
			func() { dp.RemoveTap(no, tap) })
	})
	return fmt.Sprintf("capturing on %s, direction %s, link-type EN10MB (Ethernet), snapshot length %d bytes", name, dir, snap), nil
}

// Stream is a command whose reply is followed by a stream (capture/stream).
type Stream struct {
	Reply string    // the command's reply text
	R     io.Reader // the stream after the reply
	conn  *net.UnixConn
}

// CallStream runs method on the unixctl socket at path and, if it
// succeeds, returns the stream that follows its reply. An error reply is a
// *CallError.
func CallStream(path, method string, args ...string) (*Stream, error) {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, fmt.Errorf("unixctl: %w", err)
	}
	uc := conn.(*net.UnixConn)
	req, _ := json.Marshal(struct {
		Method string   `json:"method"`
		Params []string `json:"params"`
		ID     int      `json:"id"`
	}{method, args, 0})
	dec := json.NewDecoder(uc)
	var r reply
	if _, err = uc.Write(req); err == nil {
		err = dec.Decode(&r)
	}
	if err != nil {
		uc.Close()
		return nil, fmt.Errorf("unixctl: %s: %w", method, err)
	}
	if r.Error != nil {
		uc.Close()
		return nil, &CallError{Text: *r.Error}
	}
	text := ""
	if r.Result != nil {
		text = *r.Result
	}
	// The reply ends in a newline (json.Encoder's), before the stream.
	br := bufio.NewReader(io.MultiReader(dec.Buffered(), uc))
	if b, err := br.Peek(1); err == nil && b[0] == '\n' {
		br.Discard(1)
	}
	return &Stream{Reply: text, R: br, conn: uc}, nil
}

// Stop asks the daemon to end the stream (it shuts down the sending side;
// the daemon finishes the stream and closes).
func (s *Stream) Stop() error { return s.conn.CloseWrite() }

// Close closes the connection.
func (s *Stream) Close() error { return s.conn.Close() }
