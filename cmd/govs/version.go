package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
)

func init() {
	subcommands = append(subcommands, &cobra.Command{
		Use:   "version",
		Short: "Print the govs version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "govs %s (%s %s/%s)\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		},
	})
}
