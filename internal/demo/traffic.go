package demo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

const (
	pingCount       = 5
	pingTimeout     = 20 * time.Second
	iperfListenWait = 10 * time.Second
)

// pingResult is ping's summary.
type pingResult struct {
	sent, received int
	loss           string // as ping prints it, e.g. "0"
	avgRTT         string // ms, "" when no reply came
}

var (
	rePingSummary = regexp.MustCompile(`(\d+) packets transmitted, (\d+) received.*?([\d.]+)% packet loss`)
	rePingRTT     = regexp.MustCompile(`rtt min/avg/max/mdev = [\d.]+/([\d.]+)/`)
)

func parsePing(out string) (pingResult, error) {
	m := rePingSummary.FindStringSubmatch(out)
	if m == nil {
		return pingResult{}, errors.New("no summary in ping's output")
	}
	var res pingResult
	res.sent, _ = strconv.Atoi(m[1])
	res.received, _ = strconv.Atoi(m[2])
	res.loss = m[3]
	if m := rePingRTT.FindStringSubmatch(out); m != nil {
		res.avgRTT = m[1]
	}
	return res, nil
}

// ping pings to.ip from from's namespace and prints ping's output and a
// summary. No reply at all is an error; some loss is only reported.
func ping(ctx context.Context, r *runner, from, to host) (pingResult, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, pingTimeout, fmt.Errorf("ping did not finish within %v", pingTimeout))
	defer cancel()
	out, err := r.run(ctx, showOutput, "ip", "netns", "exec", from.ns, "ping", "-c", strconv.Itoa(pingCount), "-i", "0.2", "-W", "2", to.ip)
	res, perr := parsePing(out)
	if perr != nil {
		if err != nil {
			return res, err
		}
		return res, perr
	}
	if res.received == 0 {
		return res, fmt.Errorf("%s got no reply from %s (%s): the switch did not forward", from.label, to.label, to.ip)
	}
	rtt := ""
	if res.avgRTT != "" {
		rtt = ", average round trip " + res.avgRTT + " ms"
	}
	r.p.note("--> %s -> %s: %d/%d replies, %s%% packet loss%s", from.label, to.label, res.received, res.sent, res.loss, rtt)
	if res.received < res.sent {
		r.p.note("    (some requests got no reply within 2 s: on a busy machine govs' PMD thread shares")
		r.p.note("    its CPU with other programs; see the statistics in step 7 for drops)")
	}
	return res, nil
}

// iperfResult is iperf3's summary.
type iperfResult struct {
	transfer    string // bytes the receiver got, e.g. "247 MBytes"
	bitrate     string // receiver's rate, e.g. "688 Mbits/sec"
	retransmits string // sender's TCP retransmissions ("" if not shown)
}

var reIperfLine = regexp.MustCompile(`sec\s+([\d.]+ [KMGT]?Bytes)\s+([\d.]+ [KMGT]?bits/sec)\s+(?:(\d+)\s+)?(sender|receiver)`)

func parseIperf(out string) (iperfResult, error) {
	var res iperfResult
	for _, m := range reIperfLine.FindAllStringSubmatch(out, -1) {
		switch m[4] {
		case "sender":
			res.retransmits = m[3]
		case "receiver":
			res.transfer, res.bitrate = m[1], m[2]
		}
	}
	if res.bitrate == "" {
		return res, errors.New("no receiver summary in iperf3's output")
	}
	return res, nil
}

// iperfServer is a one-shot iperf3 server (-1) in a namespace.
type iperfServer struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// startIperfServer starts `iperf3 -s -1` in h's namespace and waits until
// it listens.
func startIperfServer(ctx context.Context, r *runner, h host) (*iperfServer, error) {
	args := []string{"netns", "exec", h.ns, "iperf3", "-s", "-1", "-B", h.ip, "--forceflush"}
	r.p.note("$ %s &", commandLine("ip", args...))
	// Its own context: the clean-up stops it, not the step's.
	cmd := r.command(context.Background(), "ip", args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start iperf3 server: %w", err)
	}
	s := &iperfServer{cmd: cmd, exited: make(chan struct{})}
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		seen := false
		for sc.Scan() {
			if !seen && strings.Contains(sc.Text(), "Server listening") {
				seen = true
				close(listening)
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		close(s.exited)
	}()
	select {
	case <-listening:
		return s, nil
	case <-s.exited:
		return s, errors.New("iperf3 server exited before listening")
	case <-ctx.Done():
		return s, context.Cause(ctx)
	case <-time.After(iperfListenWait):
		return s, fmt.Errorf("timed out after %v waiting for the iperf3 server to listen", iperfListenWait)
	}
}

// stop waits a moment for the one-shot server to finish, then kills it.
func (s *iperfServer) stop() {
	select {
	case <-s.exited:
		return
	case <-time.After(2 * time.Second):
	}
	_ = s.cmd.Cancel()
	<-s.exited
}

// iperf runs an iperf3 TCP test of d from -> to (the server must run in
// to's namespace) and prints its output and a summary.
func iperf(ctx context.Context, r *runner, from, to host, d time.Duration) (iperfResult, error) {
	secs := max(1, int(d.Round(time.Second)/time.Second))
	limit := d + 20*time.Second
	ctx, cancel := context.WithTimeoutCause(ctx, limit, fmt.Errorf("iperf3 did not finish within %v", limit))
	defer cancel()
	out, err := r.run(ctx, showOutput, "ip", "netns", "exec", from.ns, "iperf3", "-c", to.ip, "-t", strconv.Itoa(secs), "--connect-timeout", "5000")
	if err != nil {
		return iperfResult{}, err
	}
	res, err := parseIperf(out)
	if err != nil {
		return res, err
	}
	retr := ""
	if res.retransmits != "" {
		retr = ", " + res.retransmits + " TCP retransmissions"
	}
	r.p.note("--> iperf3 TCP %s -> %s through govs: %s (%s in %d s%s)", from.label, to.label, res.bitrate, res.transfer, secs, retr)
	return res, nil
}
