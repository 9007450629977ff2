package metrics

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/govs/govs/internal/vswitchd"
)

// OtherConfigKey is the Open_vSwitch other_config key holding the address
// the metrics endpoint listens on ("127.0.0.1:9475", ":9475", or
// "tcp:HOST:PORT"); absent or empty: no endpoint (the default).
const OtherConfigKey = "metrics-address"

// Server serves /metrics on the address other_config names, moving when
// the address changes.
//
// Locks: mu guards the listener; Apply and Close may be called from any
// goroutine.
type Server struct {
	log *slog.Logger
	reg *prometheus.Registry

	mu   sync.Mutex
	addr string       // as configured // +checklocks:mu
	srv  *http.Server // +checklocks:mu
	ln   net.Listener // +checklocks:mu
	done chan struct{}
}

// NewServer returns a server exporting src's metrics, the Go runtime's and
// the process's. It listens once Apply sees an address.
func NewServer(src Source, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(src))
	reg.MustRegister(collectors.NewGoCollector())
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Server{log: log, reg: reg}
}

// Registry returns the registry the endpoint serves (tests gather from it).
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Apply reads metrics-address from Open_vSwitch other_config and starts,
// moves or stops the endpoint accordingly. Errors are logged: a bad
// address must not fail the rest of the configuration.
func (s *Server) Apply(oc map[string]string) {
	if err := s.SetAddress(oc[OtherConfigKey]); err != nil {
		s.log.Warn("metrics endpoint", "address", oc[OtherConfigKey], "err", err)
	}
}

// SetAddress listens on addr ("" stops the endpoint).
func (s *Server) SetAddress(addr string) error {
	addr = strings.TrimPrefix(strings.TrimSpace(addr), "tcp:")
	s.mu.Lock()
	defer s.mu.Unlock()
	if addr == s.addr && (addr == "" || s.srv != nil) {
		return nil
	}
	s.stopLocked()
	s.addr = addr
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "govs: metrics at /metrics")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Warn("metrics endpoint stopped", "err", err)
		}
	}()
	s.srv, s.ln, s.done = srv, ln, done
	s.log.Info("metrics endpoint listening", "address", ln.Addr().String())
	return nil
}

// Addr returns the address the endpoint listens on ("" when off).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

func (s *Server) stopLocked() {
	if s.srv == nil {
		return
	}
	s.srv.Close()
	<-s.done
	s.srv, s.ln, s.done = nil, nil, nil
}

// Close stops the endpoint.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
	s.addr = ""
}

// WatchOtherConfig returns sw with SetOtherConfig also handing the
// configuration to fn (after sw applied it), so the endpoint follows
// Open_vSwitch other_config without the switch knowing about metrics.
// The wrapper has exactly vswitchd.Switch's methods: should vswitchd ever
// look for optional interfaces on its Switch, they must be forwarded here.
func WatchOtherConfig(sw vswitchd.Switch, fn func(map[string]string)) vswitchd.Switch {
	return otherConfigSwitch{Switch: sw, fn: fn}
}

type otherConfigSwitch struct {
	vswitchd.Switch
	fn func(map[string]string)
}

func (s otherConfigSwitch) SetOtherConfig(oc map[string]string) error {
	err := s.Switch.SetOtherConfig(oc)
	s.fn(oc)
	return err
}
