package ofproto

import (
	"sort"
	"sync/atomic"

	"github.com/govs/govs/internal/flow"
)

// DefaultMaxEntries bounds a table's rules unless configured otherwise.
const DefaultMaxEntries = 1 << 20

// Table-config bits (ofp_table_config; OF1.1-1.2 miss behaviour, kept for
// the codec; OF1.3 xlate uses table-miss rules).
const (
	TableMissController uint32 = 0
	TableMissContinue   uint32 = 1 << 0
	TableMissDrop       uint32 = 1 << 1
)

// Table is one OpenFlow table. Its rules change only under the bridge's
// write lock; Lookup runs under its read lock.
type Table struct {
	ID         uint8
	Name       string
	MaxEntries int
	Config     uint32

	// Statistics (ofp_table_stats), credited with the packets of the
	// translations and megaflows that looked the table up (see credit).
	Lookups atomic.Uint64
	Matched atomic.Uint64

	cls classifier
	// hidden holds the rules OpenFlow cannot see (see hidden.go); they
	// rank above every rule of cls.
	hidden classifier
}

func newTable(id uint8) *Table {
	return &Table{ID: id, Name: "table" + itoa(int(id)), MaxEntries: DefaultMaxEntries,
		cls: newClassifier(), hidden: newClassifier()}
}

// Lookup returns the highest-priority rule matching k, or nil, and ORs into
// wc (if not nil) every mask bit the decision depended on (see the
// classifier's notes). It counts nothing: a lookup is counted for the
// packets it decides for (credit), as OVS's xlate cache does, so packets
// of a megaflow count and revalidations and traces do not.
func (t *Table) Lookup(k *flow.Key, wc *flow.Mask) *Rule {
	var r *Rule
	if t.hidden.n > 0 {
		r = t.hidden.lookup(k, wc)
	}
	if r == nil {
		r = t.cls.lookup(k, wc)
	}
	return r
}

// credit counts pkts lookups of the table, matched or missed.
func (t *Table) credit(pkts uint64, matched bool) {
	t.Lookups.Add(pkts)
	if matched {
		t.Matched.Add(pkts)
	}
}

// Find returns the rule with exactly this match and priority, or nil.
func (t *Table) Find(m *Match, priority uint16) *Rule { return t.cls.find(m, priority) }

// Len returns how many OpenFlow rules the table holds (hidden rules do
// not count, as in OVS's table stats).
func (t *Table) Len() int { return t.cls.n }

// Rules returns the table's OpenFlow rules in no particular order.
func (t *Table) Rules() []*Rule {
	out := make([]*Rule, 0, t.cls.n)
	t.cls.each(func(r *Rule) bool { out = append(out, r); return true })
	return out
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [10]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}

func sortGroups(gs []*Group) {
	sort.Slice(gs, func(i, j int) bool { return gs[i].Spec.ID < gs[j].Spec.ID })
}

func sortMeters(ms []*Meter) {
	sort.Slice(ms, func(i, j int) bool { return ms[i].Spec.ID < ms[j].Spec.ID })
}
