package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/govs/govs/internal/bridge"
	"github.com/govs/govs/internal/daemon"
	"github.com/govs/govs/internal/metrics"
	_ "github.com/govs/govs/internal/netdev/dummy"
	_ "github.com/govs/govs/internal/netdev/ports"
	_ "github.com/govs/govs/internal/netdev/vhostuser"
	"github.com/govs/govs/internal/ovsdb"
	"github.com/govs/govs/internal/unixctl"
	"github.com/govs/govs/internal/vswitchd"
)

func init() { subcommands = append(subcommands, newRunCommand()) }

// runFlags are govs run's options, named as ovs-vswitchd's.
type runFlags struct {
	db      string
	detach  bool
	pidfile string
	logFile string
	verbose string
	// logSwitch replaces the forwarding core with vswitchd's LogSwitch,
	// which only records what it is asked: the OVSDB tests use it to check
	// reconciliation without touching the kernel.
	logSwitch bool
}

func newRunCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run",
		Short: "run the switch daemon (the ovs-vswitchd of govs), configured through OVSDB",
		Long: `run starts govs as OVS starts ovs-vswitchd. Without --db it starts and
supervises ovsdb-server on $OVS_DBDIR/conf.db, listening on
unix:$OVS_RUNDIR/db.sock, so ovs-vsctl works with no flags. It refuses to
start where an ovs-vswitchd or another govs already serves $OVS_RUNDIR.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("pidfile") {
				f.pidfile = ""
			}
			if !cmd.Flags().Changed("log-file") {
				f.logFile = ""
			}
			return runDaemon(f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.db, "db", "", "OVSDB to use (unix:PATH or tcp:HOST:PORT); default: start ovsdb-server")
	fl.BoolVar(&f.detach, "detach", false, "run in the background once ready")
	fl.StringVar(&f.pidfile, "pidfile", "", "pidfile (default $OVS_RUNDIR/ovs-vswitchd.pid, always written)")
	fl.Lookup("pidfile").NoOptDefVal = "default"
	fl.StringVar(&f.logFile, "log-file", "", "log to FILE (default $OVS_LOGDIR/ovs-vswitchd.log)")
	fl.Lookup("log-file").NoOptDefVal = "default"
	fl.StringVarP(&f.verbose, "verbose", "v", "info", "log level: dbg, info, warn, err")
	fl.Lookup("verbose").NoOptDefVal = "dbg"
	fl.BoolVar(&f.logSwitch, "log-switch", false, "record switch calls instead of forwarding (tests)")
	_ = fl.MarkHidden("log-switch")
	return cmd
}

func runDaemon(f runFlags) error {
	paths := daemon.DefaultPaths()
	if err := paths.MkdirAll(); err != nil {
		return err
	}
	level := new(slog.LevelVar)
	lv, err := daemon.ParseLevel(f.verbose)
	if err != nil {
		return err
	}
	level.Set(lv)

	// The pidfile is claimed before anything else, so a second daemon on
	// the same run directory fails without touching the database.
	pidPath := paths.PidFile("ovs-vswitchd")
	if f.pidfile != "" && f.pidfile != "default" {
		pidPath = f.pidfile
	}
	var ready func()
	if f.detach {
		// Check in the foreground too, so the refusal reaches the
		// user's terminal directly.
		if err := daemon.CheckPidfile(pidPath); err != nil {
			return fmt.Errorf("refusing to start: %w", err)
		}
		if ready, err = daemon.Detach(os.Args[1:]); err != nil {
			return err
		}
	}
	pf, err := daemon.CreatePidfile(pidPath)
	if err != nil {
		if errors.Is(err, daemon.ErrAlreadyRunning) {
			return fmt.Errorf("refusing to start: %w", err)
		}
		return err
	}
	var exit daemon.Exiter
	defer exit.Run()
	exit.OnExit(pf.Remove)

	var out io.Writer = os.Stderr
	var logFile *daemon.LogFile
	if f.logFile != "" {
		path := paths.LogFile("ovs-vswitchd")
		if f.logFile != "default" {
			path = f.logFile
		}
		if logFile, err = daemon.OpenLogFile(path); err != nil {
			return err
		}
		exit.OnExit(func() { logFile.Close() })
		out = logFile
		if !f.detach {
			out = io.MultiWriter(os.Stderr, logFile)
		}
	}
	log := daemon.NewLogger(out, level)
	slog.SetDefault(log)

	ctx, stopSignals := daemon.HandleSignals(context.Background(), log, func() {
		if logFile != nil {
			if err := logFile.Reopen(); err != nil {
				log.Error("reopen log", "err", err)
			}
		}
	})
	exit.OnExit(stopSignals)

	endpoint := f.db
	if endpoint == "" {
		srv, err := ovsdb.StartServer(ovsdb.ServerOptions{Paths: paths, Log: log})
		if err != nil {
			return err
		}
		exit.OnExit(srv.Stop)
		endpoint = srv.Endpoint()
	} else if !strings.HasPrefix(endpoint, "unix:") && !strings.HasPrefix(endpoint, "tcp:") && !strings.HasPrefix(endpoint, "ssl:") {
		return fmt.Errorf("--db=%s: want unix:PATH or tcp:HOST:PORT", endpoint)
	}
	client, err := ovsdb.Dial(ctx, endpoint, log)
	if err != nil {
		return err
	}
	exit.OnExit(client.Close)
	if err := client.EnsureRoot(ctx); err != nil {
		return err
	}

	// The switch's shutdown (ports removing XDP programs and TAPs) goes in
	// the exit chain, so it runs before the database connection closes.
	var sw vswitchd.Switch
	if f.logSwitch {
		sw = vswitchd.NewLogSwitch(log)
	} else {
		live, err := bridge.New(bridge.Options{RunDir: paths.RunDir, Log: log, Version: Version})
		if err != nil {
			return err
		}
		exit.OnExit(live.Close)
		sw = live
	}
	// ovs-appctl (unixctl on ovs-vswitchd.<pid>.ctl; its exit command
	// cancels ctx) and the Prometheus endpoint (other_config:
	// metrics-address). Both close before the switch does.
	ctx, requestExit := context.WithCancel(ctx)
	defer requestExit()
	var reopenLog func() error
	if logFile != nil {
		reopenLog = logFile.Reopen
	}
	ctl := unixctl.New(unixctl.Options{Log: log})
	unixctl.RegisterDaemon(ctl, unixctl.DaemonOptions{Program: "ovs-vswitchd", Version: Version, Exit: requestExit,
		Level: level, Console: !f.detach, File: logFile != nil, Reopen: reopenLog})
	if live, ok := sw.(*bridge.Switch); ok {
		unixctl.RegisterSwitch(ctl, live)
		m := metrics.NewServer(live, log)
		exit.OnExit(m.Close)
		sw = metrics.WatchOtherConfig(sw, m.Apply)
	}
	unlockPidfile, err := daemon.LockPidfile(pidPath)
	if err != nil {
		return err
	}
	exit.OnExit(unlockPidfile)
	if err := ctl.Listen(paths.CtlSocket("ovs-vswitchd", os.Getpid())); err != nil {
		return err
	}
	exit.OnExit(ctl.Close)
	log.Info("govs running", "version", Version, "pid", os.Getpid(), "db", endpoint, "rundir", paths.RunDir)
	err = vswitchd.Run(ctx, vswitchd.Options{
		Client:  client,
		Switch:  sw,
		Log:     log,
		Version: Version,
		Ready:   ready,
	})
	if errors.Is(err, context.Canceled) {
		log.Info("govs exiting")
		return nil
	}
	return err
}
