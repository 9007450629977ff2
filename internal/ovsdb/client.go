package ovsdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/go-logr/logr"
	"github.com/ovn-kubernetes/libovsdb/cache"
	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/govs/govs/internal/ovsdb/vswitch"
)

// Client is govs' connection to the Open_vSwitch database.
type Client struct {
	c       client.Client
	log     *slog.Logger
	changed chan struct{}
}

// monitoredTables are the tables the switch reads. Statistics-only and
// unimplemented features (sFlow, IPFIX, CT zones...) are left out so their
// churn does not wake the reconfiguration loop.
var monitoredTables = []model.Model{
	&vswitch.OpenvSwitch{},
	&vswitch.Bridge{},
	&vswitch.Port{},
	&vswitch.Interface{},
	&vswitch.Controller{},
	&vswitch.FlowTable{},
	&vswitch.Manager{},
	&vswitch.SSL{},
	&vswitch.Mirror{},
	&vswitch.QoS{},
	&vswitch.Queue{},
}

// Dial connects to endpoint ("unix:PATH", "tcp:HOST:PORT") and starts
// monitoring. The connection is re-established on its own after the server
// goes away, with the monitor set up again and the cache refilled.
func Dial(ctx context.Context, endpoint string, log *slog.Logger) (*Client, error) {
	if log == nil {
		log = slog.Default()
	}
	dbModel, err := vswitch.FullDatabaseModel()
	if err != nil {
		return nil, fmt.Errorf("database model: %w", err)
	}
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = 100 * time.Millisecond
	bo.MaxInterval = 2 * time.Second
	bo.MaxElapsedTime = 0 // keep trying for as long as govs runs
	lg := logr.FromSlogHandler(log.Handler()).WithName("libovsdb")
	c, err := client.NewOVSDBClient(dbModel,
		client.WithEndpoint(endpoint),
		client.WithReconnect(5*time.Second, bo),
		client.WithLogger(&lg),
	)
	if err != nil {
		return nil, fmt.Errorf("ovsdb client: %w", err)
	}
	if err := c.Connect(ctx); err != nil {
		return nil, fmt.Errorf("connect %s: %w", endpoint, err)
	}
	cl := &Client{c: c, log: log, changed: make(chan struct{}, 1)}
	c.Cache().AddEventHandler(&cache.EventHandlerFuncs{
		AddFunc:    func(string, model.Model) { cl.notify() },
		UpdateFunc: func(string, model.Model, model.Model) { cl.notify() },
		DeleteFunc: func(string, model.Model) { cl.notify() },
	})
	var opts []client.MonitorOption
	for _, m := range monitoredTables {
		opts = append(opts, client.WithTable(m))
	}
	if _, err := c.Monitor(ctx, c.NewMonitor(opts...)); err != nil {
		c.Close()
		return nil, fmt.Errorf("monitor: %w", err)
	}
	cl.notify()
	return cl, nil
}

// notify coalesces change notifications: one pending wake-up is enough,
// since the reader always rebuilds from a whole snapshot.
func (cl *Client) notify() {
	select {
	case cl.changed <- struct{}{}:
	default:
	}
}

// Changes fires after the database changed (or was re-read after a
// reconnect). Take a Snapshot after receiving.
func (cl *Client) Changes() <-chan struct{} { return cl.changed }

// Connected reports whether the client currently has a connection.
func (cl *Client) Connected() bool { return cl.c.Connected() }

// Close disconnects for good.
func (cl *Client) Close() { cl.c.Close() }

// Snapshot is a copy of the monitored rows, keyed by UUID. It is the
// caller's to keep: the cache goes on changing.
type Snapshot struct {
	Root        *vswitch.OpenvSwitch // nil until the root row exists
	Bridges     map[string]*vswitch.Bridge
	Ports       map[string]*vswitch.Port
	Interfaces  map[string]*vswitch.Interface
	Controllers map[string]*vswitch.Controller
	SSL         map[string]*vswitch.SSL
}

// Snapshot copies the current rows out of the cache.
func (cl *Client) Snapshot(ctx context.Context) (*Snapshot, error) {
	var (
		roots  []vswitch.OpenvSwitch
		brs    []vswitch.Bridge
		ports  []vswitch.Port
		ifaces []vswitch.Interface
		ctrls  []vswitch.Controller
		ssls   []vswitch.SSL
	)
	for _, l := range []any{&roots, &brs, &ports, &ifaces, &ctrls, &ssls} {
		if err := cl.c.List(ctx, l); err != nil {
			return nil, fmt.Errorf("read cache: %w", err)
		}
	}
	s := &Snapshot{
		Bridges:     make(map[string]*vswitch.Bridge, len(brs)),
		Ports:       make(map[string]*vswitch.Port, len(ports)),
		Interfaces:  make(map[string]*vswitch.Interface, len(ifaces)),
		Controllers: make(map[string]*vswitch.Controller, len(ctrls)),
		SSL:         make(map[string]*vswitch.SSL, len(ssls)),
	}
	if len(roots) > 0 {
		s.Root = &roots[0]
	}
	for i := range brs {
		s.Bridges[brs[i].UUID] = &brs[i]
	}
	for i := range ports {
		s.Ports[ports[i].UUID] = &ports[i]
	}
	for i := range ifaces {
		s.Interfaces[ifaces[i].UUID] = &ifaces[i]
	}
	for i := range ctrls {
		s.Controllers[ctrls[i].UUID] = &ctrls[i]
	}
	for i := range ssls {
		s.SSL[ssls[i].UUID] = &ssls[i]
	}
	return s, nil
}

// EnsureRoot creates the Open_vSwitch root row if the database has none,
// which is what `ovs-vsctl init` does.
//
// RFC 7047's atomic form (wait until the table equals [] then insert) cannot
// be sent through libovsdb, whose encoding drops an empty "rows". So the
// insert is made when the cache shows no root row, and if someone else
// inserted one at the same moment the row we added is deleted again:
// exactly one root row remains either way.
func (cl *Client) EnsureRoot(ctx context.Context) error {
	var roots []vswitch.OpenvSwitch
	if err := cl.c.List(ctx, &roots); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if len(roots) > 0 {
		return nil
	}
	root := &vswitch.OpenvSwitch{UUID: "root"}
	ops, err := cl.c.Create(root)
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	res, err := cl.c.Transact(ctx, ops...)
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if _, err := ovsdb.CheckOperationResults(res, ops); err != nil {
		// The schema allows one root row (maxRows 1), so a constraint
		// violation means another row is already there: one our cache had
		// not received yet (a database kept from a previous run, while the
		// monitor's first update is in flight) or a concurrent
		// `ovs-vsctl init`. Either way the database has its root row.
		// RFC 7047 reports a violation found at commit in an extra
		// result after the operations', so look at every result.
		for _, r := range res {
			if r.Error == "constraint violation" {
				return cl.waitRoot(ctx)
			}
		}
		return fmt.Errorf("init: %w: %s", err, resultErrors(res))
	}
	ours := res[0].UUID.GoUUID
	cl.log.Info("created the Open_vSwitch root row", "uuid", ours)

	// Settle a race with a concurrent `ovs-vsctl init`: wait until the
	// cache has our row, then keep the other one if there are two.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		roots = roots[:0]
		if err := cl.c.List(ctx, &roots); err != nil {
			return fmt.Errorf("init: %w", err)
		}
		if len(roots) > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(roots) > 1 {
		del, err := cl.c.Where(&vswitch.OpenvSwitch{UUID: ours}).Delete()
		if err == nil {
			err = cl.Transact(ctx, del)
		}
		if err != nil {
			return fmt.Errorf("init: remove duplicate root row: %w", err)
		}
	}
	return nil
}

// waitRoot waits until the cache holds a root row.
func (cl *Client) waitRoot(ctx context.Context) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		var roots []vswitch.OpenvSwitch
		if err := cl.c.List(ctx, &roots); err != nil {
			return fmt.Errorf("init: %w", err)
		}
		if len(roots) > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("init: the database refused a root row but none reached the cache")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Transact runs ops as one transaction and checks every result.
func (cl *Client) Transact(ctx context.Context, ops []ovsdb.Operation) error {
	if len(ops) == 0 {
		return nil
	}
	res, err := cl.c.Transact(ctx, ops...)
	if err != nil {
		return err
	}
	if _, err := ovsdb.CheckOperationResults(res, ops); err != nil {
		return fmt.Errorf("%w: %s", err, resultErrors(res))
	}
	return nil
}

// resultErrors summarises the errors the server gave, which libovsdb's
// error leaves out.
func resultErrors(res []ovsdb.OperationResult) string {
	var msgs []string
	for i, r := range res {
		if r.Error != "" {
			msgs = append(msgs, fmt.Sprintf("op %d: %s: %s", i, r.Error, r.Details))
		}
	}
	return strings.Join(msgs, "; ")
}

// API gives access to libovsdb's operation builders (Where/Update/...), for
// write-back.
func (cl *Client) API() client.Client { return cl.c }
