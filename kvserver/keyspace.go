package kvserver

import (
	"strings"

	"ds440/kvserver/internal/keyspace"
)

// The typed keyspace lives in internal/keyspace: the KVStore contract knows only lists of
// values, the Redis commands of the server also need strings, hashes, sets and sorted sets,
// with expiry. Every change to a key is a keyspace.Record, which the memory store applies
// directly and the FileStore logs first, so one function (keyspace.Store.Apply) defines what
// each mutation does. The short names below keep the server's code readable.
type (
	entry       = keyspace.Entry
	record      = keyspace.Record
	logOp       = keyspace.Op
	zitem       = keyspace.ZItem
	memoryStore = keyspace.Store
)

const (
	kindList   = keyspace.KindList
	kindString = keyspace.KindString
	kindHash   = keyspace.KindHash
	kindSet    = keyspace.KindSet
	kindZSet   = keyspace.KindZSet

	logPut      = keyspace.OpPut
	logDelete   = keyspace.OpDelete
	logUpdate   = keyspace.OpUpdate
	logPrepend  = keyspace.OpPrepend
	logClear    = keyspace.OpClear
	logSet      = keyspace.OpSet
	logAppend   = keyspace.OpAppend
	logLPop     = keyspace.OpLPop
	logRPop     = keyspace.OpRPop
	logHSet     = keyspace.OpHSet
	logHDel     = keyspace.OpHDel
	logSAdd     = keyspace.OpSAdd
	logSRem     = keyspace.OpSRem
	logZAdd     = keyspace.OpZAdd
	logZRem     = keyspace.OpZRem
	logExpireAt = keyspace.OpExpireAt
)

func newMemoryStore() *memoryStore { return keyspace.New() }

// typedStore is a store that holds the typed keyspace: the memory store and the FileStore.
// Reads look at entries directly; every change goes through Mutate as a record.
type typedStore interface {
	ListStore
	keyspace.Typed
}

var (
	_ typedStore = (*memoryStore)(nil)
	_ typedStore = (*FileStore)(nil)
)

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
