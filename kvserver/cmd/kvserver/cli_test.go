package main

import (
	"context"
	"strings"
	"testing"
)

// The program behaves as every ds440 program does (internal/cli): -h prints the usage on stdout
// and exits 0, a mistake in the command line prints the reason and the usage and exits 2.
func TestCommandLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args   []string
		status int
		want   string // in stdout for status 0, in stderr otherwise
	}{
		{[]string{"-h"}, 0, "usage: kvserver [flags]\n"},
		{[]string{"-port", "-1"}, 2, `invalid value "-1" for flag -port: must not be negative`},
		{[]string{"-port", "70000"}, 2, "kvserver: -port 70000 is not a port number (0 to 65535)\nusage: kvserver"},
		{[]string{"-port", "0", "extra"}, 2, `kvserver: unexpected arguments ["extra"]`},
		{[]string{"-output-soft-limit", "lots"}, 2, `invalid value "lots" for flag -output-soft-limit`},
	} {
		status, stdout, stderr := program().Capture(context.Background(), nil, tc.args...)
		out := stderr
		if tc.status == 0 {
			out = stdout
		}
		if status != tc.status || !strings.Contains(out, tc.want) || strings.Contains(stderr, "goroutine ") {
			t.Errorf("kvserver %q: status %d, stdout %q, stderr %q; want %d and %q", tc.args, status, stdout, stderr, tc.status, tc.want)
		}
		if tc.status == 2 && !strings.Contains(stderr, "usage: kvserver") {
			t.Errorf("kvserver %q: no usage on stderr", tc.args)
		}
	}
}

// A server whose context ends (SIGINT, SIGTERM) shuts down and exits 0.
func TestCancelExits0(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	status, _, stderr := program().Capture(ctx, nil, "-port", "0")
	if status != 0 || !strings.Contains(stderr, "kvserver listening on 127.0.0.1:") || !strings.Contains(stderr, "shutting down") {
		t.Fatalf("status %d, stderr %q; want 0, the listening line and the shutdown", status, stderr)
	}
}
