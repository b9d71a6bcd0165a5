package main

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"ds440/kvstore"
)

func kvcli(stdin string, args ...string) (status int, stdout, stderr string) {
	return program().Capture(context.Background(), strings.NewReader(stdin), args...)
}

func TestCommands(t *testing.T) {
	t.Parallel()
	server, err := kvstore.New(kvstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	addr := server.QueryAddrs()[0]
	for _, tc := range []struct {
		name           string
		stdin          string
		args           []string
		status         int
		stdout, stderr string // stdout exactly; stderr contained
	}{
		{"help", "", []string{"-h"}, 0, "", ""},
		{"no address", "", nil, 2, "", "kvcli: expected at least 1 argument, got 0\nusage: kvcli"},
		{"unknown command", "", []string{addr, "frobnicate"}, 2, "", `kvcli: bad command "frobnicate"`},
		{"get without key", "", []string{addr, "get"}, 2, "", "usage: kvcli"},
		{"put keeps a quoted value", "", []string{addr, "put", "k", "a  b"}, 0, "OK\n", ""},
		{"get", "", []string{addr, "get", "k"}, 0, "a  b\n", ""},
		{"put joins arguments", "", []string{addr, "put", "j", "x", "y"}, 0, "OK\n", ""},
		{"stdin value is the rest of the line", "put s  two  spaces \nget s\n\nlist s\n", []string{addr}, 0, "OK\n two  spaces \ns= two  spaces \n", ""},
		{"empty value", "put e \nget e\n", []string{addr}, 0, "OK\n\n", ""},
		{"stored (absent)", "put p (absent)\nget p\n", []string{addr}, 0, "OK\n(absent)\n", ""},
		{"absent key", "", []string{addr, "get", "nowhere"}, 3, "", "kvcli: nowhere is absent\n"},
		{"absent key on stdin", "get nowhere\nget k\n", []string{addr}, 3, "a  b\n", "kvcli: nowhere is absent\n"},
		{"bad line on stdin goes on", "frob\nput\nget k\n", []string{addr}, 2, "a  b\n", `kvcli: line 2: bad command "put"`},
		{"server unreachable", "", []string{"127.0.0.1:1", "get", "k"}, 1, "", "kvcli: "},
	} {
		status, stdout, stderr := kvcli(tc.stdin, tc.args...)
		if tc.name == "help" {
			if status != 0 || !strings.Contains(stdout, "rest of the line") || stderr != "" {
				t.Errorf("-h: status %d, stdout %q, stderr %q", status, stdout, stderr)
			}
			continue
		}
		if status != tc.status || stdout != tc.stdout || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%s: status %d, stdout %q, stderr %q; want %d, %q, %q", tc.name, status, stdout, stderr, tc.status, tc.stdout, tc.stderr)
		}
		if tc.status == 1 && strings.Count(stderr, "\n") != 1 {
			t.Errorf("%s: want one line on stderr, got %q", tc.name, stderr)
		}
	}
}

func TestSplitLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"", nil},
		{"  \t ", nil},
		{"get  k", []string{"get", "k"}},
		{"\tlist", []string{"list"}},
		{"list a b", []string{"list", "a", "b"}},
		{"put k v", []string{"put", "k", "v"}},
		{"put  k\t a  b ", []string{"put", "k", " a  b "}},
		{"put k ", []string{"put", "k", ""}},
		{"put k", []string{"put", "k"}},
	} {
		if got := splitLine(tc.line); !slices.Equal(got, tc.want) {
			t.Errorf("splitLine(%q) = %q, want %q", tc.line, got, tc.want)
		}
	}
}

// SIGINT ends a kvcli waiting for its next line on stdin, with status 0.
func TestInterruptWhileReading(t *testing.T) {
	t.Parallel()
	stdin, w := io.Pipe()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		var out, errOut bytes.Buffer
		done <- program().Exec(ctx, []string{"127.0.0.1:1"}, stdin, &out, &errOut)
	}()
	cancel()
	select {
	case status := <-done:
		if status != 0 {
			t.Fatalf("status %d, want 0", status)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("kvcli did not end after its context")
	}
}
