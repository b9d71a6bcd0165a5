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
)

// errProtocol is returned for a reply kvbench cannot parse.
var errProtocol = errors.New("kvbench: malformed reply")

// readRESP reads one complete RESP2 reply and reports whether it was an error reply.
func readRESP(r *bufio.Reader) (isErr bool, err error) {
	return readRESPDepth(r, 0)
}

func readRESPDepth(r *bufio.Reader, depth int) (bool, error) {
	line, err := readLine(r)
	if err != nil {
		return false, err
	}
	if len(line) == 0 {
		return false, fmt.Errorf("%w: empty line", errProtocol)
	}
	switch line[0] {
	case '+', ':':
		return false, nil
	case '-':
		return true, nil
	case '$':
		n, err := strconv.Atoi(string(line[1:]))
		if err != nil || n < -1 || n > maxBulk {
			return false, fmt.Errorf("%w: bulk length %q", errProtocol, line[1:])
		}
		if n == -1 {
			return false, nil // nil bulk: a GET of a missing key
		}
		if _, err := r.Discard(n); err != nil {
			return false, err
		}
		crlf, err := readLine(r)
		if err != nil {
			return false, err
		}
		if len(crlf) != 0 {
			return false, fmt.Errorf("%w: bulk string longer than its length", errProtocol)
		}
		return false, nil
	case '*':
		n, err := strconv.Atoi(string(line[1:]))
		if err != nil || n < -1 || n > maxBulk {
			return false, fmt.Errorf("%w: array length %q", errProtocol, line[1:])
		}
		if depth >= maxArrayDepth {
			return false, fmt.Errorf("%w: arrays nested too deep", errProtocol)
		}
		anyErr := false
		for range n {
			e, err := readRESPDepth(r, depth+1)
			if err != nil {
				return false, err
			}
			anyErr = anyErr || e
		}
		return anyErr, nil
	}
	return false, fmt.Errorf("%w: unexpected type byte %q", errProtocol, line[0])
}

// readLine reads a line ending in \r\n (RESP) or \n (text protocol) and returns it without
// its terminator. The slice is valid until the next read.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("%w: line longer than %d bytes", errProtocol, r.Size())
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
