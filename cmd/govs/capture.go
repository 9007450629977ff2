package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/govs/govs/internal/capture"
	"github.com/govs/govs/internal/daemon"
	"github.com/govs/govs/internal/unixctl"
)

// govs capture: tcpdump on a switch port, served by the running daemon
// (internal/capture, internal/dpif/capture.go) over its unixctl socket.
func init() {
	var o captureOptions
	cmd := &cobra.Command{
		Use:   "capture PORT [FILTER...]",
		Short: "capture the packets of a switch port as pcap or pcapng (like tcpdump -w)",
		Long: `capture copies the packets a port of the running govs receives and
transmits, as the datapath sees them, into a pcap (default) or pcapng file,
or to standard output:

  govs capture p1 | tcpdump -nr -
  govs capture p1 -c 10 --pcapng -w p1.pcapng icmp or arp

FILTER is a tcpdump (pcap-filter) expression, compiled by the installed
tcpdump and run in the daemon on each packet. The capture ends after COUNT
packets, after the duration, on Ctrl-C, or when the reader of standard
output exits; the counts then go to standard error. Packets the daemon
could not hand over in time are dropped, never delayed, and counted.
Several captures may run at once, on the same port or others; a capture
costs the datapath nothing once it ends.

Exit status: 0 when the capture ran, 1 when it could not (no such port, no
govs running, bad filter), 2 for a usage error.`,
		Example: "  govs capture p1 -c 5 -w - icmp | tcpdump -nr -",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("capture: which port? (govs capture PORT [FILTER...])")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCapture(cmd.ErrOrStderr(), args[0], strings.Join(args[1:], " "), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.file, "write", "w", "-", "write to FILE (- for standard output)")
	fl.BoolVar(&o.pcapng, "pcapng", false, "write pcapng instead of pcap")
	fl.Uint64VarP(&o.count, "count", "c", 0, "stop after COUNT packets (0: no limit)")
	fl.DurationVar(&o.duration, "duration", 0, "stop after this long (0: no limit)")
	fl.StringVar(&o.direction, "direction", "both", "packets received (rx), transmitted (tx) or both")
	fl.IntVarP(&o.snap, "snapshot-length", "s", capture.DefaultSnapLen, "keep at most this many bytes of each packet")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	subcommands = append(subcommands, cmd)
}

type captureOptions struct {
	file      string
	pcapng    bool
	count     uint64
	duration  time.Duration
	direction string
	snap      int
}

// usageError exits with status 2, as a bad command line does for
// ovs-appctl and tcpdump.
type usageError struct{ error }

func (e usageError) ExitCode() int { return 2 }

func runCapture(stderr io.Writer, port, expr string, o captureOptions) error {
	if _, err := capture.ParseDirection(o.direction); err != nil {
		return usageError{err}
	}
	if o.snap < 1 || o.snap > capture.DefaultSnapLen {
		return usageError{fmt.Errorf("snapshot length %d: want 1 to %d", o.snap, capture.DefaultSnapLen)}
	}
	if o.duration < 0 {
		return usageError{fmt.Errorf("duration %v is negative", o.duration)}
	}
	prog := ""
	if expr != "" {
		var err error
		if prog, err = capture.Compile(expr, o.snap); err != nil {
			return err
		}
	}
	path, err := unixctl.FindSocket(daemon.DefaultPaths().RunDir, "ovs-vswitchd")
	if err != nil {
		return err
	}
	st, err := unixctl.CallStream(path, "capture/stream", port, o.direction, strconv.Itoa(o.snap),
		strconv.FormatUint(o.count, 10), o.duration.String(), prog)
	if err != nil {
		return err
	}
	defer st.Close()

	out := os.Stdout
	if o.file != "-" {
		if out, err = os.Create(o.file); err != nil {
			st.Stop()
			return err
		}
		defer out.Close()
	}
	w, err := capture.NewPcapWriter(out, capture.PcapOptions{NG: o.pcapng, Port: port, Filter: expr, Snap: o.snap})
	if err != nil {
		st.Stop()
		return err
	}
	fmt.Fprintf(stderr, "govs capture: %s", st.Reply)

	// Ctrl-C and a closed pipe end the capture through the daemon, so the
	// counts still arrive. Notify for SIGPIPE makes a write to a closed
	// standard output fail with EPIPE instead of killing us.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, unix.SIGTERM, unix.SIGPIPE)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			if s != unix.SIGPIPE {
				st.Stop()
			}
		}
	}()
	end, written, err := capture.Receive(capture.NewDecoder(st.R), w, o.count, func() { st.Stop() })
	var werr *capture.WriteError
	if errors.Is(err, capture.ErrNoEnd) {
		return fmt.Errorf("the daemon ended the capture early (after %d packets)", written)
	} else if err != nil && !errors.As(err, &werr) {
		return err
	}
	fmt.Fprintf(stderr, "%d packets captured\n%d packets received by filter\n%d packets dropped by govs\n",
		written, end.Matched, end.Dropped)
	if werr != nil && !errors.Is(werr, unix.EPIPE) {
		return fmt.Errorf("writing %s: %w", o.file, werr)
	}
	if strings.HasPrefix(end.Reason, "port ") || strings.HasPrefix(end.Reason, "dpif: ") {
		return errors.New(end.Reason)
	}
	return nil
}
