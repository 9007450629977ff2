package ofproto

// Hidden rules, as OVS's: rules the switch itself installs (fail-open's
// NORMAL rule) that outrank every OpenFlow rule and that OpenFlow cannot
// see or touch. OVS gives them priorities above 0xffff (fail-open's is
// 0xf0f0f0) in the same classifier; here each table keeps them in a
// classifier of their own, probed first, and a hidden rule's Priority
// only ranks it among hidden rules. Flow-mods (delete-all included),
// flow and aggregate statistics, table statistics' active counts and
// expiry only see the OpenFlow classifier; lookups, and so translation
// and ofproto/trace, see both.

// HiddenPriorityBase is where hidden rules rank in OVS's terms: OVS's
// fail-open rule has priority 0xf0f0f0, and ofproto/trace shows a hidden
// rule at this plus its own Priority, as OVS shows fail-open's.
const HiddenPriorityBase = 0xf0f0f0

// SetHiddenRule installs in table a hidden rule of match m and
// instructions in, replacing the hidden rule of the same match and
// priority if there is one.
func (b *Bridge) SetHiddenRule(table uint8, priority uint16, m Match, in Instructions) error {
	if int(table) >= MaxTables {
		return ofErr(ErrFlowModFailed, FlowModBadTableID, "table %d", table)
	}
	if err := ValidateMatch(&m); err != nil {
		return err
	}
	b.mu.Lock()
	if err := b.validateInstructionsLocked(table, &in, &m); err != nil {
		b.mu.Unlock()
		return err
	}
	now := b.Now()
	r := &Rule{Table: table, Priority: priority, Match: m.Mini(), Instructions: cloneInstructions(&in),
		Created: now, Modified: now, Hidden: true}
	h := &b.tables[table].hidden
	if old := h.find(&m, priority); old != nil {
		h.replace(old, r)
		old.removed.Store(true)
	} else {
		h.insert(r)
	}
	b.changed(nil)
	return nil
}

// DelHiddenRule removes the hidden rule of table with match m and
// priority, reporting whether there was one.
func (b *Bridge) DelHiddenRule(table uint8, priority uint16, m Match) bool {
	if int(table) >= MaxTables {
		return false
	}
	b.mu.Lock()
	h := &b.tables[table].hidden
	r := h.find(&m, priority)
	if r == nil {
		b.mu.Unlock()
		return false
	}
	h.remove(r)
	r.removed.Store(true)
	b.changed(nil)
	return true
}

// HiddenRules returns table's hidden rules (for tests and diagnostics).
func (b *Bridge) HiddenRules(table uint8) []*Rule {
	if int(table) >= MaxTables {
		return nil
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []*Rule
	b.tables[table].hidden.each(func(r *Rule) bool { out = append(out, r); return true })
	return out
}
