package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// WithInterrupt returns a context cancelled by the first SIGINT, SIGTERM
// or SIGHUP. Later signals are caught and only reported, so that a second
// Ctrl-C does not cut the clean-up short. stop releases the signals.
func WithInterrupt(parent context.Context, w io.Writer) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		n := 0
		for {
			select {
			case s := <-ch:
				n++
				if n == 1 {
					fmt.Fprintf(w, "\n*** %v: stopping the demo and cleaning up ***\n", s)
					cancel()
				} else {
					fmt.Fprintf(w, "\n*** %v: still cleaning up, please wait ***\n", s)
				}
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
