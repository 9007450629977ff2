package main

import (
	"context"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/govs/govs/internal/daemon"
	"github.com/govs/govs/internal/unixctl"
)

// govs top: the live view (internal/unixctl/top.go), read from the running
// daemon's unixctl socket in $OVS_RUNDIR, as ovs-appctl finds it.
func init() {
	var o unixctl.TopOptions
	cmd := &cobra.Command{
		Use:   "top",
		Short: "live view of ports, PMD load, cache hit rates and the busiest megaflows",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := unixctl.FindSocket(daemon.DefaultPaths().RunDir, "ovs-vswitchd")
			if err != nil {
				return err
			}
			c, err := unixctl.Dial(path)
			if err != nil {
				return err
			}
			defer c.Close()
			if ws, err := unix.IoctlGetWinsize(int(os.Stdout.Fd()), unix.TIOCGWINSZ); err == nil {
				o.Clear = true
				o.Width = int(ws.Col)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, unix.SIGTERM)
			defer stop()
			return unixctl.RunTop(ctx, c, cmd.OutOrStdout(), o)
		},
	}
	cmd.Flags().DurationVarP(&o.Interval, "interval", "d", time.Second, "refresh interval")
	cmd.Flags().IntVarP(&o.Iterations, "iterations", "n", 0, "stop after this many frames (0: until interrupted)")
	cmd.Flags().IntVar(&o.Flows, "flows", 10, "busiest megaflows to show")
	subcommands = append(subcommands, cmd)
}
