package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// Limits on what a reply may claim, so a broken or hostile server cannot make kvbench allocate
// or recurse without bound.
const (
	maxBulk       = 512 << 20
	maxArrayDepth = 8
	maxLine       = 64 << 10 // the longest reply line, terminator included: the size of a client's read buffer
)

// errProtocol is returned for a reply kvbench cannot parse.
var errProtocol = errors.New("kvbench: malformed reply")

var errLineTooLong = fmt.Errorf("%w: line longer than %d bytes", errProtocol, maxLine)

// readRESP reads one complete RESP2 reply and reports whether it was an error reply.
func readRESP(r *bufio.Reader) (isErr bool, err error) {
	return readRESPDepth(r, 0)
}

func readRESPDepth(r *bufio.Reader, depth int) (bool, error) {
	line, err := readLine(r)
	if err != nil {
		return false, err
	}
	h, err := parseHeader(line, depth)
	if err != nil {
		return false, err
	}
	if h.bulk >= 0 {
		if _, err := r.Discard(h.bulk); err != nil {
			return false, err
		}
		crlf, err := readLine(r)
		if err != nil {
			return false, err
		}
		if len(crlf) != 0 {
			return false, errBulkTooLong
		}
	}
	anyErr := h.isErr
	for range h.elems {
		e, err := readRESPDepth(r, depth+1)
		if err != nil {
			return false, err
		}
		anyErr = anyErr || e
	}
	return anyErr, nil
}

// parseReply parses the RESP2 reply at the start of b, the bytes received so far, as readRESP
// reads one from a stream: it returns the reply's length and whether it was an error reply, or
// 0 and no error if b holds only the start of one. The event-driven engine reads replies so,
// since a non-blocking read may end anywhere in a reply.
func parseReply(b []byte, depth int) (n int, isErr bool, err error) {
	line, n, err := sliceLine(b)
	if n == 0 || err != nil {
		return 0, false, err
	}
	h, err := parseHeader(line, depth)
	if err != nil {
		return 0, false, err
	}
	if h.bulk >= 0 {
		if len(b)-n < h.bulk {
			return 0, false, nil
		}
		crlf, m, err := sliceLine(b[n+h.bulk:])
		if m == 0 || err != nil {
			return 0, false, err
		}
		if len(crlf) != 0 {
			return 0, false, errBulkTooLong
		}
		n += h.bulk + m
	}
	isErr = h.isErr
	for range h.elems {
		m, e, err := parseReply(b[n:], depth+1)
		if m == 0 || err != nil {
			return 0, false, err
		}
		n += m
		isErr = isErr || e
	}
	return n, isErr, nil
}

// header is what the first line of a reply says: whether it is an error, and what follows it.
type header struct {
	isErr bool
	bulk  int // bytes of a bulk string that follow the line, then a line end; -1 if none
	elems int // replies of an array that follow
}

var errBulkTooLong = fmt.Errorf("%w: bulk string longer than its length", errProtocol)

// parseHeader interprets the first line of a reply (without its line end), at nesting depth:
// the grammar both readRESP and parseReply follow.
func parseHeader(line []byte, depth int) (header, error) {
	h := header{bulk: -1}
	if len(line) == 0 {
		return h, fmt.Errorf("%w: empty line", errProtocol)
	}
	switch line[0] {
	case '+', ':':
		return h, nil
	case '-':
		h.isErr = true
		return h, nil
	case '$':
		n, err := strconv.Atoi(string(line[1:]))
		if err != nil || n < -1 || n > maxBulk {
			return h, fmt.Errorf("%w: bulk length %q", errProtocol, line[1:])
		}
		h.bulk = n // -1 is a nil bulk: a GET of a missing key
		return h, nil
	case '*':
		n, err := strconv.Atoi(string(line[1:]))
		if err != nil || n < -1 || n > maxBulk {
			return h, fmt.Errorf("%w: array length %q", errProtocol, line[1:])
		}
		if depth >= maxArrayDepth {
			return h, fmt.Errorf("%w: arrays nested too deep", errProtocol)
		}
		h.elems = max(n, 0)
		return h, nil
	}
	return h, fmt.Errorf("%w: unexpected type byte %q", errProtocol, line[0])
}

// sliceLine is readLine over the bytes received so far: the line at the start of b without its
// terminator and the length with it, or a length of 0 if b holds no whole line yet.
func sliceLine(b []byte) (line []byte, n int, err error) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		if len(b) >= maxLine {
			return nil, 0, errLineTooLong
		}
		return nil, 0, nil
	}
	if i >= maxLine {
		return nil, 0, errLineTooLong
	}
	line = b[:i]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, i + 1, nil
}

// readLine reads a line ending in \r\n (RESP) or \n (text protocol) and returns it without
// its terminator. The slice is valid until the next read.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, errLineTooLong
	}
	if err != nil {
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// readTextBatch reads the replies of one text-protocol batch, up to and including the reply to
// its fence, and returns how many were ERR lines.
func readTextBatch(r *bufio.Reader, client int) (errs int, err error) {
	fence := append(fenceKey(client), ':')
	for {
		line, err := readLine(r)
		if err != nil {
			return errs, err
		}
		switch {
		case bytes.HasPrefix(line, fence):
			return errs, nil
		case bytes.HasPrefix(line, []byte("ERR")):
			errs++
		case bytes.HasPrefix(line, []byte("-")):
			// No reply of ours starts so: a Redis server rejecting the lines as inline commands.
			return errs, fmt.Errorf("%w: %q is a RESP error, not a text reply (a Redis server wants -proto redis)", errProtocol, line)
		}
	}
}
