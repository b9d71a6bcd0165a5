package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

func execActorbench(ctx context.Context, args ...string) (status int, stdout, stderr string) {
	return program().Capture(ctx, nil, args...)
}

func TestCommandLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args   []string
		status int
		stderr string
	}{
		{[]string{"-h"}, 0, ""},
		{nil, 2, "actorbench: give either -serve or -connect HOST:PORT\nusage: actorbench"},
		{[]string{"-serve", "-connect", "x:1"}, 2, "give either -serve or -connect"},
		{[]string{"-connect", "x:1", "-n", "-5"}, 2, `invalid value "-5" for flag -n: must not be negative`},
		{[]string{"-connect", "x:1", "-n", "0"}, 2, "actorbench: -n must be at least 1"},
		{[]string{"-connect", "x:1", "-timeout", "-1s"}, 2, `invalid value "-1s" for flag -timeout: must not be negative`},
		{[]string{"-connect", "nowhere"}, 2, `-connect "nowhere" is not HOST:PORT`},
		{[]string{"-serve", "-port", "70000"}, 2, "-port 70000 is not a port number"},
		{[]string{"-serve", "extra"}, 2, `unexpected arguments ["extra"]`},
	} {
		status, stdout, stderr := execActorbench(context.Background(), tc.args...)
		if status != tc.status || !strings.Contains(stderr, tc.stderr) || status == 0 && !strings.HasPrefix(stdout, "usage: actorbench") {
			t.Errorf("actorbench %q: status %d, stdout %q, stderr %q; want %d, %q", tc.args, status, stdout, stderr, tc.status, tc.stderr)
		}
	}
}

// A driver pointed at an address nobody serves, or a host that does not resolve, fails at once
// with one line instead of waiting for its streams to time out.
func TestUnreachablePeerFailsFast(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	for _, addr := range []string{closed, "no-such-host.invalid:7000"} {
		start := time.Now()
		status, _, stderr := execActorbench(context.Background(), "-connect", addr, "-dial-timeout", "3s", "-n", "10", "-pings", "1")
		if status != 1 || !strings.HasPrefix(stderr, "actorbench: cannot reach "+addr+": ") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("-connect %s: status %d, stderr %q; want 1 and one line", addr, status, stderr)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("-connect %s took %v", addr, d)
		}
	}
}

// A checker serves until its context ends (SIGINT) and then exits 0; a driver streams to it.
func TestServeAndDrive(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut, serveErr bytes.Buffer
	served := make(chan int, 1)
	r, w := newLineWriter()
	go func() { served <- program().Exec(ctx, []string{"-serve"}, strings.NewReader(""), w, &serveErr) }()
	var line string
	select {
	case line = <-r:
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("serve printed nothing")
	}
	addr, _, ok := strings.Cut(strings.TrimPrefix(line, "actorbench: serving on "), " ")
	if !ok {
		t.Fatalf("serve printed %q", line)
	}
	status := program().Exec(context.Background(), []string{"-connect", addr, "-n", "1000", "-pings", "5"}, strings.NewReader(""), &out, &errOut)
	if status != 0 || strings.Count(out.String(), "in order") != 2 || !strings.Contains(out.String(), "remote round trip over 5 pings") {
		t.Errorf("driver: status %d, stdout %q, stderr %q", status, out.String(), errOut.String())
	}
	cancel()
	select {
	case s := <-served:
		if s != 0 {
			t.Errorf("serve exited %d", s)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not end after its context")
	}
}

// lineWriter sends each complete line written to it on a channel.
type lineWriter struct {
	buf   []byte
	lines chan string
}

func newLineWriter() (<-chan string, *lineWriter) {
	w := &lineWriter{lines: make(chan string, 16)}
	return w.lines, w
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.lines <- string(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
}
