package kvserver

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"ds440/kvserver/internal/keyspace"
)

// maxBulk is the longest RESP bulk string a request may hold: Redis's proto-max-bulk-len.
const maxBulk = 512 << 20

// maxFrame is the largest RESP request frame: one maxBulk value plus its key and headers. It
// bounds what one client's read buffer may grow to, as Redis's client-query-buffer-limit does.
const maxFrame = maxBulk + 1<<20

// maxInline is the longest inline command line, as in Redis.
const maxInline = 64 << 10

// maxArgs bounds the argument count a frame may announce, as Redis does.
const maxArgs = 1 << 20

// maxHeader is the longest "*N" or "$N" header line: a sign, 19 digits and "\r\n".
const maxHeader = 22

// errIncomplete means the buffer holds only the beginning of a frame: read more and retry.
var errIncomplete = errors.New("kvserver: incomplete RESP frame")

// protocolError is malformed RESP. The client gets "-ERR Protocol error: <msg>" and is closed,
// because after bad framing nothing that follows can be trusted to start a frame.
type protocolError string

func (e protocolError) Error() string { return "kvserver: RESP protocol error: " + string(e) }

const (
	errNotArray      = protocolError("expected '*'")
	errNotBulk       = protocolError("expected '$'")
	errBadLength     = protocolError("invalid length")
	errNegativeCount = protocolError("invalid multibulk length")
	errNegativeBulk  = protocolError("invalid bulk length")
	errBulkTooLong   = protocolError("invalid bulk length")
	errInlineTooLong = protocolError("too big inline request")
	errTooManyArgs   = protocolError("too many arguments")
	errMissingCRLF   = protocolError("bulk string not followed by CRLF")
)

// parseRESP decodes the request frame at the front of buf, an array of bulk strings
// ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), appending its elements (slices of buf) to args. It returns
// the bytes consumed. An empty array ("*0\r\n") consumes its bytes and appends nothing. If buf
// holds only part of a frame it returns errIncomplete and args unchanged; malformed input
// returns a protocolError.
func parseRESP(buf []byte, args [][]byte) ([][]byte, int, error) {
	n0 := len(args)
	if len(buf) == 0 {
		return args, 0, errIncomplete
	}
	if buf[0] != '*' {
		return args, 0, errNotArray
	}
	count, pos, err := parseHeader(buf, 1)
	if err != nil {
		return args, 0, err
	}
	switch {
	case count < 0:
		return args, 0, errNegativeCount
	case count > maxArgs:
		return args, 0, errTooManyArgs
	}
	for i := int64(0); i < count; i++ {
		if pos >= len(buf) {
			return args[:n0], 0, errIncomplete
		}
		if buf[pos] != '$' {
			return args[:n0], 0, errNotBulk
		}
		var start, end int
		if d := buf[pos+1 : min(pos+4, len(buf))]; len(d) == 3 && d[0]-'0' < 10 && d[1] == '\r' && d[2] == '\n' {
			start = pos + 4 // "$N\r\n", one digit: most keys and values are that short
			end = start + int(d[0]-'0')
		} else {
			size, at, err := parseHeader(buf, pos+1)
			switch {
			case err != nil:
				return args[:n0], 0, err
			case size < 0:
				return args[:n0], 0, errNegativeBulk
			case size > maxBulk:
				return args[:n0], 0, errBulkTooLong
			}
			start, end = at, at+int(size)
		}
		if end+2 > len(buf) {
			return args[:n0], 0, errIncomplete
		}
		if buf[end] != '\r' || buf[end+1] != '\n' {
			return args[:n0], 0, errMissingCRLF
		}
		args = append(args, buf[start:end])
		pos = end + 2
	}
	return args, pos, nil
}

// parseRequest decodes the request at the front of buf: a RESP frame if it starts with '*',
// otherwise an inline command, a line of words separated by spaces (as redis-cli's telnet
// mode and redis-benchmark's PING_INLINE send). An empty line appends nothing.
func parseRequest(buf []byte, args [][]byte) ([][]byte, int, error) {
	if len(buf) > 0 && buf[0] != '*' {
		return parseInline(buf, args)
	}
	return parseRESP(buf, args)
}

// parseInline decodes one inline command line, appending its words (slices of buf) to args.
func parseInline(buf []byte, args [][]byte) ([][]byte, int, error) {
	end := bytes.IndexByte(buf, '\n')
	if end < 0 {
		if len(buf) > maxInline {
			return args, 0, errInlineTooLong
		}
		return args, 0, errIncomplete
	}
	if end > maxInline {
		return args, 0, errInlineTooLong
	}
	return appendFields(args, buf[:end]), end + 1, nil
}

// asciiSpace marks the bytes bytes.Fields splits an ASCII line at.
var asciiSpace = [256]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// appendFields appends the words of line, split as bytes.Fields splits it, to args. An ASCII
// line, every inline command redis-benchmark and redis-cli send, is split here without the
// slice bytes.Fields would allocate per line.
func appendFields(args [][]byte, line []byte) [][]byte {
	for _, c := range line {
		if c >= utf8.RuneSelf {
			return append(args, bytes.Fields(line)...)
		}
	}
	for i := 0; i < len(line); {
		for i < len(line) && asciiSpace[line[i]] {
			i++
		}
		start := i
		for i < len(line) && !asciiSpace[line[i]] {
			i++
		}
		if i > start {
			args = append(args, line[start:i:i])
		}
	}
	return args
}

// isInlineStart reports whether the first bytes a client sends, which do not start with '*',
// are a Redis inline command rather than a line of the text protocol, and whether enough has
// arrived to tell. They are an inline command when their first word, up to a space, tab, CR
// or LF, is a known command name in any case but the text protocol's own verbs (Put, Get,
// Delete, Update, exactly so capitalised); a text request always puts ':' right after its verb.
func isInlineStart(in []byte) (inline, decided bool) {
	i := bytes.IndexAny(in, " \t\r\n:")
	if i < 0 {
		return false, len(in) > longestCommand
	}
	word := in[:i]
	if in[i] == ':' || len(word) > longestCommand {
		return false, true
	}
	switch string(word) {
	case "Put", "Get", "Delete", "Update":
		return false, true
	}
	return lookupCommand(word) != nil, true
}

// parseHeader reads the decimal integer and "\r\n" starting at buf[pos] and returns the integer
// and the position after the "\r\n".
func parseHeader(buf []byte, pos int) (int64, int, error) {
	var n int64
	neg := false
	digits := 0
	for i := pos; i < len(buf); i++ {
		c := buf[i]
		switch {
		case c >= '0' && c <= '9' && digits < 18:
			n = n*10 + int64(c-'0')
			digits++
		case c == '-' && i == pos:
			neg = true
		case c == '\r' && digits > 0:
			if i+1 == len(buf) {
				return 0, 0, errIncomplete
			}
			if buf[i+1] != '\n' {
				return 0, 0, errBadLength
			}
			if neg {
				n = -n
			}
			return n, i + 2, nil
		default:
			return 0, 0, errBadLength
		}
	}
	return 0, 0, errIncomplete
}

// command describes one RESP command: its operation and how many arguments it takes, counting
// its name (maxArgs -1 means no limit).
type command struct {
	op         op
	min, max   int
	arity      string    // the wrong-number-of-arguments reason, computed once
	run        typedFunc // on a store with the typed keyspace, this runs the command instead
	needsTyped string    // an opTyped command's answer on any other store
}

// commands maps upper-case command names to their descriptions.
var commands = func() map[string]command {
	m := map[string]command{
		"PING":     {op: opPing, min: 1, max: 2},
		"ECHO":     {op: opEcho, min: 2, max: 2},
		"SET":      {op: opSet, min: 3, max: -1},
		"GET":      {op: opGetLast, min: 2, max: 2},
		"RPUSH":    {op: opRPush, min: 3, max: -1},
		"LPUSH":    {op: opLPush, min: 3, max: -1},
		"LRANGE":   {op: opLRange, min: 4, max: 4},
		"LLEN":     {op: opLLen, min: 2, max: 2},
		"DEL":      {op: opDel, min: 2, max: -1},
		"EXISTS":   {op: opExists, min: 2, max: -1},
		"KVUPDATE": {op: opKVUpdate, min: 4, max: 4},
		"DBSIZE":   {op: opDBSize, min: 1, max: 1},
		"FLUSHALL": {op: opFlushAll, min: 1, max: 2},
		"SELECT":   {op: opSelect, min: 2, max: 2},
		"QUIT":     {op: opQuit, min: 1, max: -1},
		"COMMAND":  {op: opCommand, min: 1, max: -1},
		"CONFIG":   {op: opConfig, min: 2, max: -1},
	}
	for name, t := range typedCommands {
		c, ok := m[name]
		if !ok {
			c = command{op: opTyped, min: t.min, max: t.max,
				needsTyped: name + " needs a store that holds typed values (the memory store or a FileStore)"}
		}
		c.run = t.run
		m[name] = c
	}
	for name, c := range m {
		c.arity = "wrong number of arguments for '" + strings.ToLower(name) + "' command"
		m[name] = c
	}
	return m
}()

// longestCommand is the length of the longest name in commands.
const longestCommand = len("SISMEMBER")

// commandIndex holds the commands by name length and first letter (A to Z as 0 to 25): a
// request's command is found by comparing its name with the two or three names of its bucket,
// ignoring case, instead of upper-casing a copy of it and hashing that into commands.
var commandIndex = func() (idx [longestCommand + 1][26][]namedCommand) {
	for name, c := range commands {
		for _, r := range name {
			if r < 'A' || r > 'Z' {
				panic("kvserver: command name " + name + " is not upper-case letters: lookupCommand cannot fold it")
			}
		}
		bucket := &idx[len(name)][name[0]-'A']
		*bucket = append(*bucket, namedCommand{name, &c})
	}
	return idx
}()

// namedCommand is an entry of commandIndex.
type namedCommand struct {
	name string // upper case
	*command
}

// lookupCommand returns the command called name, in any case, or nil.
func lookupCommand(name []byte) *command {
	if len(name) == 0 || len(name) > longestCommand {
		return nil
	}
	first := name[0] | 0x20 - 'a' // a letter of either case becomes 0 to 25, anything else more
	if first >= 26 {
		return nil
	}
	for _, c := range commandIndex[len(name)][first] {
		if foldEqual(name, c.name) {
			return c.command
		}
	}
	return nil
}

// foldEqual reports whether b equals upper, a word of upper-case letters, ignoring case: with
// the letter bit (0x20) cleared, a byte equals a letter only if it is that letter in either case.
func foldEqual(b []byte, upper string) bool {
	if len(b) != len(upper) {
		return false
	}
	for i, c := range b {
		if c&^0x20 != upper[i] {
			return false
		}
	}
	return true
}

// classify turns a decoded RESP frame into a request: args[0] is the command name, args[1:] its
// arguments. Unknown commands and wrong argument counts become opBad requests whose reason
// the client receives as "-ERR <reason>".
func classify(args [][]byte, lo int) request {
	from, to := int32(lo+1), int32(len(args))
	c := lookupCommand(args[lo])
	switch n := len(args) - lo; {
	case c == nil:
		return request{op: opBad, reason: unknownCommand(args[lo:]), lo: from, hi: to}
	case n < c.min || (c.max >= 0 && n > c.max):
		return request{op: opBad, reason: c.arity, lo: from, hi: to}
	}
	return request{op: c.op, reason: c.needsTyped, run: c.run, lo: from, hi: to}
}

// unknownCommand is the reason for an unknown command, worded as Redis 7 words it, with at
// most 128 bytes of the name and of the arguments and CR and LF made spaces so that the reply
// stays one line.
func unknownCommand(args [][]byte) string {
	oneLine := func(b []byte, n int) string {
		if len(b) > n {
			b = b[:n]
		}
		return strings.NewReplacer("\r", " ", "\n", " ").Replace(string(b))
	}
	var sb strings.Builder
	sb.WriteString("unknown command '" + oneLine(args[0], 128) + "', with args beginning with: ")
	room := 128
	for _, a := range args[1:] {
		if room <= 0 {
			break
		}
		part := "'" + oneLine(a, room) + "' "
		sb.WriteString(part)
		room -= len(part)
	}
	return sb.String()
}

// RESP reply encoders.

func appendSimple(b []byte, s string) []byte {
	b = append(b, '+')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// appendRawError appends an error reply whose message carries its own code ("WRONGTYPE ...").
func appendRawError(b []byte, msg string) []byte {
	b = append(b, '-')
	b = append(b, msg...)
	return append(b, '\r', '\n')
}

func appendBulkString(b []byte, s string) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

func appendError(b []byte, msg string) []byte {
	b = append(b, "-ERR "...)
	b = append(b, msg...)
	return append(b, '\r', '\n')
}

func appendInt(b []byte, n int) []byte {
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}

func appendBulk(b []byte, v []byte) []byte {
	if len(v) >= 10 {
		return appendLongBulk(b, v)
	}
	b = append(append(b, '$', byte('0'+len(v)), '\r', '\n'), v...) // the common short value, inlined
	return append(b, '\r', '\n')
}

func appendLongBulk(b []byte, v []byte) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(v)), 10)
	b = append(b, '\r', '\n')
	b = append(b, v...)
	return append(b, '\r', '\n')
}

// appendBulkRun appends the values of r, in list order, as bulk strings.
func appendBulkRun(b []byte, r keyspace.Run) []byte {
	// Room for them all at once, a header and its CRLFs taking 14 bytes for a value of up to
	// maxBulk (9 digits), so that the loop writes short values in place without copying b again
	// (a longer value, which APPEND can make, has its own append).
	b = slices.Grow(b, r.Bytes()+14*r.Len())
	data, ends := r.Data, r.Ends
	k, step, stop := 0, 1, len(ends)
	if r.Reversed {
		k, step, stop = len(ends)-1, -1, -1
	}
	for ; k != stop; k += step {
		start := r.Start
		if k > 0 {
			start = ends[k-1]
		}
		v := data[start:ends[k]]
		if len(v) >= 10 {
			b = appendLongBulk(b, v)
			continue
		}
		n := len(b)
		if cap(b)-n < 6+len(v) { // only after values of 1 GB or more
			b = slices.Grow(b, 6+len(v))
		}
		b = b[:n+6+len(v)]
		b[n], b[n+1], b[n+2], b[n+3] = '$', byte('0'+len(v)), '\r', '\n'
		copy(b[n+4:], v)
		b[n+4+len(v)], b[n+5+len(v)] = '\r', '\n'
	}
	return b
}

func appendNil(b []byte) []byte { return append(b, "$-1\r\n"...) }

func appendArrayLen(b []byte, n int) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}
