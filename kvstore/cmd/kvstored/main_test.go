package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

func kvstored(ctx context.Context, args ...string) (status int, stdout, stderr string) {
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
		{[]string{"-actors", "0"}, 2, "kvstored: -actors must be at least 1\nusage:"},
		{[]string{"-latency", "-1s"}, 2, `invalid value "-1s" for flag -latency: must not be negative`},
		{[]string{"-drop-after", "0s"}, 2, "-drop-after must be positive"},
		{[]string{"-port", "65535"}, 2, "out of range"},
		{[]string{"-peer-acks", "-1"}, 2, `invalid value "-1" for flag -peer-acks`},
		{[]string{"-put-timeout", "0s"}, 2, "-put-timeout must be positive"},
		{[]string{"-port", "0", "nodesc"}, 2, `kvstored: kvstore: malformed server desc "nodesc"`},
	} {
		status, _, stderr := kvstored(context.Background(), tc.args...)
		if status != tc.status || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("kvstored %q: status %d, stderr %q; want %d, %q", tc.args, status, stderr, tc.status, tc.stderr)
		}
	}
}

// With its context ended (SIGINT), kvstored prints its desc, closes and exits 0.
func TestServesUntilCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	status, stdout, stderr := kvstored(ctx, "-port", "0", "-actors", "2")
	if status != 0 || !regexp.MustCompile(`^127\.0\.0\.1:\d+/\d+,\d+\n$`).MatchString(stdout) || !strings.Contains(stderr, "kvstored stopped") {
		t.Fatalf("status %d, stdout %q, stderr %q", status, stdout, stderr)
	}
}
