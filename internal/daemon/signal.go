package daemon

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"sync"

	"golang.org/x/sys/unix"
)

// Exiter runs the shutdown chain: functions registered with OnExit run once,
// newest first, so that what was set up last (ports, then bridges, then the
// database connection) is torn down first.
type Exiter struct {
	mu  sync.Mutex
	fns []func() // +checklocks:mu
	ran bool     // +checklocks:mu
}

// OnExit registers fn to run at shutdown.
func (e *Exiter) OnExit(fn func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fns = append(e.fns, fn)
}

// Run runs the chain once; later calls do nothing.
func (e *Exiter) Run() {
	e.mu.Lock()
	if e.ran {
		e.mu.Unlock()
		return
	}
	e.ran = true
	fns := e.fns
	e.fns = nil
	e.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// HandleSignals returns a context cancelled on SIGTERM or SIGINT, the
// orderly shutdown request, and calls onHangup for each SIGHUP (reopen the
// log). stop releases the signal handlers.
func HandleSignals(parent context.Context, log *slog.Logger, onHangup func()) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, unix.SIGTERM, unix.SIGINT, unix.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-ch:
				if s == unix.SIGHUP {
					if onHangup != nil {
						onHangup()
					}
					continue
				}
				log.Info("shutting down", "signal", s.String())
				cancel()
			case <-done:
				return
			}
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel()
	}
}
