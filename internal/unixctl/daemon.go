package unixctl

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// DaemonOptions describe the process for version, exit and vlog/*.
type DaemonOptions struct {
	// Program is the name ovs-appctl targets ("ovs-vswitchd").
	Program string
	Version string
	// Exit starts an orderly shutdown (the same as SIGTERM). It must not
	// block: it runs after the exit command's reply is written.
	Exit func()
	// Level is the daemon's log level; vlog/set changes it.
	Level *slog.LevelVar
	// Console and File say where logs go (vlog/list shows OFF for a
	// destination that is not in use).
	Console, File bool
	// Reopen reopens the log file (vlog/reopen); nil: no log file.
	Reopen func() error
}

// RegisterDaemon adds version, exit, vlog/list, vlog/set and vlog/reopen.
func RegisterDaemon(s *Server, o DaemonOptions) {
	s.Register(Command{Name: "version", Run: func(*Call) (string, error) {
		return fmt.Sprintf("%s (govs) %s\n", o.Program, o.Version), nil
	}})
	s.Register(Command{Name: "exit", Usage: "[--cleanup]", MaxArgs: 1, Run: func(c *Call) (string, error) {
		if len(c.Args) == 1 && c.Args[0] != "--cleanup" {
			return "", fmt.Errorf("exit: unknown option %s (usage: exit [--cleanup])", c.Args[0])
		}
		// govs always cleans up on exit (XDP programs, TAPs it created),
		// so --cleanup changes nothing.
		if o.Exit != nil {
			c.AfterReply(o.Exit)
		}
		return "", nil
	}})
	if o.Level == nil {
		return
	}
	s.Register(Command{Name: "vlog/list", Run: func(*Call) (string, error) {
		return vlogList(o.Level.Level(), o.Console, o.File), nil
	}})
	s.Register(Command{Name: "vlog/set", Usage: "{spec | PATTERN:destination:pattern}", MaxArgs: Unlimited,
		Run: func(c *Call) (string, error) {
			lv, err := vlogSet(c.Args)
			if err != nil {
				return "", err
			}
			o.Level.Set(lv)
			return "", nil
		}})
	if o.Reopen != nil {
		s.Register(Command{Name: "vlog/reopen", Run: func(*Call) (string, error) {
			if err := o.Reopen(); err != nil {
				return "", err
			}
			return "", nil
		}})
	}
}

// vlogModules are the parts of govs that log. govs has one log level for
// all of them (a departure from OVS, whose levels are per module and per
// destination): vlog/set applies its level everywhere, and vlog/list shows
// the same level for every module.
var vlogModules = []string{
	"bridge", "daemon", "dpif", "metrics", "netdev", "ofagent", "ofproto", "ovsdb", "unixctl", "vswitchd",
}

var vlogDestinations = []string{"console", "syslog", "file"}

// vlogLevels are OVS's level names, most severe first, with the slog level
// each maps to.
type vlogLevel struct {
	name  string
	level slog.Level
}

var vlogLevels = []vlogLevel{
	{"off", slog.LevelError + 100},
	{"emer", slog.LevelError},
	{"err", slog.LevelError},
	{"warn", slog.LevelWarn},
	{"info", slog.LevelInfo},
	{"dbg", slog.LevelDebug},
}

func levelName(l slog.Level) string {
	switch {
	case l <= slog.LevelDebug:
		return "DBG"
	case l <= slog.LevelInfo:
		return "INFO"
	case l <= slog.LevelWarn:
		return "WARN"
	case l <= slog.LevelError:
		return "ERR"
	}
	return "OFF"
}

func vlogList(l slog.Level, console, file bool) string {
	var b strings.Builder
	b.WriteString("                 console    syslog    file\n")
	b.WriteString("                 -------    ------    ------\n")
	on := func(b bool) string {
		if b {
			return levelName(l)
		}
		return "OFF"
	}
	for _, m := range vlogModules {
		fmt.Fprintf(&b, "%-16s  %4s       %4s       %4s\n", m, on(console), "OFF", on(file))
	}
	return b.String()
}

// vlogSet parses vlog/set's arguments as OVS does: each is a spec of words
// separated by spaces, commas or colons, at most one module, destination
// and level each ("dbg", "ANY:file:dbg", "ofproto:console:warn"); a spec
// with no level means dbg, and no spec at all sets everything to dbg. It
// returns the level the last spec names.
func vlogSet(args []string) (slog.Level, error) {
	if len(args) == 0 {
		return slog.LevelDebug, nil
	}
	level := slog.LevelDebug
	for _, spec := range args {
		if strings.HasPrefix(strings.ToUpper(spec), "PATTERN:") {
			return 0, errors.New("log patterns are not supported by govs (its logs are slog text records)")
		}
		var module, dest, lvl string
		for _, w := range strings.FieldsFunc(spec, func(r rune) bool { return r == ' ' || r == ',' || r == ':' }) {
			lw := strings.ToLower(w)
			var slot *string
			var what string
			switch {
			case lw == "any":
				continue
			case slices.Contains(vlogDestinations, lw):
				slot, what = &dest, "destinations"
			case levelByName(lw) != nil:
				slot, what = &lvl, "levels"
			case slices.Contains(vlogModules, lw):
				slot, what = &module, "modules"
			default:
				return 0, fmt.Errorf("no destination, level, or module %q", w)
			}
			if *slot != "" {
				return 0, fmt.Errorf("cannot specify multiple %s", what)
			}
			*slot = lw
		}
		level = slog.LevelDebug
		if lvl != "" {
			level = levelByName(lvl).level
		}
	}
	return level, nil
}

func levelByName(name string) *vlogLevel {
	for i := range vlogLevels {
		if vlogLevels[i].name == name {
			return &vlogLevels[i]
		}
	}
	return nil
}
