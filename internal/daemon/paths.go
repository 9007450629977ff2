// Package daemon is the process side of `govs run`, as OVS's lib/daemon.c
// and lib/dirs.c are for ovs-vswitchd: where files live (OVS_RUNDIR,
// OVS_DBDIR, OVS_LOGDIR, OVS_SYSCONFDIR), the pidfile that keeps two switches
// off one run directory, --detach, the log file and its levels, and the
// signals that stop the daemon in order (so ports remove the XDP programs
// and TAPs they created) or reopen its log.
package daemon

import (
	"fmt"
	"os"
	"path/filepath"
)

// Paths are the directories OVS tools agree on. ovs-vsctl, ovs-ofctl and
// ovs-appctl find govs through them with no flags, and a test gets an
// independent instance by pointing OVS_RUNDIR somewhere else.
type Paths struct {
	RunDir     string // sockets and pidfiles (OVS_RUNDIR)
	DBDir      string // conf.db (OVS_DBDIR)
	LogDir     string // *.log (OVS_LOGDIR)
	SysConfDir string // OVS_SYSCONFDIR, for the SSL material OVS keeps there
}

// DefaultPaths returns OVS's compiled-in defaults overridden by the
// environment, with OVS's rule that OVS_DBDIR falls back to
// OVS_SYSCONFDIR/openvswitch.
func DefaultPaths() Paths {
	sysconf := envOr("OVS_SYSCONFDIR", "/etc")
	return Paths{
		RunDir:     envOr("OVS_RUNDIR", "/var/run/openvswitch"),
		DBDir:      envOr("OVS_DBDIR", filepath.Join(sysconf, "openvswitch")),
		LogDir:     envOr("OVS_LOGDIR", "/var/log/openvswitch"),
		SysConfDir: sysconf,
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// Env returns the environment entries that make OVS programs started by
// govs (ovsdb-server, ovsdb-tool) agree with govs on every path.
func (p Paths) Env() []string {
	return []string{
		"OVS_RUNDIR=" + p.RunDir,
		"OVS_DBDIR=" + p.DBDir,
		"OVS_LOGDIR=" + p.LogDir,
		"OVS_SYSCONFDIR=" + p.SysConfDir,
	}
}

// MkdirAll creates the run, database and log directories.
func (p Paths) MkdirAll() error {
	for _, d := range []string{p.RunDir, p.DBDir, p.LogDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create directory: %w", err)
		}
	}
	return nil
}

// DBSocket is where ovsdb-server listens and ovs-vsctl connects by default.
func (p Paths) DBSocket() string { return filepath.Join(p.RunDir, "db.sock") }

// DBFile is the database file ovsdb-server serves.
func (p Paths) DBFile() string { return filepath.Join(p.DBDir, "conf.db") }

// PidFile is the pidfile of program (e.g. "ovs-vswitchd") in the run directory.
func (p Paths) PidFile(program string) string {
	return filepath.Join(p.RunDir, program+".pid")
}

// CtlSocket is the unixctl socket of program running as pid, where
// ovs-appctl -t program finds it (after reading the pidfile).
func (p Paths) CtlSocket(program string, pid int) string {
	return filepath.Join(p.RunDir, fmt.Sprintf("%s.%d.ctl", program, pid))
}

// LogFile is the default log file of program.
func (p Paths) LogFile(program string) string {
	return filepath.Join(p.LogDir, program+".log")
}

// MgmtSocket is the OpenFlow management socket of a bridge, where
// `ovs-ofctl BRIDGE ...` connects.
func (p Paths) MgmtSocket(bridge string) string {
	return filepath.Join(p.RunDir, bridge+".mgmt")
}
