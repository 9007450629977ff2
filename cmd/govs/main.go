// Command govs is the govs virtual switch: one binary whose subcommands run
// the daemon (run), a self-contained demonstration (demo), and tools.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Version is set at build time (-ldflags "-X main.Version=...").
var Version = "0.1.0-dev"

// subcommands is filled by each subcommand's file in init, so adding a
// subcommand touches only its own file.
var subcommands []*cobra.Command

func main() {
	root := &cobra.Command{
		Use:           "govs",
		Short:         "govs: a userspace virtual switch managed the way Open vSwitch is",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(subcommands...)
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "govs:", err)
		var coded interface{ ExitCode() int }
		if errors.As(err, &coded) {
			os.Exit(coded.ExitCode())
		}
		os.Exit(1)
	}
}
