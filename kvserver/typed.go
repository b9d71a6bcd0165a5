package kvserver

import (
	"math"
	"strconv"
	"strings"
	"unsafe"

	"ds440/kvserver/internal/keyspace"
)

// The Redis commands over the typed keyspace (keyspace.go). Each takes the arguments after the
// command name and appends its reply to b. They run only on a store that holds the typed
// keyspace (the memory store and the FileStore); on any other KVStore they answer an error,
// except the list commands of the contract, which command.go builds from KVStore's methods.

// typedFunc is one typed command.
type typedFunc func(d *db, args [][]byte, b []byte) []byte

// Replies shared by several commands, as Redis words them.
const (
	msgWrongType  = "WRONGTYPE Operation against a key holding the wrong kind of value"
	msgNotInt     = "value is not an integer or out of range"
	msgNotFloat   = "value is not a valid float"
	msgOverflow   = "increment or decrement would overflow"
	msgSyntax     = "syntax error"
	msgPositive   = "value is out of range, must be positive"
	msgBadCursor  = "invalid cursor"
	msgExpireTime = "invalid expire time in '%s' command"
)

// typedCommands are the commands that need the typed keyspace, with their arity (command name
// included; max -1 means no limit) and, for those that must come in pairs, a check.
var typedCommands = map[string]struct {
	run      typedFunc
	min, max int
}{
	"SET":       {cmdSet, 3, 3},
	"GET":       {cmdGet, 2, 2},
	"INCR":      {cmdIncrBy(1, false), 2, 2},
	"DECR":      {cmdIncrBy(-1, false), 2, 2},
	"INCRBY":    {cmdIncrBy(1, true), 3, 3},
	"DECRBY":    {cmdIncrBy(-1, true), 3, 3},
	"APPEND":    {cmdAppend, 3, 3},
	"STRLEN":    {cmdStrlen, 2, 2},
	"MSET":      {cmdMSet, 3, -1},
	"MGET":      {cmdMGet, 2, -1},
	"EXISTS":    {cmdExists, 2, -1},
	"DEL":       {cmdDel, 2, -1},
	"KEYS":      {cmdKeys, 2, 2},
	"SCAN":      {cmdScan, 2, -1},
	"TYPE":      {cmdType, 2, 2},
	"EXPIRE":    {cmdExpire(1000, "expire"), 3, 3},
	"PEXPIRE":   {cmdExpire(1, "pexpire"), 3, 3},
	"TTL":       {cmdTTL(1000), 2, 2},
	"PTTL":      {cmdTTL(1), 2, 2},
	"PERSIST":   {cmdPersist, 2, 2},
	"RPUSH":     {cmdPush(logPut), 3, -1},
	"LPUSH":     {cmdPush(logPrepend), 3, -1},
	"LPOP":      {cmdPop(logLPop), 2, 3},
	"RPOP":      {cmdPop(logRPop), 2, 3},
	"LRANGE":    {cmdLRange, 4, 4},
	"LLEN":      {cmdLLen, 2, 2},
	"HSET":      {cmdHSet(false), 4, -1},
	"HMSET":     {cmdHSet(true), 4, -1},
	"HGET":      {cmdHGet, 3, 3},
	"HDEL":      {cmdHDel, 3, -1},
	"HGETALL":   {cmdHGetAll, 2, 2},
	"HLEN":      {cmdHLen, 2, 2},
	"SADD":      {cmdSAdd, 3, -1},
	"SREM":      {cmdSRem, 3, -1},
	"SPOP":      {cmdSPop, 2, 3},
	"SMEMBERS":  {cmdSMembers, 2, 2},
	"SCARD":     {cmdSCard, 2, 2},
	"SISMEMBER": {cmdSIsMember, 3, 3},
	"ZADD":      {cmdZAdd, 4, -1},
	"ZPOPMIN":   {cmdZPopMin, 2, 3},
	"ZRANGE":    {cmdZRange, 4, 5},
	"ZSCORE":    {cmdZScore, 3, 3},
	"ZCARD":     {cmdZCard, 2, 2},
}

// keyOf returns key as a string without copying it, for the keyspace's lookups and records:
// the keyspace copies a key it keeps (keyspace.Store.Apply), a FileStore copies it into its
// log, and neither keeps the string past the call, so a view of the request is enough and a
// command pays no allocation per key. The string must not outlive the request.
func keyOf(key []byte) string { return unsafe.String(unsafe.SliceData(key), len(key)) }

// viewOf returns s's bytes without copying them, for a Record's value: whoever applies or
// logs a Record only reads its values, so the view is never written through.
func viewOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// entry returns key's live entry, or nil. An expired key is deleted first (and the deletion
// logged), as Redis expires keys lazily when they are touched.
func (d *db) entry(key []byte) *entry {
	e := d.typed.Lookup(keyOf(key))
	if e != nil && e.ExpireAt != 0 && e.ExpireAt <= d.nowMillis() {
		d.typed.Mutate(record{Op: logDelete, Key: keyOf(key)})
		return nil
	}
	return e
}

// expired reports whether e has expired, without deleting it (for scans).
func (d *db) expired(e *entry) bool { return e.ExpireAt != 0 && e.ExpireAt <= d.nowMillis() }

// of returns key's live entry if it is of kind k (ok true), nil if the key is missing (ok
// true), and ok false if it holds another kind.
func (d *db) of(key []byte, k keyspace.Kind) (e *entry, ok bool) {
	e = d.entry(key)
	if e == nil {
		return nil, true
	}
	return e, e.Kind == k
}

func wrongType(b []byte) []byte { return appendRawError(b, msgWrongType) }

// parseInt parses a decimal integer as strictly as Redis: optional '-', no '+', no spaces,
// no leading zeros, no "-0"; that is, only the form strconv.FormatInt gives.
func parseInt(b []byte) (int64, bool) {
	digits := b
	if len(b) > 0 && b[0] == '-' {
		digits = b[1:]
	}
	// 19 digits hold every int64 and cannot overflow a uint64.
	if len(digits) == 0 || len(digits) > 19 || (digits[0] == '0' && len(b) > 1) {
		return 0, false
	}
	var n uint64
	for _, c := range digits {
		if c-'0' > 9 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if len(digits) == len(b) {
		return int64(n), n <= math.MaxInt64
	}
	return -int64(n), n <= -math.MinInt64
}

// parseFloat parses a score as Redis does: a decimal or "inf"; NaN is refused.
func parseFloat(b []byte) (float64, bool) {
	s := string(b)
	switch strings.ToLower(s) {
	case "inf", "+inf", "infinity", "+infinity":
		return math.Inf(1), true
	case "-inf", "-infinity":
		return math.Inf(-1), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(s, "_xXpP") {
		return 0, false
	}
	return f, true
}

// appendFloat appends a score as Redis 7 replies with it.
func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	return strconv.AppendFloat(b, f, 'g', 17, 64)
}

// appendFloatBulk appends a score as a bulk string.
func appendFloatBulk(b []byte, f float64) []byte {
	var buf [32]byte // the longest 'g' form with 17 digits is 24 bytes
	return appendBulk(b, appendFloat(buf[:0], f))
}

// count parses an optional COUNT argument (args[i], if present).
func optCount(args [][]byte, i int) (n int, given, ok bool) {
	if len(args) <= i {
		return 1, false, true
	}
	v, ok := parseInt(args[i])
	if !ok || v < 0 {
		return 0, true, false
	}
	return int(min(v, math.MaxInt32)), true, true
}

// Strings and keys.

// cmdSet is SET key value [NX|XX] [GET] [EX seconds|PX milliseconds|KEEPTTL].
func cmdSet(d *db, args [][]byte, b []byte) []byte {
	var nx, xx, get, keepTTL bool
	var ttl int64 // milliseconds; 0 for none
	for i := 2; i < len(args); i++ {
		switch a := args[i]; {
		case asciiEqualFold(a, "NX") && !xx:
			nx = true
		case asciiEqualFold(a, "XX") && !nx:
			xx = true
		case asciiEqualFold(a, "GET"):
			get = true
		case asciiEqualFold(a, "KEEPTTL") && ttl == 0:
			keepTTL = true
		case (asciiEqualFold(a, "EX") || asciiEqualFold(a, "PX")) && ttl == 0 && !keepTTL && i+1 < len(args):
			n, ok := parseInt(args[i+1])
			if !ok {
				return appendError(b, msgNotInt)
			}
			unit := int64(1)
			if asciiEqualFold(a, "EX") {
				unit = 1000
			}
			if n <= 0 || n > math.MaxInt64/unit || d.nowMillis() > math.MaxInt64-n*unit {
				return appendError(b, strings.Replace(msgExpireTime, "%s", "set", 1))
			}
			ttl = n * unit
			i++
		default:
			return appendError(b, msgSyntax)
		}
	}
	e := d.entry(args[0])
	if get && e != nil && e.Kind != kindString {
		return wrongType(b)
	}
	reply := func(b []byte) []byte {
		switch {
		case !get:
			return appendSimple(b, "OK")
		case e == nil:
			return appendNil(b)
		}
		return appendBulk(b, e.Str())
	}
	if (nx && e != nil) || (xx && e == nil) {
		if get {
			return reply(b)
		}
		return appendNil(b)
	}
	b = reply(b) // before the write, which replaces e's value in place
	var kept int64
	if keepTTL && e != nil {
		kept = e.ExpireAt
	}
	d.typed.Mutate(record{Op: logSet, Key: keyOf(args[0]), A: args[1]})
	switch {
	case ttl > 0:
		d.typed.Mutate(record{Op: logExpireAt, Key: keyOf(args[0]), A: d.fixed(uint64(d.nowMillis() + ttl))})
	case kept != 0:
		d.typed.Mutate(record{Op: logExpireAt, Key: keyOf(args[0]), A: d.fixed(uint64(kept))})
	}
	return b
}

// cmdGet returns a string's value; on a list, as the contract maps GET, its last value.
func cmdGet(d *db, args [][]byte, b []byte) []byte {
	e := d.entry(args[0])
	switch {
	case e == nil:
		return appendNil(b)
	case e.Kind != kindString && e.Kind != kindList:
		return wrongType(b)
	case e.Len() == 0:
		return appendNil(b)
	}
	return appendBulk(b, e.Str())
}

func cmdIncrBy(sign int64, explicit bool) typedFunc {
	return func(d *db, args [][]byte, b []byte) []byte {
		delta := sign
		if explicit {
			n, ok := parseInt(args[1])
			if !ok || (sign < 0 && n == math.MinInt64) {
				return appendError(b, msgNotInt)
			}
			delta = sign * n
		}
		e, ok := d.of(args[0], kindString)
		if !ok {
			return wrongType(b)
		}
		var cur int64
		if e != nil {
			if cur, ok = parseInt(e.Str()); !ok {
				return appendError(b, msgNotInt)
			}
		}
		if (delta > 0 && cur > math.MaxInt64-delta) || (delta < 0 && cur < math.MinInt64-delta) {
			return appendError(b, msgOverflow)
		}
		cur += delta
		d.scratch = strconv.AppendInt(d.scratch[:0], cur, 10) // the store copies it
		d.setKeepTTL(args[0], e, d.scratch)
		return appendInt(b, int(cur))
	}
}

// setKeepTTL makes key the string v, keeping the expiry of its previous entry e.
func (d *db) setKeepTTL(key []byte, e *entry, v []byte) {
	var kept int64
	if e != nil {
		kept = e.ExpireAt // read first: the write reuses e
	}
	d.typed.Mutate(record{Op: logSet, Key: keyOf(key), A: v})
	if kept != 0 {
		d.typed.Mutate(record{Op: logExpireAt, Key: keyOf(key), A: d.fixed(uint64(kept))})
	}
}

func cmdAppend(d *db, args [][]byte, b []byte) []byte {
	if _, ok := d.of(args[0], kindString); !ok {
		return wrongType(b)
	}
	d.typed.Mutate(record{Op: logAppend, Key: keyOf(args[0]), A: args[1]})
	return appendInt(b, len(d.typed.Lookup(keyOf(args[0])).Str()))
}

func cmdStrlen(d *db, args [][]byte, b []byte) []byte {
	e, ok := d.of(args[0], kindString)
	if !ok {
		return wrongType(b)
	}
	if e == nil {
		return appendInt(b, 0)
	}
	return appendInt(b, len(e.Str()))
}

func cmdMSet(d *db, args [][]byte, b []byte) []byte {
	if len(args)%2 != 0 {
		return appendError(b, "wrong number of arguments for 'mset' command")
	}
	for i := 0; i < len(args); i += 2 {
		d.typed.Mutate(record{Op: logSet, Key: keyOf(args[i]), A: args[i+1]})
	}
	return appendSimple(b, "OK")
}

func cmdMGet(d *db, args [][]byte, b []byte) []byte {
	b = appendArrayLen(b, len(args))
	for _, k := range args {
		if e := d.entry(k); e != nil && e.Kind == kindString {
			b = appendBulk(b, e.Str())
		} else {
			b = appendNil(b)
		}
	}
	return b
}

func cmdExists(d *db, args [][]byte, b []byte) []byte {
	n := 0
	for _, k := range args {
		if d.entry(k) != nil {
			n++
		}
	}
	return appendInt(b, n)
}

func cmdDel(d *db, args [][]byte, b []byte) []byte {
	n := 0
	for _, k := range args {
		if d.entry(k) != nil {
			d.typed.Mutate(record{Op: logDelete, Key: keyOf(k)})
			n++
		}
	}
	return appendInt(b, n)
}

// matchingKeys returns the live keys that match pattern and, if typ is not empty, are of that
// type.
func (d *db) matchingKeys(pattern, typ string) []string {
	var keys []string
	d.typed.ForEach(func(k string, e *entry) {
		if !d.expired(e) && (typ == "" || strings.EqualFold(typ, e.Kind.String())) && (pattern == "*" || globMatch(pattern, k)) {
			keys = append(keys, k)
		}
	})
	return keys
}

func appendKeys(b []byte, keys []string) []byte {
	b = appendArrayLen(b, len(keys))
	for _, k := range keys {
		b = appendBulkString(b, k)
	}
	return b
}

func cmdKeys(d *db, args [][]byte, b []byte) []byte {
	return appendKeys(b, d.matchingKeys(string(args[0]), ""))
}

// cmdScan answers SCAN with every matching key at once and cursor 0, which the command's
// guarantees allow (COUNT is only a hint): a map has no stable order to resume from.
func cmdScan(d *db, args [][]byte, b []byte) []byte {
	if _, err := strconv.ParseUint(string(args[0]), 10, 64); err != nil {
		return appendError(b, msgBadCursor)
	}
	pattern, typ := "*", ""
	for i := 1; i < len(args); i += 2 {
		if i+1 == len(args) {
			return appendError(b, msgSyntax)
		}
		switch {
		case asciiEqualFold(args[i], "MATCH"):
			pattern = string(args[i+1])
		case asciiEqualFold(args[i], "COUNT"):
			if n, ok := parseInt(args[i+1]); !ok {
				return appendError(b, msgNotInt)
			} else if n < 1 {
				return appendError(b, msgSyntax)
			}
		case asciiEqualFold(args[i], "TYPE"):
			typ = string(args[i+1])
		default:
			return appendError(b, msgSyntax)
		}
	}
	b = appendArrayLen(b, 2)
	b = appendBulkString(b, "0")
	if string(args[0]) != "0" {
		return appendArrayLen(b, 0)
	}
	return appendKeys(b, d.matchingKeys(pattern, typ))
}

func cmdType(d *db, args [][]byte, b []byte) []byte {
	if e := d.entry(args[0]); e != nil {
		return appendSimple(b, e.Kind.String())
	}
	return appendSimple(b, "none")
}

func cmdExpire(unit int64, name string) typedFunc {
	return func(d *db, args [][]byte, b []byte) []byte {
		n, ok := parseInt(args[1])
		if !ok {
			return appendError(b, msgNotInt)
		}
		if n > math.MaxInt64/unit || n < math.MinInt64/unit {
			return appendError(b, strings.Replace(msgExpireTime, "%s", name, 1))
		}
		now := d.nowMillis()
		ms := n * unit
		if ms > 0 && now > math.MaxInt64-ms {
			return appendError(b, strings.Replace(msgExpireTime, "%s", name, 1))
		}
		if d.entry(args[0]) == nil {
			return appendInt(b, 0)
		}
		if ms <= 0 {
			d.typed.Mutate(record{Op: logDelete, Key: keyOf(args[0])})
		} else {
			d.typed.Mutate(record{Op: logExpireAt, Key: keyOf(args[0]), A: d.fixed(uint64(now + ms))})
		}
		return appendInt(b, 1)
	}
}

func cmdTTL(unit int64) typedFunc {
	return func(d *db, args [][]byte, b []byte) []byte {
		e := d.entry(args[0])
		switch {
		case e == nil:
			return appendInt(b, -2)
		case e.ExpireAt == 0:
			return appendInt(b, -1)
		}
		left := e.ExpireAt - d.nowMillis()
		return appendInt(b, int((left+unit/2)/unit))
	}
}

func cmdPersist(d *db, args [][]byte, b []byte) []byte {
	e := d.entry(args[0])
	if e == nil || e.ExpireAt == 0 {
		return appendInt(b, 0)
	}
	d.typed.Mutate(record{Op: logExpireAt, Key: keyOf(args[0]), A: d.fixed(0)})
	return appendInt(b, 1)
}

// Lists. A string counts as a list of one value for RPUSH, LPUSH and LRANGE, as the contract
// maps them onto KVStore.

func listOrString(e *entry) bool { return e == nil || e.Kind == kindList || e.Kind == kindString }

func cmdPush(op logOp) typedFunc {
	return func(d *db, args [][]byte, b []byte) []byte {
		if !listOrString(d.entry(args[0])) {
			return wrongType(b)
		}
		key := keyOf(args[0])
		for _, v := range args[1:] {
			d.typed.Mutate(record{Op: op, Key: key, A: v})
		}
		return appendInt(b, d.typed.Lookup(key).Len())
	}
}

func cmdPop(op logOp) typedFunc {
	return func(d *db, args [][]byte, b []byte) []byte {
		n, withCount, ok := optCount(args, 1)
		if !ok {
			return appendError(b, msgPositive)
		}
		e, ok := d.of(args[0], kindList)
		switch {
		case !ok:
			return wrongType(b)
		case e == nil && withCount:
			return append(b, "*-1\r\n"...)
		case e == nil:
			return appendNil(b)
		}
		n = min(n, e.Len())
		if withCount {
			b = appendArrayLen(b, n)
		}
		for range n {
			var v []byte
			if op == logLPop {
				v = e.At(0)
			} else {
				v = e.At(e.Len() - 1)
			}
			b = appendBulk(b, v)
			d.typed.Mutate(record{Op: op, Key: keyOf(args[0])})
		}
		return b
	}
}

func cmdLRange(d *db, args [][]byte, b []byte) []byte {
	start, ok1 := parseInt(args[1])
	stop, ok2 := parseInt(args[2])
	if !ok1 || !ok2 {
		return appendError(b, msgNotInt)
	}
	e := d.entry(args[0])
	if !listOrString(e) {
		return wrongType(b)
	}
	// Encoded straight from the list: a long range would otherwise cost a slice of it per
	// request, and the collector's work on every one.
	lo, hi, ok := 0, 0, false
	if e != nil {
		lo, hi, ok = keyspace.ClampRange(e.Len(), int(max(start, math.MinInt32)), int(min(stop, math.MaxInt32)))
	}
	if !ok {
		return appendArrayLen(b, 0)
	}
	b = appendArrayLen(b, hi-lo)
	for r := range e.Runs(lo, hi) {
		b = appendBulkRun(b, r)
	}
	return b
}

func cmdLLen(d *db, args [][]byte, b []byte) []byte {
	e := d.entry(args[0])
	if !listOrString(e) {
		return wrongType(b)
	}
	if e == nil {
		return appendInt(b, 0)
	}
	return appendInt(b, e.Len())
}

// Hashes.

func cmdHSet(ok bool) typedFunc {
	name := "hset"
	if ok {
		name = "hmset"
	}
	return func(d *db, args [][]byte, b []byte) []byte {
		if len(args)%2 != 1 {
			return appendError(b, "wrong number of arguments for '"+name+"' command")
		}
		e, isHash := d.of(args[0], kindHash)
		if !isHash {
			return wrongType(b)
		}
		added := 0
		for i := 1; i < len(args); i += 2 {
			if e == nil || e.Hash[string(args[i])] == nil {
				added++
			}
			d.typed.Mutate(record{Op: logHSet, Key: keyOf(args[0]), A: args[i], B: args[i+1]})
			e = d.typed.Lookup(keyOf(args[0]))
		}
		if ok {
			return appendSimple(b, "OK")
		}
		return appendInt(b, added)
	}
}

func cmdHGet(d *db, args [][]byte, b []byte) []byte {
	e, ok := d.of(args[0], kindHash)
	if !ok {
		return wrongType(b)
	}
	if e == nil || e.Hash[string(args[1])] == nil {
		return appendNil(b)
	}
	return appendBulk(b, e.Hash[string(args[1])])
}

func cmdHDel(d *db, args [][]byte, b []byte) []byte {
	e, ok := d.of(args[0], kindHash)
	if !ok {
		return wrongType(b)
	}
	n := 0
	for _, f := range args[1:] {
		if e != nil && e.Hash[string(f)] != nil {
			d.typed.Mutate(record{Op: logHDel, Key: keyOf(args[0]), A: f})
			n++
		}
	}
	return appendInt(b, n)
}

func cmdHGetAll(d *db, args [][]byte, b []byte) []byte {
	e, ok := d.of(args[0], kindHash)
	if !ok {
		return wrongType(b)
	}
	if e == nil {
		return appendArrayLen(b, 0)
	}
	b = appendArrayLen(b, 2*len(e.Hash))
	for f, v := range e.Hash {
		b = appendBulkString(b, f)
		b = appendBulk(b, v)
	}
	return b
}

func cmdHLen(d *db, args [][]byte, b []byte) []byte {
	e, ok := d.of(args[0], kindHash)
	if !ok {
		return wrongType(b)
	}
	if e == nil {
		return appendInt(b, 0)
	}
	return appendInt(b, len(e.Hash))
}

// Sets.

func cmdSAdd(d *db, args [][]byte, b []byte) []byte {
	e, ok := d.of(args[0], kindSet)
	if !ok {
		return wrongType(b)
	}
	n := 0
	for _, m := range args[1:] {
		if e != nil {
			if _, in := e.Set[string(m)]; in {
				continue
			}
		}
		d.typed.Mutate(record{Op: logSAdd, Key: keyOf(args[0]), A: m})
		e = d.typed.Lookup(keyOf(args[0]))
		n++
	}
	return appendInt(b, n)
}

func cmdSRem(d *db, args [][]byte, b []byte) []byte {
	e, ok := d.of(args[0], kindSet)
	if !ok {
		return wrongType(b)
	}
	n := 0
	for _, m := range args[1:] {
		if e == nil {
			break
		}
		if _, in := e.Set[string(m)]; in {
			d.typed.Mutate(record{Op: logSRem, Key: keyOf(args[0]), A: m})
			n++
		}
	}
	return appendInt(b, n)
}

// cmdSPop removes members in the map's order, which Go randomises; the log records which.
func cmdSPop(d *db, args [][]byte, b []byte) []byte {
	n, withCount, ok := optCount(args, 1)
	if !ok {
		return appendError(b, msgPositive)
	}
	e, ok := d.of(args[0], kindSet)
	switch {
	case !ok:
		return wrongType(b)
	case e == nil && withCount:
		return appendArrayLen(b, 0)
	case e == nil:
		return appendNil(b)
	}
	var one [1]string // SPOP without a count, the common case, picks one: no allocation
	picked := one[:0]
	for m := range e.Set {
		if len(picked) == n {
			break
		}
		picked = append(picked, m)
	}
	if withCount {
		b = appendArrayLen(b, len(picked))
	}
	for _, m := range picked {
		b = appendBulkString(b, m)
		d.typed.Mutate(record{Op: logSRem, Key: keyOf(args[0]), A: viewOf(m)})
	}
	return b
}

func cmdSMembers(d *db, args [][]byte, b []byte) []byte {
	e, ok := d.of(args[0], kindSet)
	if !ok {
		return wrongType(b)
	}
	if e == nil {
		return appendArrayLen(b, 0)
	}
	b = appendArrayLen(b, len(e.Set))
	for m := range e.Set {
		b = appendBulkString(b, m)
	}
	return b
}

func cmdSCard(d *db, args [][]byte, b []byte) []byte {
	e, ok := d.of(args[0], kindSet)
	if !ok {
		return wrongType(b)
	}
	if e == nil {
		return appendInt(b, 0)
	}
	return appendInt(b, len(e.Set))
}

func cmdSIsMember(d *db, args [][]byte, b []byte) []byte {
	e, ok := d.of(args[0], kindSet)
	if !ok {
		return wrongType(b)
	}
	if e != nil {
		if _, in := e.Set[string(args[1])]; in {
			return appendInt(b, 1)
		}
	}
	return appendInt(b, 0)
}

// Sorted sets.

func cmdZAdd(d *db, args [][]byte, b []byte) []byte {
	pairs := args[1:]
	if len(pairs)%2 != 0 {
		return appendError(b, msgSyntax)
	}
	var few [4]float64 // ZADD adds one member, mostly: no allocation
	scores := few[:0]
	for i := 0; i < len(pairs); i += 2 {
		f, ok := parseFloat(pairs[i])
		if !ok {
			return appendError(b, msgNotFloat)
		}
		scores = append(scores, f)
	}
	e, ok := d.of(args[0], kindZSet)
	if !ok {
		return wrongType(b)
	}
	added := 0
	for i, score := range scores {
		m := pairs[2*i+1]
		if e == nil {
			added++
		} else if _, in := e.ZSet.Score(string(m)); !in {
			added++
		}
		d.typed.Mutate(record{Op: logZAdd, Key: keyOf(args[0]), A: m, B: d.fixed(math.Float64bits(score))})
		e = d.typed.Lookup(keyOf(args[0]))
	}
	return appendInt(b, added)
}

func appendScored(b []byte, items []zitem, withScores bool) []byte {
	per := 1
	if withScores {
		per = 2
	}
	b = appendArrayLen(b, per*len(items))
	for _, it := range items {
		b = appendBulkString(b, it.Member)
		if withScores {
			b = appendFloatBulk(b, it.Score)
		}
	}
	return b
}

func cmdZPopMin(d *db, args [][]byte, b []byte) []byte {
	n, _, ok := optCount(args, 1)
	if !ok {
		return appendError(b, msgPositive)
	}
	e, ok := d.of(args[0], kindZSet)
	if !ok {
		return wrongType(b)
	}
	if e == nil {
		return appendArrayLen(b, 0)
	}
	items := e.ZSet.Items()
	var one [1]zitem // ZPOPMIN without a count, the common case, pops one: no allocation
	popped := append(one[:0], items[:min(n, len(items))]...)
	b = appendScored(b, popped, true)
	for _, it := range popped {
		d.typed.Mutate(record{Op: logZRem, Key: keyOf(args[0]), A: viewOf(it.Member)})
	}
	return b
}

func cmdZRange(d *db, args [][]byte, b []byte) []byte {
	withScores := len(args) == 4
	if withScores && !asciiEqualFold(args[3], "WITHSCORES") {
		return appendError(b, msgSyntax)
	}
	start, ok1 := parseInt(args[1])
	stop, ok2 := parseInt(args[2])
	if !ok1 || !ok2 {
		return appendError(b, msgNotInt)
	}
	e, ok := d.of(args[0], kindZSet)
	if !ok {
		return wrongType(b)
	}
	if e == nil {
		return appendArrayLen(b, 0)
	}
	items := e.ZSet.Items()
	lo, hi, ok := keyspace.ClampRange(len(items), int(max(start, math.MinInt32)), int(min(stop, math.MaxInt32)))
	if !ok {
		return appendArrayLen(b, 0)
	}
	return appendScored(b, items[lo:hi], withScores)
}

func cmdZScore(d *db, args [][]byte, b []byte) []byte {
	e, ok := d.of(args[0], kindZSet)
	if !ok {
		return wrongType(b)
	}
	if e != nil {
		if s, in := e.ZSet.Score(string(args[1])); in {
			return appendFloatBulk(b, s)
		}
	}
	return appendNil(b)
}

func cmdZCard(d *db, args [][]byte, b []byte) []byte {
	e, ok := d.of(args[0], kindZSet)
	if !ok {
		return wrongType(b)
	}
	if e == nil {
		return appendInt(b, 0)
	}
	return appendInt(b, e.ZSet.Len())
}
