package main

import (
	"context"
	"os"
	"strings"
	"testing"
)

// execRaftnode runs raftnode in process with args and returns its exit status and output.
func execRaftnode(ctx context.Context, args ...string) (status int, stdout, stderr string) {
	return program().Capture(ctx, nil, args...)
}

func TestCommandLine(t *testing.T) {
	t.Parallel()
	peers := []string{"-peers", "127.0.0.1:1,127.0.0.1:2"}
	for _, tc := range []struct {
		args   []string
		status int
		want   string // in stdout for status 0, in stderr otherwise
	}{
		{[]string{"-h"}, 0, "usage: raftnode [flags]"},
		{[]string{"-id", "0"}, 2, "raftnode: -peers is required\nusage:"},
		{append([]string{"-id", "2", "-data", "x"}, peers...), 2, "-id must be in [0, 2)"},
		{append([]string{"-id", "0"}, peers...), 2, "-data is required"},
		{append([]string{"-id", "0", "-data", "x", "-heartbeat", "-1s"}, peers...), 2, `invalid value "-1s" for flag -heartbeat: must not be negative`},
		{append([]string{"-id", "0", "-data", "x", "-snapshot-every", "-3"}, peers...), 2, `invalid value "-3" for flag -snapshot-every: must not be negative`},
		{append([]string{"-id", "0", "-data", "x", "-heartbeat", "2s"}, peers...), 2, "need 0 < -heartbeat < -election-timeout"},
		{[]string{"-id", "0", "-peers", "nope", "-data", "x"}, 2, `bad address "nope"`},
		{append([]string{"-id", "0", "-data", "x"}, append(peers, "stray")...), 2, `unexpected arguments ["stray"]`},
	} {
		status, stdout, stderr := execRaftnode(context.Background(), tc.args...)
		out := stderr
		if tc.status == 0 {
			out = stdout
		}
		if status != tc.status || !strings.Contains(out, tc.want) {
			t.Errorf("raftnode %q: status %d, stdout %q, stderr %q; want %d and %q", tc.args, status, stdout, stderr, tc.status, tc.want)
		}
	}
}

// A node that cannot start (its data directory is a file) exits 1 with one line.
func TestStartFailureExits1(t *testing.T) {
	t.Parallel()
	file := t.TempDir() + "/file"
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	status, _, stderr := execRaftnode(context.Background(), "-id", "0", "-peers", "127.0.0.1:0", "-data", file)
	if status != 1 || !strings.HasPrefix(stderr, "raftnode: start: ") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("status %d, stderr %q; want 1 and one line", status, stderr)
	}
}

// A node whose context ends (SIGINT, SIGTERM) closes and exits 0.
func TestCancelExits0(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	status, _, stderr := execRaftnode(ctx, "-id", "0", "-peers", "127.0.0.1:0", "-data", t.TempDir())
	if status != 0 {
		t.Fatalf("status %d, stderr %q", status, stderr)
	}
}
