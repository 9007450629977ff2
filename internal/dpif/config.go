package dpif

import (
	"log/slog"
	"time"
)

// Config is the datapath's configuration (Open_vSwitch other_config keys in
// parentheses).
type Config struct {
	// PMDCPUs are the CPUs PMD threads run on, one PMD per CPU, each locked
	// to its OS thread and pinned (pmd-cpu-mask). Empty: NumPMDs unpinned
	// PMDs (tests, and machines where pinning is not wanted).
	PMDCPUs []int
	// NumPMDs is the number of unpinned PMDs when PMDCPUs is empty
	// (default 1).
	NumPMDs int

	// EMCEntries is the exact-match cache size per PMD, rounded up to a
	// power of two (default 8192).
	EMCEntries int
	// EMCInsertInvProb inserts a megaflow hit into the EMC with
	// probability 1/EMCInsertInvProb (emc-insert-inv-prob): 1 always,
	// 0 the default 100, negative never (EMC disabled).
	EMCInsertInvProb int

	// PMDSleepMax bounds how long an idle PMD sleeps between polls
	// (pmd-sleep-max); it sleeps progressively longer while it finds no
	// packets and polls without sleeping as soon as it finds some.
	// 0 polls continuously.
	PMDSleepMax time.Duration

	// MaxIdle deletes megaflows unused for longer (max-idle, default 10 s).
	MaxIdle time.Duration
	// RevalidateInterval is the period of the background revalidator
	// (default 500 ms).
	RevalidateInterval time.Duration
	// FlowLimit bounds the number of installed megaflows (flow-limit,
	// default 200000); misses beyond it are executed but not installed.
	FlowLimit int

	// PoolFrames is the size of each PMD's packet pool, used for copies
	// of packets that are modified after being output (default 1024).
	PoolFrames int

	// Log receives what the operator should hear about and no caller
	// returns, such as a kernel forward the kernel refused (default:
	// slog.Default()).
	Log *slog.Logger
}

const (
	defaultEMCEntries         = 8192
	defaultEMCInsertInvProb   = 100
	defaultMaxIdle            = 10 * time.Second
	defaultRevalidateInterval = 500 * time.Millisecond
	defaultFlowLimit          = 200000
	maxFlowLimit              = emcNotSimple
	defaultPoolFrames         = 1024
)

func (c Config) withDefaults() Config {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.NumPMDs <= 0 {
		c.NumPMDs = 1
	}
	if c.EMCEntries <= 0 {
		c.EMCEntries = defaultEMCEntries
	}
	if c.EMCInsertInvProb == 0 {
		c.EMCInsertInvProb = defaultEMCInsertInvProb
	}
	if c.MaxIdle <= 0 {
		c.MaxIdle = defaultMaxIdle
	}
	if c.RevalidateInterval <= 0 {
		c.RevalidateInterval = defaultRevalidateInterval
	}
	if c.FlowLimit <= 0 {
		c.FlowLimit = defaultFlowLimit
	}
	// Megaflow ids are below FlowLimit (slots are reused), and the EMC
	// keeps a flag in an id's top bit.
	c.FlowLimit = min(c.FlowLimit, maxFlowLimit)
	if c.PoolFrames <= 0 {
		c.PoolFrames = defaultPoolFrames
	}
	c.PMDCPUs = append([]int(nil), c.PMDCPUs...)
	return c
}
