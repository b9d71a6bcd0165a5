package keyspace

import (
	"encoding/binary"
	"math"
	"slices"
)

// Kind is the Redis type of a key.
type Kind uint8

const (
	KindList Kind = iota // a list of values; the KVStore contract's only type
	KindString
	KindHash
	KindSet
	KindZSet
)

// String returns the name TYPE replies with.
func (k Kind) String() string {
	return [...]string{"list", "string", "hash", "set", "zset"}[k]
}

// Entry is the value of one key.
//
// The fields every command reads (kind, expiry, key, and a string's list) come first, so that
// a command on a string touches the first two cache lines of its entry and no more.
type Entry struct {
	Kind     Kind
	ExpireAt int64  // Unix milliseconds after which the key is gone; 0 if never
	key      string // the map's own copy of the key: see Store.find
	List            // KindList, and KindString as a list of one value
	Hash     map[string][]byte
	Set      map[string]struct{}
	ZSet     *ZSet
}

// Str returns a string Entry's value.
func (e *Entry) Str() []byte { return e.At(e.Len() - 1) }

// Typed is a store that holds the typed keyspace: a Store, or a durable store built on one.
// Reads look at entries directly; every change goes through Mutate as a Record, so that a
// durable store can log it before applying it.
type Typed interface {
	Lookup(key string) *Entry // nil if key is missing; read-only
	Mutate(r Record)          // applies r (a durable store logs it first)
	ForEach(fn func(key string, e *Entry))
}

var _ Typed = (*Store)(nil)

// Lookup returns key's entry, nil if it is missing. The entry is read-only.
func (m *Store) Lookup(key string) *Entry { return m.find(key) }

// Mutate applies r.
func (m *Store) Mutate(r Record) { m.Apply(r) }

// ForEach calls fn for every key, in no particular order.
func (m *Store) ForEach(fn func(string, *Entry)) {
	for k, e := range m.keys {
		fn(k, e)
	}
}

// Apply carries out one Record: the one definition of what each mutation does, used live
// and on replay.
func (m *Store) Apply(r Record) {
	switch r.Op {
	case OpPut:
		m.Put(r.Key, r.A)
	case OpPrepend:
		m.Prepend(r.Key, r.A)
	case OpDelete:
		m.Delete(r.Key)
	case OpUpdate:
		m.Update(r.Key, r.A, r.B)
	case OpClear:
		m.Clear()
	case OpSet:
		m.setString(r.Key, r.A)
	case OpAppend:
		if e := m.find(r.Key); e != nil && e.Kind == KindString {
			e.AppendToLast(r.A)
		} else {
			m.setString(r.Key, r.A)
		}
	case OpLPop, OpRPop:
		if l := m.listOf(r.Key); l != nil && l.Len() > 0 {
			if r.Op == OpLPop {
				l.PopFront()
			} else {
				l.PopBack()
			}
			if l.Len() == 0 {
				m.remove(r.Key)
			}
		}
	case OpHSet:
		e := m.typed(r.Key, KindHash)
		if e.Hash == nil {
			e.Hash = make(map[string][]byte)
		}
		if old, ok := e.Hash[string(r.A)]; ok && len(old) == len(r.B) {
			copy(old, r.B) // in place: a field overwritten with a value of its size allocates nothing
		} else {
			e.Hash[string(r.A)] = Clone(r.B)
		}
	case OpHDel:
		if e := m.find(r.Key); e != nil && e.Kind == KindHash {
			delete(e.Hash, string(r.A))
			if len(e.Hash) == 0 {
				m.remove(r.Key)
			}
		}
	case OpSAdd:
		e := m.typed(r.Key, KindSet)
		if e.Set == nil {
			e.Set = make(map[string]struct{})
		}
		e.Set[string(r.A)] = struct{}{}
	case OpSRem:
		if e := m.find(r.Key); e != nil && e.Kind == KindSet {
			delete(e.Set, string(r.A))
			if len(e.Set) == 0 {
				m.remove(r.Key)
			}
		}
	case OpZAdd:
		e := m.typed(r.Key, KindZSet)
		if e.ZSet == nil {
			e.ZSet = NewZSet()
		}
		score := math.Float64frombits(binary.LittleEndian.Uint64(r.B))
		if old, ok := e.ZSet.scores[string(r.A)]; !ok || old != score { // else no copy of the member
			e.ZSet.Add(string(r.A), score)
		}
	case OpZRem:
		if e := m.find(r.Key); e != nil && e.Kind == KindZSet {
			e.ZSet.Remove(string(r.A))
			if e.ZSet.Len() == 0 {
				m.remove(r.Key)
			}
		}
	case OpExpireAt:
		if e := m.find(r.Key); e != nil {
			e.ExpireAt = int64(binary.LittleEndian.Uint64(r.A))
		}
	}
}

// setString makes key the string v, reusing key's entry and its memory if it is a string or
// a list (SET over a string, the common case, then allocates nothing).
func (m *Store) setString(key string, v []byte) {
	e := m.find(key)
	switch {
	case e == nil:
		e = &Entry{}
		m.insert(key, e)
	case e.Kind != KindList && e.Kind != KindString:
		*e = Entry{key: e.key}
	}
	e.Kind, e.ExpireAt = KindString, 0
	e.SetOne(v)
}

// typed returns key's Entry, making it an empty Entry of kind k if it is missing or of
// another kind (the server checks types before it mutates, so this is replay's safety net).
func (m *Store) typed(key string, k Kind) *Entry {
	e := m.find(key)
	if e == nil || e.Kind != k {
		e = &Entry{Kind: k}
		m.insert(key, e)
	}
	return e
}

// ZSet is a sorted set: a score per member, and the members in order (score, then member)
// rebuilt lazily after changes that do not simply extend it. Adding members in increasing order
// and popping the lowest, the common patterns, stay O(1) amortised; a read after a random
// insert costs a sort.
type ZSet struct {
	scores map[string]float64
	sorted []ZItem // valid when !dirty
	dirty  bool
}

// ZItem is a member of a ZSet with its score.
type ZItem struct {
	Member string
	Score  float64
}

// NewZSet returns an empty sorted set.
func NewZSet() *ZSet { return &ZSet{scores: make(map[string]float64)} }

// Len returns the number of members.
func (z *ZSet) Len() int { return len(z.scores) }

func zless(a, b ZItem) bool {
	return a.Score < b.Score || (a.Score == b.Score && a.Member < b.Member)
}

// Add sets member's score, adding it if it is missing.
func (z *ZSet) Add(member string, score float64) {
	old, exists := z.scores[member]
	z.scores[member] = score
	switch {
	case exists && old == score:
	case exists || z.dirty:
		z.dirty = true
	case len(z.sorted) == 0 || zless(z.sorted[len(z.sorted)-1], ZItem{member, score}):
		z.sorted = append(z.sorted, ZItem{member, score})
	default:
		z.dirty = true
	}
}

// Remove removes member, if present.
func (z *ZSet) Remove(member string) {
	if _, ok := z.scores[member]; !ok {
		return
	}
	delete(z.scores, member)
	if !z.dirty && len(z.sorted) > 0 && z.sorted[0].Member == member {
		z.sorted[0] = ZItem{}
		z.sorted = z.sorted[1:]
		return
	}
	z.dirty = true
}

// Items returns the members in order; read-only, valid until the next change.
func (z *ZSet) Items() []ZItem {
	if z.dirty {
		z.sorted = z.sorted[:0]
		for m, s := range z.scores {
			z.sorted = append(z.sorted, ZItem{m, s})
		}
		slices.SortFunc(z.sorted, func(a, b ZItem) int {
			if zless(a, b) {
				return -1
			}
			if zless(b, a) {
				return 1
			}
			return 0
		})
		z.dirty = false
	}
	return z.sorted
}

// Score returns member's score and whether member is in the set.
func (z *ZSet) Score(member string) (float64, bool) {
	s, ok := z.scores[member]
	return s, ok
}
