package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func execCmud(stdin io.Reader, args ...string) (status int, stdout, stderr string) {
	return program().Capture(context.Background(), stdin, args...)
}

func TestCommandLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args   []string
		status int
		stderr string
	}{
		{[]string{"-h"}, 0, ""},
		{[]string{"-delay", "-5s"}, 2, `invalid value "-5s" for flag -delay: must not be negative`},
		{[]string{"-delay", "soon"}, 2, "want a duration such as 250ms"},
		{[]string{"extra"}, 2, `unexpected arguments ["extra"]`},
		{[]string{"-server", " , "}, 2, "cmud: -server needs at least one HOST:PORT\nusage: cmud"},
		{[]string{"-server", "127.0.0.1:1", "-data", "w.json"}, 2, "cmud: -data keeps the world of the in-process server"},
	} {
		status, stdout, stderr := execCmud(strings.NewReader(""), tc.args...)
		if status != tc.status || !strings.Contains(stderr, tc.stderr) || status == 0 && !strings.Contains(stdout, "-data") {
			t.Errorf("cmud %q: status %d, stdout %q, stderr %q; want %d, %q", tc.args, status, stdout, stderr, tc.status, tc.stderr)
		}
	}
}

// cmud </dev/null prints no prompt and ends at once, cleanly.
func TestDevNullIsNotATerminal(t *testing.T) {
	t.Parallel()
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if isTerminal(null) || isTerminal(strings.NewReader("")) {
		t.Fatal("isTerminal is true for /dev/null or a string")
	}
	status, stdout, stderr := execCmud(null, "-data", "", "-delay", "0")
	if status != 0 || stdout != "" || stderr != "" {
		t.Fatalf("status %d, stdout %q, stderr %q; want 0 and nothing", status, stdout, stderr)
	}
}

// The embedded world is kept in the -data file: a player who quits is welcomed back.
func TestDataFileKeepsTheWorld(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "dir", "world.json")
	status, stdout, stderr := execCmud(strings.NewReader("mine 3\nbuy cpu 2\nquit\n"), "-name", "ada", "-delay", "0", "-data", data)
	if status != 0 || !strings.Contains(stdout, "Welcome to CMUD, ada") || !strings.Contains(stdout, "The world is kept in "+data) {
		t.Fatalf("first game: status %d, stdout %q, stderr %q", status, stdout, stderr)
	}
	status, stdout, stderr = execCmud(strings.NewReader("inv\n"), "-name", "ada", "-delay", "0", "-data", data)
	if status != 0 || !strings.Contains(stdout, "Welcome back, ada") || !strings.Contains(stdout, "cpu          x3") {
		t.Fatalf("second game: status %d, stdout %q, stderr %q", status, stdout, stderr)
	}

	if err := os.WriteFile(data, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	status, _, stderr = execCmud(strings.NewReader(""), "-name", "ada", "-data", data)
	if status != 1 || !strings.HasPrefix(stderr, "cmud: cannot load the world from "+data) || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("corrupt file: status %d, stderr %q; want 1 and one line", status, stderr)
	}
}

// With -data "" the world lives only as long as the game, and the farewell says so rather than
// promising to keep the player's place.
func TestNoDataFileSaysSo(t *testing.T) {
	t.Parallel()
	status, stdout, stderr := execCmud(strings.NewReader("mine 1\nquit\n"), "-name", "ada", "-delay", "0", "-data", "")
	if status != 0 || !strings.Contains(stdout, "Goodbye, ada.") || !strings.Contains(stdout, "This world is not kept") {
		t.Fatalf("status %d, stdout %q, stderr %q", status, stdout, stderr)
	}
}
