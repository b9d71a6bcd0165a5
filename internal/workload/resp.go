package workload

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// RESPConn is a minimal Redis-protocol client for the kvserver workload: one command at a
// time, replies decoded into int64, string, nil, []any or an error.
type RESPConn struct {
	c net.Conn
	r *bufio.Reader
}

// ErrReply is a "-ERR ..." reply from the server.
var ErrReply = errors.New("workload: error reply")

// DialRESP connects to a RESP server.
func DialRESP(addr string, timeout time.Duration) (*RESPConn, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	return &RESPConn{c: c, r: bufio.NewReader(c)}, nil
}

// Close closes the connection.
func (c *RESPConn) Close() error { return c.c.Close() }

// Do sends one command and reads its reply within timeout.
func (c *RESPConn) Do(timeout time.Duration, args ...string) (any, error) {
	c.c.SetDeadline(time.Now().Add(timeout))
	buf := fmt.Appendf(nil, "*%d\r\n", len(args))
	for _, a := range args {
		buf = fmt.Appendf(buf, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.c.Write(buf); err != nil {
		return nil, err
	}
	return readReply(c.r)
}

func readReply(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("workload: malformed reply %q", line)
	}
	kind, body := line[0], line[1:len(line)-2]
	switch kind {
	case '+':
		return body, nil
	case '-':
		return nil, fmt.Errorf("%w: %s", ErrReply, body)
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return nil, fmt.Errorf("workload: bad bulk length %q", body)
		}
		if n == -1 {
			return nil, nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		return string(b[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return nil, fmt.Errorf("workload: bad array length %q", body)
		}
		if n == -1 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readReply(r); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("workload: unknown reply type %q", kind)
}
