package vswitchd

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/govs/govs/internal/ovsdb"
)

// DefaultStatsInterval is how often statistics are written back, OVS's
// default stats-update-interval.
const DefaultStatsInterval = 5 * time.Second

// Options configure Run.
type Options struct {
	Client *ovsdb.Client
	Switch Switch
	Log    *slog.Logger
	// StatsInterval overrides DefaultStatsInterval;
	// Open_vSwitch.other_config:stats-update-interval (milliseconds,
	// at least 5000 as in OVS) overrides both.
	StatsInterval time.Duration
	// Version goes to Open_vSwitch.ovs_version.
	Version string
	// Ready, if set, is called once the first pass has been applied and
	// written back (--detach waits for it).
	Ready func()
}

// Run is the reconfiguration loop: a pass after every database change, a
// status write-back every stats interval, until ctx is done. It returns
// ctx's error; the switch is left as it is, for the caller to shut down.
func Run(ctx context.Context, opts Options) error {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	interval := opts.StatsInterval
	if interval <= 0 {
		interval = DefaultStatsInterval
	}
	base := interval
	r := NewReconciler(opts.Switch, opts.Log)
	info := readSystemInfo(opts.Version)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	// retry re-runs a pass whose write-back failed (server restarting).
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	ready := opts.Ready

	for {
		reconfigure := false
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-opts.Client.Changes():
			reconfigure = true
		case <-retry.C:
			reconfigure = true
		case <-ticker.C:
		}
		snap, err := opts.Client.Snapshot(ctx)
		if err != nil {
			opts.Log.Warn("read database", "err", err)
			retry.Reset(time.Second)
			continue
		}
		if reconfigure {
			cfg := BuildConfig(snap)
			r.Reconcile(cfg)
			if d := statsInterval(cfg.OtherConfig, base); d != interval {
				interval = d
				ticker.Reset(interval)
			}
		}
		ops := r.writeBack(opts.Client.API(), snap, info)
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = opts.Client.Transact(tctx, ops)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			opts.Log.Warn("write back status", "err", err)
			retry.Reset(time.Second)
			continue
		}
		if ready != nil && reconfigure {
			ready()
			ready = nil
		}
	}
}

func statsInterval(oc map[string]string, def time.Duration) time.Duration {
	v, ok := oc["stats-update-interval"]
	if !ok {
		return def
	}
	ms, err := strconv.Atoi(v)
	if err != nil || ms < 5000 {
		return def
	}
	return time.Duration(ms) * time.Millisecond
}
