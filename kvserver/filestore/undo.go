package filestore

import (
	"encoding/binary"
	"math"

	"ds440/kvserver/internal/keyspace"
)

// A failed Commit takes the store back to what the log holds by undoing the round: every
// mutation since the last successful Commit leaves an undo step, noted just before it is
// applied, that puts its key back as it was; a failed Commit applies them last first. Undoing
// costs what the round changed, never a replay of the log, and cannot fail. A step is small and
// its keys and values are copied into one buffer of the log's own, both reused from round to
// round, so noting a step allocates nothing once the buffers have grown to a round's size.

// undoKind is what an undo step does to its key.
type undoKind uint8

const (
	// undoDelete deletes the key: the mutation created it.
	undoDelete undoKind = iota + 1
	// undoRecord applies Record{op, key, a, b} (unless op is 0) and sets the key's expiry
	// back to expire: the mutation changed one value, field or member, or the expiry.
	undoRecord
	// undoTrim cuts the key's string back to its first n bytes and sets its expiry back:
	// the mutation appended to the string.
	undoTrim
	// undoList makes the key the list (or, if str, the string) of the values vals, with its
	// expiry: the mutation overwrote the list's memory (SET over a list, LSET-like updates).
	undoList
	// undoEntry makes the key entry again: the mutation dropped the entry from the store
	// (delete, or a new type), which leaves it untouched, or overwrote it and entry is a copy.
	undoEntry
	// undoClear puts back every key of cleared.
	undoClear
)

// span is where a byte string lies in undoLog.bytes.
type span struct{ off, n int }

// undoStep undoes one mutation; which fields it uses depends on kind.
type undoStep struct {
	kind undoKind
	op   keyspace.Op
	str  bool // undoList: the key was a string
	key  span
	a, b span
	n    int // undoTrim: the string's length
	// undoList: the values are undoLog.values[from:to]; undoClear: the keys undoLog.cleared[from:to]
	from, to int
	expire   int64
	entry    *keyspace.Entry
}

// clearedEntry is a key dropped by a Clear, with its entry.
type clearedEntry struct {
	key   string // the store's own key, which nothing changes
	entry *keyspace.Entry
}

// undoLog holds the undo steps of the mutations since the last successful Commit.
type undoLog struct {
	steps   []undoStep
	bytes   []byte // the keys and values the steps refer to
	values  []span // undoList's values
	cleared []clearedEntry
}

// maxKeptUndo bounds the undo buffers kept for the next round: one huge round should not pin
// its buffers forever.
const maxKeptUndo = 1 << 20

// reset forgets every step (the round is committed), keeping buffers of a reasonable size and
// no entry: a dropped entry must not outlive the round that dropped it.
func (u *undoLog) reset() {
	clear(u.steps)
	clear(u.cleared)
	u.steps, u.bytes, u.values, u.cleared = u.steps[:0], u.bytes[:0], u.values[:0], u.cleared[:0]
	if cap(u.bytes) > maxKeptUndo {
		u.bytes = nil
	}
	if cap(u.steps) > maxKeptUndo/64 {
		u.steps = nil
	}
	if cap(u.values) > maxKeptUndo/16 {
		u.values = nil
	}
	if cap(u.cleared) > maxKeptUndo/16 {
		u.cleared = nil
	}
}

// save copies b into the log's buffer.
func (u *undoLog) save(b []byte) span {
	s := span{len(u.bytes), len(b)}
	u.bytes = append(u.bytes, b...)
	return s
}

func (u *undoLog) saveString(s string) span {
	sp := span{len(u.bytes), len(s)}
	u.bytes = append(u.bytes, s...)
	return sp
}

func (u *undoLog) at(s span) []byte { return u.bytes[s.off : s.off+s.n : s.off+s.n] }

// record notes a step applying the record op(key, a, b), then restoring e's expiry.
func (u *undoLog) record(op keyspace.Op, key string, a, b []byte, e *keyspace.Entry) {
	u.steps = append(u.steps, undoStep{kind: undoRecord, op: op, key: u.saveString(key), a: u.save(a), b: u.save(b), expire: e.ExpireAt})
}

// entry notes a step putting e back as key's entry.
func (u *undoLog) entry(key string, e *keyspace.Entry) {
	u.steps = append(u.steps, undoStep{kind: undoEntry, key: u.saveString(key), entry: e})
}

// list notes a step making key the list (or string) of e's values, copied.
func (u *undoLog) list(key string, e *keyspace.Entry) {
	st := undoStep{kind: undoList, key: u.saveString(key), str: e.Kind == keyspace.KindString, expire: e.ExpireAt}
	st.from = len(u.values)
	for v := range e.Values(0, e.Len()) {
		u.values = append(u.values, u.save(v))
	}
	st.to = len(u.values)
	u.steps = append(u.steps, st)
}

// note records how to undo r, which is about to be applied to idx. It mirrors
// keyspace.Store.Apply case by case: what r changes is what the step puts back.
func (u *undoLog) note(idx *keyspace.Store, r keyspace.Record) {
	if r.Op == keyspace.OpClear {
		if idx.Keys() == 0 {
			return
		}
		from := len(u.cleared)
		idx.ForEach(func(k string, e *keyspace.Entry) { u.cleared = append(u.cleared, clearedEntry{k, e}) })
		u.steps = append(u.steps, undoStep{kind: undoClear, from: from, to: len(u.cleared)})
		return
	}
	e := idx.Lookup(r.Key)
	if e == nil {
		switch r.Op {
		case keyspace.OpPut, keyspace.OpPrepend, keyspace.OpSet, keyspace.OpAppend,
			keyspace.OpHSet, keyspace.OpSAdd, keyspace.OpZAdd:
			u.steps = append(u.steps, undoStep{kind: undoDelete, key: u.saveString(r.Key)})
		}
		return // the other ops change nothing on a missing key
	}
	isList := e.Kind == keyspace.KindList || e.Kind == keyspace.KindString
	switch r.Op {
	case keyspace.OpDelete:
		u.entry(r.Key, e) // Delete drops e from the store and leaves it as it is
	case keyspace.OpPut, keyspace.OpPrepend:
		switch {
		case e.Kind == keyspace.KindList && r.Op == keyspace.OpPut:
			u.record(keyspace.OpRPop, r.Key, nil, nil, e)
		case e.Kind == keyspace.KindList:
			u.record(keyspace.OpLPop, r.Key, nil, nil, e)
		case e.Kind == keyspace.KindString: // it becomes a list of two values
			u.record(keyspace.OpSet, r.Key, e.Str(), nil, e)
		default: // another type: replaced by a new list entry
			u.entry(r.Key, e)
		}
	case keyspace.OpSet, keyspace.OpAppend:
		switch {
		case r.Op == keyspace.OpAppend && e.Kind == keyspace.KindString:
			u.steps = append(u.steps, undoStep{kind: undoTrim, key: u.saveString(r.Key), n: len(e.Str()), expire: e.ExpireAt})
		case e.Kind == keyspace.KindString:
			u.record(keyspace.OpSet, r.Key, e.Str(), nil, e)
		case e.Kind == keyspace.KindList: // the string reuses the list's memory
			u.list(r.Key, e)
		default: // the entry is overwritten in place: keep a copy, whose maps nothing changes
			old := *e
			u.entry(r.Key, &old)
		}
	case keyspace.OpUpdate:
		if isList && string(r.A) != string(r.B) && contains(e, r.A) {
			u.list(r.Key, e)
		}
	case keyspace.OpLPop, keyspace.OpRPop:
		if !isList || e.Len() == 0 {
			return
		}
		op, v := keyspace.OpPrepend, e.At(0)
		if r.Op == keyspace.OpRPop {
			op, v = keyspace.OpPut, e.At(e.Len()-1)
		}
		if e.Len() == 1 && e.Kind == keyspace.KindString { // the key goes; it comes back a string
			op = keyspace.OpSet
		}
		u.record(op, r.Key, v, nil, e)
	case keyspace.OpHSet:
		switch old, ok := e.Hash[string(r.A)]; {
		case e.Kind != keyspace.KindHash:
			u.entry(r.Key, e) // replaced by a new hash entry
		case ok:
			u.record(keyspace.OpHSet, r.Key, r.A, old, e) // old is overwritten in place: copied
		default:
			u.record(keyspace.OpHDel, r.Key, r.A, nil, e)
		}
	case keyspace.OpHDel:
		if old, ok := e.Hash[string(r.A)]; ok && e.Kind == keyspace.KindHash {
			u.record(keyspace.OpHSet, r.Key, r.A, old, e)
		}
	case keyspace.OpSAdd:
		_, ok := e.Set[string(r.A)]
		switch {
		case e.Kind != keyspace.KindSet:
			u.entry(r.Key, e)
		case !ok:
			u.record(keyspace.OpSRem, r.Key, r.A, nil, e)
		}
	case keyspace.OpSRem:
		if _, ok := e.Set[string(r.A)]; ok && e.Kind == keyspace.KindSet {
			u.record(keyspace.OpSAdd, r.Key, r.A, nil, e)
		}
	case keyspace.OpZAdd:
		switch {
		case e.Kind != keyspace.KindZSet:
			u.entry(r.Key, e)
		default:
			if score, ok := e.ZSet.Score(string(r.A)); ok {
				u.zadd(r.Key, r.A, score, e)
			} else {
				u.record(keyspace.OpZRem, r.Key, r.A, nil, e)
			}
		}
	case keyspace.OpZRem:
		if e.Kind != keyspace.KindZSet {
			return
		}
		if score, ok := e.ZSet.Score(string(r.A)); ok {
			u.zadd(r.Key, r.A, score, e)
		}
	case keyspace.OpExpireAt:
		u.record(0, r.Key, nil, nil, e) // the step's expiry is all it restores
	}
}

// contains reports whether the list (or string) e holds a value equal to v.
func contains(e *keyspace.Entry, v []byte) bool {
	for w := range e.Values(0, e.Len()) {
		if string(w) == string(v) {
			return true
		}
	}
	return false
}

// zadd notes a step giving member its score back.
func (u *undoLog) zadd(key string, member []byte, score float64, e *keyspace.Entry) {
	var b [8]byte // OpZAdd's third field
	binary.LittleEndian.PutUint64(b[:], math.Float64bits(score))
	u.record(keyspace.OpZAdd, key, member, b[:], e)
}

// apply undoes every step, last first, and forgets them.
func (u *undoLog) apply(idx *keyspace.Store) {
	for i := len(u.steps) - 1; i >= 0; i-- {
		u.undo(idx, &u.steps[i])
	}
	u.reset()
}

// undo applies one step to idx, which is as its mutation left it.
func (u *undoLog) undo(idx *keyspace.Store, st *undoStep) {
	key := string(u.at(st.key))
	switch st.kind {
	case undoDelete:
		idx.Apply(keyspace.Record{Op: keyspace.OpDelete, Key: key})
		return
	case undoRecord:
		if st.op != 0 {
			idx.Apply(keyspace.Record{Op: st.op, Key: key, A: u.at(st.a), B: u.at(st.b)})
		}
	case undoTrim:
		v := keyspace.Clone(idx.Lookup(key).Str()[:st.n])
		idx.Apply(keyspace.Record{Op: keyspace.OpSet, Key: key, A: v})
	case undoList:
		idx.Apply(keyspace.Record{Op: keyspace.OpDelete, Key: key})
		op := keyspace.OpPut
		if st.str {
			op = keyspace.OpSet
		}
		for _, v := range u.values[st.from:st.to] {
			idx.Apply(keyspace.Record{Op: op, Key: key, A: u.at(v)})
		}
	case undoEntry:
		idx.Apply(keyspace.Record{Op: keyspace.OpDelete, Key: key})
		for _, r := range appendLiveRecords(nil, key, st.entry) {
			idx.Apply(r)
		}
		return // the records restore the expiry
	case undoClear:
		idx.Apply(keyspace.Record{Op: keyspace.OpClear})
		for _, c := range u.cleared[st.from:st.to] {
			for _, r := range appendLiveRecords(nil, c.key, c.entry) {
				idx.Apply(r)
			}
		}
		return
	}
	if e := idx.Lookup(key); e != nil && e.ExpireAt != st.expire {
		idx.Apply(keyspace.Record{Op: keyspace.OpExpireAt, Key: key, A: binary.LittleEndian.AppendUint64(nil, uint64(st.expire))})
	}
}
