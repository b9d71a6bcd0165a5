package kvserver

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
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
		size, start, err := parseHeader(buf, pos+1)
		switch {
		case err != nil:
			return args[:n0], 0, err
		case size < 0:
			return args[:n0], 0, errNegativeBulk
		case size > maxBulk:
			return args[:n0], 0, errBulkTooLong
		}
		end := start + int(size)
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
	for _, w := range bytes.Fields(buf[:end]) {
		args = append(args, w)
	}
	return args, end + 1, nil
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
	var upper [longestCommand]byte
	for j, c := range word {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		upper[j] = c
	}
	_, known := commands[string(upper[:len(word)])]
	return known, true
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

// classify turns a decoded RESP frame into a request: args[0] is the command name, args[1:] its
// arguments. Unknown commands and wrong argument counts become opBad requests whose reason
// the client receives as "-ERR <reason>".
func classify(args [][]byte, lo int) request {
	name := args[lo]
	n := len(args) - lo
	r := request{lo: int32(lo + 1), hi: int32(len(args))}
	var upper [longestCommand]byte
	if len(name) > len(upper) {
		r.op, r.reason = opBad, unknownCommand(args[lo:])
		return r
	}
	for i, c := range name {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		upper[i] = c
	}
	c, ok := commands[string(upper[:len(name)])]
	switch {
	case !ok:
		r.op, r.reason = opBad, unknownCommand(args[lo:])
	case n < c.min || (c.max >= 0 && n > c.max):
		r.op, r.reason = opBad, c.arity
	default:
		r.op, r.run = c.op, c.run
		if c.op == opTyped {
			r.reason = c.needsTyped
		}
	}
	return r
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
	if n := len(v); n < 10 { // the common short value, without strconv
		b = append(b, '$', byte('0'+n), '\r', '\n')
	} else {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, '\r', '\n')
	}
	b = append(b, v...)
	return append(b, '\r', '\n')
}

func appendNil(b []byte) []byte { return append(b, "$-1\r\n"...) }

func appendArrayLen(b []byte, n int) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}
