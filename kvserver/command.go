package kvserver

import (
	"encoding/binary"
	"strconv"
	"time"
)

// op is what a request asks for.
type op uint8

const (
	opBad   op = iota // malformed: answered with its reason
	opFatal           // the client must go: answered with its reason, then the connection closes

	// The text protocol.
	opPut
	opGet
	opDelete
	opUpdate

	// RESP commands.
	opPing
	opEcho
	opSet
	opGetLast
	opRPush
	opLPush
	opLRange
	opLLen
	opDel
	opExists
	opKVUpdate
	opDBSize
	opFlushAll
	opSelect
	opQuit
	opCommand
	opConfig
	opTyped // a command of typed.go only
)

// output collects the replies to one client during one round of the store loop, within the
// room left in that client's outgoing queue. An entry is a text line or a RESP reply. A reply
// is queued whole if the queue is not full when it is produced, even if its lines take the
// queue past its length, and discarded whole otherwise: a client that keeps up never receives
// part of a Get, and the queue holds at most QueueLines entries plus one reply.
//
// The queue is also full once buf reaches maxBytes bytes, if limitBytes is set: the client's
// soft output limit less what is already at its writer (Config.OutputSoftLimit).
type output struct {
	buf        []byte
	entries    int  // entries appended to buf
	room       int  // entries that still fit in the queue; negative after a long reply
	limitBytes bool // maxBytes applies
	maxBytes   int  // bytes of buf from which the queue is full
	dropped    int  // text lines discarded because the queue was full
	quit       bool // the client asked to be closed once its replies are written
}

// full reports whether the queue has no room for another reply.
func (o *output) full() bool { return o.room <= 0 || (o.limitBytes && len(o.buf) >= o.maxBytes) }

// db executes requests against a store. It is the server's state machine: no goroutines, no
// sockets, so every command is tested table-driven; the store loop only feeds it requests.
type db struct {
	store     KVStore
	lists     listOps          // the store's list operations, native or built from KVStore
	whole     ListStore        // the store, if it can count and clear its keys; else nil
	committer Committer        // the store, if it commits in groups; else nil
	typed     typedStore       // the store, if it holds the typed keyspace; else nil
	now       func() time.Time // for expiry
	scratch   []byte           // a value a command builds (INCR's number), reused
	fixedBuf  [8]byte          // see fixed
}

// fixed returns v's eight little-endian bytes, a Record's ZADD score or expiry time, in a
// buffer of d's rather than a new one: whoever applies or logs a Record copies what it keeps.
func (d *db) fixed(v uint64) []byte {
	binary.LittleEndian.PutUint64(d.fixedBuf[:], v)
	return d.fixedBuf[:]
}

func newDB(store KVStore) *db {
	lists, _ := listsOf(store)
	whole, _ := store.(ListStore)
	committer, _ := store.(Committer)
	typed, _ := store.(typedStore)
	return &db{store: store, lists: lists, whole: whole, committer: committer, typed: typed, now: time.Now}
}

func (d *db) nowMillis() int64 { return d.now().UnixMilli() }

// execText executes a text-protocol request with arguments args.
func (d *db) execText(r request, args [][]byte, out *output) {
	if d.typed != nil && r.op >= opPut && r.op <= opUpdate {
		d.entry(args[0]) // an expired key is gone for the text protocol too
	}
	switch r.op {
	case opPut:
		d.store.Put(string(args[0]), args[1])
	case opGet:
		if d.typed != nil { // straight from the list, without a slice of it per request
			e := d.typed.Lookup(keyOf(args[0]))
			if e == nil || (e.Kind != kindList && e.Kind != kindString) || e.Len() == 0 {
				return
			}
			if out.full() {
				out.dropped += e.Len()
				return
			}
			for v := range e.Values(0, e.Len()) {
				out.buf = appendLine(out.buf, args[0], v)
			}
			out.entries += e.Len()
			out.room -= e.Len()
			return
		}
		vals := d.lists.Range(string(args[0]), 0, -1)
		if len(vals) == 0 {
			return
		}
		if out.full() {
			out.dropped += len(vals)
			return
		}
		for _, v := range vals {
			out.buf = appendLine(out.buf, args[0], v)
		}
		out.entries += len(vals)
		out.room -= len(vals)
	case opDelete:
		d.store.Delete(string(args[0]))
	case opUpdate:
		d.store.Update(string(args[0]), args[1], args[2])
	case opBad, opFatal:
		out.quit = r.op == opFatal
		if out.full() {
			out.dropped++
			return
		}
		out.buf = appendErrLine(out.buf, r.reason)
		out.entries++
		out.room--
	}
}

// execRESP executes a RESP request with arguments args (the command name excluded) and
// reports true, unless the client's queue is full: then it executes nothing and reports false,
// and the server holds the request until the queue drains, because a RESP client cannot be
// told which reply went missing.
func (d *db) execRESP(r request, args [][]byte, out *output) bool {
	if out.full() {
		return false
	}
	out.entries++
	out.room--
	b := out.buf
	if r.run != nil && d.typed != nil {
		out.buf = r.run(d, args, b)
		return true
	}
	switch r.op {
	case opTyped:
		b = appendError(b, r.reason)
	case opBad:
		b = appendError(b, r.reason)
	case opFatal:
		b = appendError(b, r.reason)
		out.quit = true
	case opPing:
		if len(args) == 1 {
			b = appendBulk(b, args[0])
		} else {
			b = appendSimple(b, "PONG")
		}
	case opEcho:
		b = appendBulk(b, args[0])
	case opSet:
		if len(args) > 2 {
			b = appendError(b, "SET options need a store that holds typed values (the memory store or a FileStore)")
			break
		}
		key := string(args[0])
		d.store.Delete(key)
		d.store.Put(key, args[1])
		b = appendSimple(b, "OK")
	case opGetLast:
		if last := d.lists.Range(string(args[0]), -1, -1); len(last) == 1 {
			b = appendBulk(b, last[0])
		} else {
			b = appendNil(b)
		}
	case opRPush, opLPush:
		key := string(args[0])
		for _, v := range args[1:] {
			if r.op == opRPush {
				d.store.Put(key, v)
			} else {
				d.lists.Prepend(key, v)
			}
		}
		b = appendInt(b, d.lists.Len(key))
	case opLRange:
		start, err1 := strconv.Atoi(string(args[1]))
		stop, err2 := strconv.Atoi(string(args[2]))
		if err1 != nil || err2 != nil {
			b = appendError(b, "value is not an integer or out of range")
			break
		}
		vals := d.lists.Range(string(args[0]), start, stop)
		b = appendArrayLen(b, len(vals))
		for _, v := range vals {
			b = appendBulk(b, v)
		}
	case opLLen:
		b = appendInt(b, d.lists.Len(string(args[0])))
	case opDel, opExists:
		n := 0
		for _, k := range args {
			key := string(k)
			if d.lists.Len(key) > 0 {
				n++
				if r.op == opDel {
					d.store.Delete(key)
				}
			}
		}
		b = appendInt(b, n)
	case opKVUpdate:
		d.store.Update(string(args[0]), args[1], args[2])
		b = appendSimple(b, "OK")
	case opDBSize:
		if d.whole == nil {
			b = appendError(b, "DBSIZE needs a store that counts its keys")
			break
		}
		b = appendInt(b, d.whole.Keys())
	case opFlushAll:
		if d.whole == nil {
			b = appendError(b, "FLUSHALL needs a store that can clear itself")
			break
		}
		d.whole.Clear()
		b = appendSimple(b, "OK")
	case opSelect:
		if string(args[0]) != "0" {
			b = appendError(b, "DB index is out of range")
			break
		}
		b = appendSimple(b, "OK")
	case opQuit:
		b = appendSimple(b, "OK")
		out.quit = true
	case opCommand:
		b = appendArrayLen(b, 0)
	case opConfig:
		if !asciiEqualFold(args[0], "GET") {
			b = appendError(b, "only CONFIG GET is supported")
			break
		}
		b = appendArrayLen(b, 0)
	}
	out.buf = b
	return true
}

// asciiEqualFold reports whether b equals the upper-case ASCII word s, ignoring case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
