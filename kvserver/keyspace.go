package kvserver

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
)

// The typed keyspace. The KVStore contract knows only lists of values; the Redis commands of
// the server also need strings, hashes, sets and sorted sets, with expiry. The memory store
// keeps every key as an entry of one kind, and every change to it is a record (record.go):
// the memory store applies records directly, the FileStore logs them first and applies them
// the same way on replay, so every mutation of every type is in the log and one function
// (applyRecord) defines what each does.
//
// A string is a list of one value marked as a string, which keeps the contract's mapping (SET
// replaces the list with one value, GET returns the last value, RPUSH appends to it) while
// TYPE, INCR and the like can tell strings from lists.

// kind is the Redis type of a key.
type kind uint8

const (
	kindList kind = iota
	kindString
	kindHash
	kindSet
	kindZSet
)

// String returns the name TYPE replies with.
func (k kind) String() string {
	return [...]string{"list", "string", "hash", "set", "zset"}[k]
}

// entry is the value of one key.
type entry struct {
	kind     kind
	list     // kindList, and kindString as a list of one value
	hash     map[string][]byte
	set      map[string]struct{}
	zset     *zset
	expireAt int64 // Unix milliseconds after which the key is gone; 0 if never
}

// str returns a string entry's value.
func (e *entry) str() []byte { return e.at(e.len() - 1) }

// typedStore is a store that holds the typed keyspace: the memory store and the FileStore.
// Reads look at entries directly; every change goes through mutate as a record.
type typedStore interface {
	ListStore
	lookup(key string) *entry // nil if key is missing; read-only
	mutate(r record)          // applies r (a FileStore logs it first)
	forEach(fn func(key string, e *entry))
}

var (
	_ typedStore = (*memoryStore)(nil)
	_ typedStore = (*FileStore)(nil)
)

func (m *memoryStore) lookup(key string) *entry { return m.keys[key] }
func (m *memoryStore) mutate(r record)          { m.apply(r) }
func (m *memoryStore) forEach(fn func(string, *entry)) {
	for k, e := range m.keys {
		fn(k, e)
	}
}

// apply carries out one record.
func (m *memoryStore) apply(r record) {
	switch r.op {
	case logPut:
		m.Put(r.key, r.a)
	case logPrepend:
		m.Prepend(r.key, r.a)
	case logDelete:
		m.Delete(r.key)
	case logUpdate:
		m.Update(r.key, r.a, r.b)
	case logClear:
		m.Clear()
	case logSet:
		m.keys[r.key] = &entry{kind: kindString, list: list{back: [][]byte{clone(r.a)}}}
	case logAppend:
		e := m.keys[r.key]
		if e == nil || e.kind != kindString {
			m.keys[r.key] = &entry{kind: kindString, list: list{back: [][]byte{clone(r.a)}}}
			return
		}
		old := e.str()
		v := make([]byte, len(old), len(old)+len(r.a))
		copy(v, old)
		e.list = list{back: [][]byte{append(v, r.a...)}}
	case logLPop, logRPop:
		if l := m.listOf(r.key); l != nil && l.len() > 0 {
			if r.op == logLPop {
				l.popFront()
			} else {
				l.popBack()
			}
			if l.len() == 0 {
				delete(m.keys, r.key)
			}
		}
	case logHSet:
		e := m.typed(r.key, kindHash)
		if e.hash == nil {
			e.hash = make(map[string][]byte)
		}
		e.hash[string(r.a)] = clone(r.b)
	case logHDel:
		if e := m.keys[r.key]; e != nil && e.kind == kindHash {
			delete(e.hash, string(r.a))
			if len(e.hash) == 0 {
				delete(m.keys, r.key)
			}
		}
	case logSAdd:
		e := m.typed(r.key, kindSet)
		if e.set == nil {
			e.set = make(map[string]struct{})
		}
		e.set[string(r.a)] = struct{}{}
	case logSRem:
		if e := m.keys[r.key]; e != nil && e.kind == kindSet {
			delete(e.set, string(r.a))
			if len(e.set) == 0 {
				delete(m.keys, r.key)
			}
		}
	case logZAdd:
		e := m.typed(r.key, kindZSet)
		if e.zset == nil {
			e.zset = newZSet()
		}
		e.zset.add(string(r.a), math.Float64frombits(binary.LittleEndian.Uint64(r.b)))
	case logZRem:
		if e := m.keys[r.key]; e != nil && e.kind == kindZSet {
			e.zset.remove(string(r.a))
			if e.zset.len() == 0 {
				delete(m.keys, r.key)
			}
		}
	case logExpireAt:
		if e := m.keys[r.key]; e != nil {
			e.expireAt = int64(binary.LittleEndian.Uint64(r.a))
		}
	}
}

// typed returns key's entry, making it an empty entry of kind k if it is missing or of
// another kind (the server checks types before it mutates, so this is replay's safety net).
func (m *memoryStore) typed(key string, k kind) *entry {
	e := m.keys[key]
	if e == nil || e.kind != k {
		e = &entry{kind: k}
		m.keys[key] = e
	}
	return e
}

// zset is a sorted set: a score per member, and the members in order (score, then member)
// rebuilt lazily after changes that do not simply extend it. Adding members in increasing order
// and popping the lowest, the common patterns, stay O(1) amortised; a read after a random
// insert costs a sort.
type zset struct {
	scores map[string]float64
	sorted []zitem // valid when !dirty
	dirty  bool
}

type zitem struct {
	member string
	score  float64
}

func newZSet() *zset { return &zset{scores: make(map[string]float64)} }

func (z *zset) len() int { return len(z.scores) }

func zless(a, b zitem) bool {
	return a.score < b.score || (a.score == b.score && a.member < b.member)
}

func (z *zset) add(member string, score float64) {
	old, exists := z.scores[member]
	z.scores[member] = score
	switch {
	case exists && old == score:
	case exists || z.dirty:
		z.dirty = true
	case len(z.sorted) == 0 || zless(z.sorted[len(z.sorted)-1], zitem{member, score}):
		z.sorted = append(z.sorted, zitem{member, score})
	default:
		z.dirty = true
	}
}

func (z *zset) remove(member string) {
	if _, ok := z.scores[member]; !ok {
		return
	}
	delete(z.scores, member)
	if !z.dirty && len(z.sorted) > 0 && z.sorted[0].member == member {
		z.sorted[0] = zitem{}
		z.sorted = z.sorted[1:]
		return
	}
	z.dirty = true
}

// items returns the members in order; read-only, valid until the next change.
func (z *zset) items() []zitem {
	if z.dirty {
		z.sorted = z.sorted[:0]
		for m, s := range z.scores {
			z.sorted = append(z.sorted, zitem{m, s})
		}
		slices.SortFunc(z.sorted, func(a, b zitem) int {
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

// globMatch reports whether s matches the Redis glob pattern p: '*' any run of bytes, '?' one
// byte, '[abc]', '[^a]' and '[a-z]' classes, and '\' quoting the next byte.
func globMatch(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			if p == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if globMatch(p, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			p, s = p[1:], s[1:]
		case '[':
			if s == "" {
				return false
			}
			end := strings.IndexByte(p[1:], ']')
			if end < 0 {
				return false // an unclosed class matches nothing
			}
			class := p[1 : 1+end]
			p = p[2+end:]
			neg := strings.HasPrefix(class, "^")
			if neg {
				class = class[1:]
			}
			match := false
			for i := 0; i < len(class); i++ {
				switch {
				case class[i] == '\\' && i+1 < len(class):
					i++
					match = match || class[i] == s[0]
				case i+2 < len(class) && class[i+1] == '-':
					lo, hi := class[i], class[i+2]
					if lo > hi {
						lo, hi = hi, lo
					}
					match = match || (lo <= s[0] && s[0] <= hi)
					i += 2
				default:
					match = match || class[i] == s[0]
				}
			}
			if match == neg {
				return false
			}
			s = s[1:]
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if s == "" || p[0] != s[0] {
				return false
			}
			p, s = p[1:], s[1:]
		}
	}
	return s == ""
}
