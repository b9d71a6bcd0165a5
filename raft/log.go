package raft

// raftLog is the replicated log with a snapshot offset: entries[0] is a sentinel standing for
// the last entry covered by the snapshot (index snapIndex, term snapTerm), so index i lives at
// entries[i-snapIndex]. Indices are 1-based as in the paper; index 0 term 0 is the empty log.
type raftLog struct {
	entries []Entry // entries[0] is the sentinel; its Command is always nil
	offset  int     // the snapshot's last included index

	// stable is the last index known to be in storage as it is here: entries after it are
	// what the next save appends. Entries never change in place, only get cut off; cut says
	// storage may hold entries after stable that the log no longer has.
	stable int
	cut    bool
}

func newLog() raftLog {
	return raftLog{entries: []Entry{{Term: 0}}}
}

// snapIndex and snapTerm describe the last entry folded into the snapshot.
func (l *raftLog) snapIndex() int { return l.offset }
func (l *raftLog) snapTerm() int  { return l.entries[0].Term }

func (l *raftLog) lastIndex() int { return l.offset + len(l.entries) - 1 }
func (l *raftLog) lastTerm() int  { return l.entries[len(l.entries)-1].Term }

// has reports whether the term of index i is known (it is in the log or is the snapshot's last).
func (l *raftLog) has(i int) bool { return i >= l.offset && i <= l.lastIndex() }

// term returns the term of entry i, which must satisfy has(i).
func (l *raftLog) term(i int) int { return l.entries[i-l.offset].Term }

// slice returns a copy of entries [lo, hi], which must be in the log proper (lo > snapIndex).
// A copy, because the caller hands it to another goroutine while the log keeps changing.
func (l *raftLog) slice(lo, hi int) []Entry {
	if lo > hi {
		return nil
	}
	out := make([]Entry, hi-lo+1)
	copy(out, l.entries[lo-l.offset:hi-l.offset+1])
	return out
}

func (l *raftLog) append(es ...Entry) {
	l.entries = append(l.entries, es...)
}

// truncateFrom drops entry i and everything after it (i > snapIndex).
func (l *raftLog) truncateFrom(i int) {
	k := i - l.offset
	clear(l.entries[k:])
	l.entries = l.entries[:k]
	if i-1 < l.stable {
		l.stable, l.cut = i-1, true
	}
}

// firstIndexOfTerm returns the first index at or before i (and after the snapshot) whose term
// equals term(i): the start of that term's run, used for the conflict hint.
func (l *raftLog) firstIndexOfTerm(i int) int {
	t := l.term(i)
	for i-1 > l.offset && l.term(i-1) == t {
		i--
	}
	return i
}

// lastIndexOfTerm returns the last index in the log (after the snapshot) with term t, or 0.
func (l *raftLog) lastIndexOfTerm(t int) int {
	for i := l.lastIndex(); i > l.offset; i-- {
		switch tt := l.term(i); {
		case tt == t:
			return i
		case tt < t:
			return 0
		}
	}
	return 0
}

// compact folds entries up to index i (snapIndex < i <= lastIndex) into the snapshot. It copies
// the suffix into a fresh slice so the discarded prefix can be collected.
func (l *raftLog) compact(i int) {
	rest := make([]Entry, l.lastIndex()-i+1)
	copy(rest, l.entries[i-l.offset:])
	rest[0].Command = nil
	l.entries = rest
	l.offset = i
	l.stable = max(l.stable, i)
}

// reset replaces the whole log by a snapshot ending at (index, term).
func (l *raftLog) reset(index, term int) {
	l.entries = []Entry{{Term: term}}
	l.offset = index
	l.stable = index
}

// unstable reports whether storage lacks entries of the log or holds entries it no longer has,
// and returns the entries after stable, aliasing the log: valid until it next changes.
func (l *raftLog) unstable() ([]Entry, bool) {
	return l.entries[l.stable+1-l.offset:], l.cut || l.stable < l.lastIndex()
}

// stabilize records that storage now holds the log as it is.
func (l *raftLog) stabilize() { l.stable, l.cut = l.lastIndex(), false }

// upToDate reports whether a log ending at (lastIndex, lastTerm) is at least as up to date as
// this one (§5.4.1): a later last term wins, and with equal terms the longer log.
func (l *raftLog) upToDate(lastIndex, lastTerm int) bool {
	if lastTerm != l.lastTerm() {
		return lastTerm > l.lastTerm()
	}
	return lastIndex >= l.lastIndex()
}
