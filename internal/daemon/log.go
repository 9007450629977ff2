package daemon

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
)

// LogFile is an io.Writer over a file that can be reopened in place, so
// that logrotate can move the file and send SIGHUP, as with ovs-vswitchd.
type LogFile struct {
	mu   sync.Mutex
	path string
	f    *os.File // +checklocks:mu
}

// OpenLogFile opens path for appending.
func OpenLogFile(path string) (*LogFile, error) {
	l := &LogFile{path: path}
	if err := l.Reopen(); err != nil {
		return nil, err
	}
	return l, nil
}

// Reopen closes and reopens the file by name.
func (l *LogFile) Reopen() error {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	l.mu.Lock()
	old := l.f
	l.f = f
	l.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

func (l *LogFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Write(p)
}

// Close closes the file.
func (l *LogFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}

// ParseLevel turns an OVS-style or slog level name into a slog.Level. OVS's
// vlog names (emer, err, warn, info, dbg) are accepted beside slog's.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "", "dbg", "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "err", "error", "emer":
		return slog.LevelError, nil
	case "off":
		return slog.LevelError + 100, nil
	}
	return 0, fmt.Errorf("unknown log level %q (want dbg, info, warn, err or off)", s)
}

// NewLogger returns a text logger writing to w whose level can be changed
// later through level (ovs-appctl vlog/set).
func NewLogger(w io.Writer, level *slog.LevelVar) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
