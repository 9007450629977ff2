package ofproto

import "sync"

// MAC learning for the NORMAL action (OVS's mac-learning): a table of
// (MAC, VLAN) -> OpenFlow port with aging and a size limit.
//
// The table is pointer-free: entries live in one slice and form a
// least-recently-used list by index, so evicting the oldest entry and
// refreshing one are O(1) and the GC never scans the table. Learning happens
// in upcalls (several PMD goroutines at once) and in revalidation, so the
// table has its own mutex; it is never touched on the datapath's fast path.

// Defaults, as OVS's other_config:mac-aging-time and mac-table-size.
const (
	DefaultMACAgingTime = 300 // seconds
	DefaultMACTableSize = 2048
)

type macKey struct {
	mac  [6]byte
	vlan uint16
}

type macEntry struct {
	key        macKey
	port       uint32
	used       int64 // unix nanoseconds of the last time the MAC was seen
	prev, next int32 // LRU list: head is the oldest
}

// MACTable is one bridge's learned MAC addresses.
type MACTable struct {
	mu      sync.Mutex
	agingNS int64
	max     int
	index   map[macKey]int32
	entries []macEntry
	free    []int32
	head    int32 // oldest; -1 when empty
	tail    int32 // newest
	gen     uint64
}

// MACEntry is one learned address, as fdb/show prints it.
type MACEntry struct {
	MAC  [6]byte
	VLAN uint16
	Port uint32
	Used int64 // unix nanoseconds
}

// NewMACTable returns a table that forgets entries idle for agingSec seconds
// and keeps at most max entries (evicting the least recently seen).
func NewMACTable(agingSec, max int) *MACTable {
	if agingSec <= 0 {
		agingSec = DefaultMACAgingTime
	}
	if max <= 0 {
		max = DefaultMACTableSize
	}
	return &MACTable{
		agingNS: int64(agingSec) * 1e9,
		max:     max,
		index:   make(map[macKey]int32, max),
		head:    -1,
		tail:    -1,
	}
}

// Generation changes whenever a lookup's answer may have changed: a new MAC,
// a MAC that moved, or an entry that expired or was evicted. Megaflows that
// consulted the table are stale when it moved on.
func (t *MACTable) Generation() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.gen
}

// Learn records that mac on vlan was seen on port at time now. It reports
// whether the table changed in a way that may change forwarding (a new entry
// or a move); refreshing an entry in place does not.
func (t *MACTable) Learn(mac [6]byte, vlan uint16, port uint32, now int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := macKey{mac, vlan}
	if i, ok := t.index[k]; ok {
		e := &t.entries[i]
		if e.used+t.agingNS > now || e.port == port {
			moved := e.port != port
			e.port = port
			// A refresh from revalidation may carry an older time than
			// the last upcall: only a newer time moves the entry to the
			// young end, which keeps the list ordered by age.
			if now > e.used {
				e.used = now
				t.unlink(i)
				t.append(i)
			}
			if moved {
				t.gen++
			}
			return moved
		}
		// Expired entry for another port: reuse it as a new one.
		e.port, e.used = port, now
		t.unlink(i)
		t.append(i)
		t.gen++
		return true
	}
	if len(t.index) >= t.max {
		t.remove(t.head)
	}
	var i int32
	if n := len(t.free); n > 0 {
		i = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		t.entries = append(t.entries, macEntry{})
		i = int32(len(t.entries) - 1)
	}
	t.entries[i] = macEntry{key: k, port: port, used: now}
	t.index[k] = i
	t.append(i)
	t.gen++
	return true
}

// Lookup returns the port mac on vlan was last seen on, if that was within
// the aging time before now.
func (t *MACTable) Lookup(mac [6]byte, vlan uint16, now int64) (uint32, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i, ok := t.index[macKey{mac, vlan}]
	if !ok {
		return 0, false
	}
	e := &t.entries[i]
	if e.used+t.agingNS <= now {
		return 0, false
	}
	return e.port, true
}

// Expire removes entries idle for longer than the aging time and returns how
// many it removed.
func (t *MACTable) Expire(now int64) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for t.head >= 0 && t.entries[t.head].used+t.agingNS <= now {
		t.remove(t.head)
		n++
	}
	return n
}

// FlushPort forgets every MAC learned on port (the port was deleted or its
// VLAN configuration changed).
func (t *MACTable) FlushPort(port uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := t.head; i >= 0; {
		next := t.entries[i].next
		if t.entries[i].port == port {
			t.remove(i)
		}
		i = next
	}
}

// Flush forgets every entry.
func (t *MACTable) Flush() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.head >= 0 {
		t.remove(t.head)
	}
}

// Len returns the number of entries (expired ones not yet removed included).
func (t *MACTable) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.index)
}

// Entries returns the live entries, oldest first.
func (t *MACTable) Entries(now int64) []MACEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]MACEntry, 0, len(t.index))
	for i := t.head; i >= 0; i = t.entries[i].next {
		e := &t.entries[i]
		if e.used+t.agingNS > now {
			out = append(out, MACEntry{MAC: e.key.mac, VLAN: e.key.vlan, Port: e.port, Used: e.used})
		}
	}
	return out
}

func (t *MACTable) remove(i int32) {
	t.unlink(i)
	delete(t.index, t.entries[i].key)
	t.free = append(t.free, i)
	t.gen++
}

func (t *MACTable) unlink(i int32) {
	e := &t.entries[i]
	if e.prev >= 0 {
		t.entries[e.prev].next = e.next
	} else {
		t.head = e.next
	}
	if e.next >= 0 {
		t.entries[e.next].prev = e.prev
	} else {
		t.tail = e.prev
	}
	e.prev, e.next = -1, -1
}

func (t *MACTable) append(i int32) {
	e := &t.entries[i]
	e.prev, e.next = t.tail, -1
	if t.tail >= 0 {
		t.entries[t.tail].next = i
	} else {
		t.head = i
	}
	t.tail = i
}
