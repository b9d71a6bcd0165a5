package kvserver

import "bytes"

// MaxLine is the longest request a client may send: a text line longer than this (not counting
// its "\n"), or a RESP frame longer than maxFrame, closes that client.
const MaxLine = 1 << 20

// QueueLines is the length of each client's outgoing queue: text lines, or RESP replies.
const QueueLines = 500

// The text protocol's verbs.
var (
	verbPut    = []byte("Put")
	verbGet    = []byte("Get")
	verbDelete = []byte("Delete")
	verbUpdate = []byte("Update")
)

// Reasons sent back as "ERR <reason>" for malformed text lines. None contains ':' so that an
// error can never be mistaken for a "key:value" Get reply.
const (
	reasonEmpty     = "empty request"
	reasonVerb      = "unknown verb (want Put, Get, Delete or Update)"
	reasonEmptyKey  = "empty key"
	reasonPutArgs   = "Put needs a key and a value"
	reasonGetArgs   = "Get needs exactly one key"
	reasonDelArgs   = "Delete needs exactly one key"
	reasonUpdateArg = "Update needs a key, an old value and a new value"
)

// request is one parsed request: its operation and its arguments, args[lo:hi] of the slice
// the parser appended them to (the command name of a RESP request is not among them).
// A malformed request has op opBad and says why in reason; it is answered in order like any
// other.
type request struct {
	op     op
	reason string
	run    typedFunc // the command on a typed store (typed.go), if it has one
	lo, hi int32
}

// parseLine parses one text-protocol line (without its "\n"; a trailing "\r" is ignored, so
// CRLF clients work) and appends the request's arguments, slices of line, to args.
func parseLine(line []byte, args [][]byte) (request, [][]byte) {
	line = bytes.TrimSuffix(line, []byte{'\r'})
	lo := int32(len(args))
	bad := func(reason string) (request, [][]byte) {
		return request{op: opBad, reason: reason, lo: lo, hi: lo}, args[:lo]
	}
	if len(line) == 0 {
		return bad(reasonEmpty)
	}
	verb, rest, _ := bytes.Cut(line, []byte{':'})
	var r request
	switch {
	case bytes.Equal(verb, verbPut):
		key, value, ok := bytes.Cut(rest, []byte{':'})
		if !ok {
			return bad(reasonPutArgs)
		}
		r.op, args = opPut, append(args, key, value)
	case bytes.Equal(verb, verbGet), bytes.Equal(verb, verbDelete):
		r.op = opGet
		reason := reasonGetArgs
		if bytes.Equal(verb, verbDelete) {
			r.op, reason = opDelete, reasonDelArgs
		}
		if len(verb) == len(line) || bytes.IndexByte(rest, ':') >= 0 {
			return bad(reason)
		}
		args = append(args, rest)
	case bytes.Equal(verb, verbUpdate):
		key, tail, ok1 := bytes.Cut(rest, []byte{':'})
		oldValue, newValue, ok2 := bytes.Cut(tail, []byte{':'})
		if !ok1 || !ok2 || bytes.IndexByte(newValue, ':') >= 0 {
			return bad(reasonUpdateArg)
		}
		r.op, args = opUpdate, append(args, key, oldValue, newValue)
	default:
		return bad(reasonVerb)
	}
	if len(args[lo]) == 0 {
		return bad(reasonEmptyKey)
	}
	r.lo, r.hi = lo, int32(len(args))
	return r, args
}

// appendLine appends the Get reply line "key:value\n".
func appendLine(b []byte, key, value []byte) []byte {
	b = append(b, key...)
	b = append(b, ':')
	b = append(b, value...)
	return append(b, '\n')
}

// appendErrLine appends the reply "ERR <reason>\n" to a malformed line.
func appendErrLine(b []byte, reason string) []byte {
	b = append(b, "ERR "...)
	b = append(b, reason...)
	return append(b, '\n')
}
