package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/govs/govs/internal/demo"
)

func init() { subcommands = append(subcommands, newDemoCommand()) }

func newDemoCommand() *cobra.Command {
	var (
		hosts     int
		iperfTime time.Duration
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "forward ping and iperf3 traffic between network namespaces through govs, then clean up",
		Long: `demo is a guided tour of govs (make demo runs it). As root, it starts govs in a
temporary run directory, creates a bridge with ovs-vsctl, connects network
namespaces to it through veth pairs and afxdp ports, runs ping and a short
iperf3 through the switch, shows ovs-vsctl show and the Interface statistics,
and removes everything it created, also on failure and on Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the govs binary: %w", err)
			}
			ctx, stop := demo.WithInterrupt(context.Background(), cmd.OutOrStdout())
			defer stop()
			err = demo.Run(ctx, demo.Options{Exe: exe, Out: cmd.OutOrStdout(), Hosts: hosts, IperfTime: iperfTime})
			if errors.Is(err, demo.ErrInterrupted) {
				stop()
				fmt.Fprintln(os.Stderr, "govs demo:", err)
				os.Exit(130)
			}
			return err
		},
	}
	cmd.Flags().IntVar(&hosts, "hosts", 3, "network namespaces to connect to the bridge (2 to 6)")
	cmd.Flags().DurationVar(&iperfTime, "iperf-time", 3*time.Second, "length of the iperf3 test")
	return cmd
}
