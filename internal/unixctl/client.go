package unixctl

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Client is an ovs-appctl in Go: it sends commands to a daemon's unixctl
// socket (govs top uses it).
type Client struct {
	mu   sync.Mutex
	conn net.Conn
	dec  *json.Decoder
	id   int
	// Timeout bounds each call (default 10 s).
	Timeout time.Duration
}

// CallError is an error reply: the daemon ran the command and refused it.
type CallError struct{ Text string }

func (e *CallError) Error() string { return strings.TrimSuffix(e.Text, "\n") }

// FindSocket returns the control socket of program (e.g. "ovs-vswitchd")
// in runDir, as ovs-appctl finds it: through <program>.pid.
func FindSocket(runDir, program string) (string, error) {
	pidfile := filepath.Join(runDir, program+".pid")
	b, err := os.ReadFile(pidfile)
	if err != nil {
		return "", fmt.Errorf("cannot read pidfile %q: %w (is govs running with this OVS_RUNDIR?)", pidfile, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return "", fmt.Errorf("%s: no pid in pidfile", pidfile)
	}
	return filepath.Join(runDir, fmt.Sprintf("%s.%d.ctl", program, pid)), nil
}

// Dial connects to the unixctl socket at path.
func Dial(path string) (*Client, error) {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, fmt.Errorf("unixctl: %w", err)
	}
	return &Client{conn: conn, dec: json.NewDecoder(conn), Timeout: 10 * time.Second}, nil
}

// Call runs method with args and returns the reply text. An error reply
// is a *CallError.
func (c *Client) Call(method string, args ...string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if args == nil {
		args = []string{}
	}
	c.id++
	req, err := json.Marshal(struct {
		Method string   `json:"method"`
		Params []string `json:"params"`
		ID     int      `json:"id"`
	}{method, args, c.id})
	if err != nil {
		return "", err
	}
	c.conn.SetDeadline(time.Now().Add(c.Timeout))
	if _, err := c.conn.Write(req); err != nil {
		return "", fmt.Errorf("unixctl: %w", err)
	}
	var r reply
	if err := c.dec.Decode(&r); err != nil {
		return "", fmt.Errorf("unixctl: %s: %w", method, err)
	}
	if r.Error != nil {
		return "", &CallError{Text: *r.Error}
	}
	if r.Result == nil {
		return "", nil
	}
	return *r.Result, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }
