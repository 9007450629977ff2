package ofproto

// delete_learned (NX_LEARN_F_DELETE_LEARNED), as OVS implements it with its
// "learned cookies": a learn action with the flag ties the rules of its
// table that carry its cookie to it. When the last rule holding such a
// learn action for a (table, cookie) leaves (deleted, expired, replaced
// by an add, or given other instructions by a modify), every rule of that
// table with exactly that cookie is deleted too. Rules removed that way
// are reported like any deletion (FLOW_REMOVED with reason delete).
//
// Nothing is counted per rule: the flush is decided when a change is
// committed (Bridge.changed, Expire), from the rules that left, and costs
// a scan of the tables only when one of them held such a learn action.

// learnedCookie is a (table, cookie) that delete_learned ties together.
type learnedCookie struct {
	table  uint8
	cookie uint64
}

// deleteLearnedCookies calls fn for each delete_learned learn action of in.
func deleteLearnedCookies(in *Instructions, fn func(learnedCookie)) {
	for _, list := range [2][]Action{in.Apply, in.Write} {
		for i := range list {
			if l := list[i].Learn; list[i].Type == ActLearn && l != nil && l.Flags&LearnDeleteLearned != 0 {
				fn(learnedCookie{l.Table, l.Cookie})
			}
		}
	}
}

// noteLeavingLocked records the delete_learned cookies of instructions a
// rule is about to lose without being removed (an add replacing it, a
// modify), for the commit to check. The caller holds the write lock.
func (b *Bridge) noteLeavingLocked(in *Instructions) {
	deleteLearnedCookies(in, func(k learnedCookie) { b.learnLeft = append(b.learnLeft, k) })
}

// flushLearnedLocked deletes the rules whose delete_learned tie is gone
// with the rules in removed and those noted by noteLeavingLocked, and
// returns them. Deleted rules may hold such learn actions too, so it
// repeats until nothing more goes. The caller holds the write lock.
func (b *Bridge) flushLearnedLocked(removed []Removed) []Removed {
	if !b.deleteLearnedSeen {
		return nil
	}
	left := b.learnLeft
	b.learnLeft = nil
	note := func(k learnedCookie) { left = append(left, k) }
	for _, rm := range removed {
		deleteLearnedCookies(&rm.Rule.Instructions, note)
	}
	if len(left) == 0 {
		return nil
	}
	var out []Removed
	done := map[learnedCookie]bool{}
	for len(left) > 0 {
		k := left[len(left)-1]
		left = left[:len(left)-1]
		if done[k] || b.learnCookieHeldLocked(k) {
			continue
		}
		done[k] = true
		rules := b.selectRules(k.table, &Match{}, false, 0, k.cookie, ^uint64(0), PortAny, GroupAny)
		gone := b.removeRulesLocked(rules, RemovedDelete)
		for _, rm := range gone {
			deleteLearnedCookies(&rm.Rule.Instructions, note)
		}
		out = append(out, gone...)
	}
	return out
}

// learnCookieHeldLocked reports whether a rule still in the tables holds a
// delete_learned learn action for k.
func (b *Bridge) learnCookieHeldLocked(k learnedCookie) bool {
	held := false
	for _, t := range b.tables {
		t.cls.each(func(r *Rule) bool {
			deleteLearnedCookies(&r.Instructions, func(c learnedCookie) { held = held || c == k })
			return !held
		})
		if held {
			return true
		}
	}
	return false
}
