package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"
)

// demo is a program with one flag of each kind and two positional arguments.
func demo(run func(ctx context.Context, env *Env) error) (Command, *time.Duration, *int) {
	delay, n := new(time.Duration), new(int)
	return Command{
		Name:    "demo",
		Args:    "HOST:PORT MAXNONCE",
		Doc:     "Demo does nothing useful.",
		MinArgs: 2, MaxArgs: 2,
		Flags: func(fs *flag.FlagSet) {
			DurationVar(fs, delay, "delay", time.Second, "how long to wait")
			IntVar(fs, n, "n", 3, "how many")
		},
		Run: run,
	}, delay, n
}

func run(c Command, args ...string) (status int, stdout, stderr string) {
	return c.Capture(context.Background(), nil, args...)
}

func TestExitStatuses(t *testing.T) {
	t.Parallel()
	ok := func(context.Context, *Env) error { return nil }
	for _, tc := range []struct {
		name       string
		args       []string
		run        func(context.Context, *Env) error
		status     int
		wantStdout string
		wantStderr string
	}{
		{"help", []string{"-h"}, ok, 0, "usage: demo [flags] HOST:PORT MAXNONCE", ""},
		{"help long", []string{"--help"}, ok, 0, "Demo does nothing useful.", ""},
		{"ok", []string{"a", "1"}, ok, 0, "", ""},
		{"too few", []string{"a"}, ok, 2, "", "demo: expected 2 arguments, got 1\nusage: demo"},
		{"too many", []string{"a", "1", "x"}, ok, 2, "", "expected 2 arguments, got 3"},
		{"unknown flag", []string{"-nope", "a", "1"}, ok, 2, "", "flag provided but not defined: -nope"},
		{"negative duration", []string{"-delay", "-5s", "a", "1"}, ok, 2, "", `invalid value "-5s" for flag -delay: must not be negative`},
		{"bad duration", []string{"-delay", "soon", "a", "1"}, ok, 2, "", "want a duration such as 250ms"},
		{"negative int", []string{"-n", "-5", "a", "1"}, ok, 2, "", `invalid value "-5" for flag -n: must not be negative`},
		{"usage error from Run", []string{"a", "1"}, func(context.Context, *Env) error { return Usagef("bad MAXNONCE") }, 2, "", "demo: bad MAXNONCE\nusage: demo"},
		{"failure", []string{"a", "1"}, func(context.Context, *Env) error { return errors.New("server unreachable") }, 1, "", "demo: server unreachable\n"},
		{"status of its own", []string{"a", "1"}, func(context.Context, *Env) error { return &StatusError{Status: 3} }, 3, "", ""},
		{"status with a reason", []string{"a", "1"}, func(context.Context, *Env) error {
			return fmt.Errorf("lookup: %w", &StatusError{Status: 4, Err: errors.New("key absent")})
		}, 4, "", "demo: key absent\n"},
		{"wrapped usage error", []string{"a", "1"}, func(context.Context, *Env) error { return fmt.Errorf("parsing: %w", Usagef("x")) }, 2, "", "usage: demo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, _, _ := demo(tc.run)
			status, stdout, stderr := run(c, tc.args...)
			if status != tc.status || !strings.Contains(stdout, tc.wantStdout) || !strings.Contains(stderr, tc.wantStderr) {
				t.Fatalf("status %d, stdout %q, stderr %q; want %d, %q, %q", status, stdout, stderr, tc.status, tc.wantStdout, tc.wantStderr)
			}
			if tc.status == 0 && stderr != "" {
				t.Fatalf("stderr %q on success", stderr)
			}
			if tc.status == 2 && strings.Count(stderr, "usage: demo") != 1 {
				t.Fatalf("usage printed %d times on stderr: %q", strings.Count(stderr, "usage: demo"), stderr)
			}
			if tc.status != 1 && strings.Contains(stderr, "goroutine ") {
				t.Fatalf("stack trace on stderr: %s", stderr)
			}
		})
	}
}

func TestFlagsAndArgsReachRun(t *testing.T) {
	t.Parallel()
	var got *Env
	c, delay, n := demo(func(_ context.Context, env *Env) error { got = env; return nil })
	if status, _, stderr := run(c, "-delay", "250ms", "-n", "7", "host:1", "42"); status != 0 {
		t.Fatalf("status %d: %s", status, stderr)
	}
	if *delay != 250*time.Millisecond || *n != 7 || strings.Join(got.Args, " ") != "host:1 42" {
		t.Fatalf("delay %v, n %d, args %q", *delay, *n, got.Args)
	}
}

func TestNoArgumentsProgram(t *testing.T) {
	t.Parallel()
	c := Command{Name: "serve", Run: func(context.Context, *Env) error { return nil }}
	status, _, stderr := run(c, "stray")
	if status != 2 || !strings.Contains(stderr, `unexpected arguments ["stray"]`) {
		t.Fatalf("status %d, stderr %q", status, stderr)
	}
	if status, stdout, _ := run(c, "-h"); status != 0 || !strings.HasPrefix(stdout, "usage: serve\n") {
		t.Fatalf("-h: status %d, stdout %q", status, stdout)
	}
}

func TestUint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want uint64
		err  string
	}{
		{"0", 0, ""},
		{"18446744073709551615", 1<<64 - 1, ""},
		{"18446744073709551616", 0, "is too large: at most 18446744073709551615"},
		{"-1", 0, "is not a whole number >= 0"},
		{"12x", 0, "is not a whole number >= 0"},
	} {
		v, err := Uint("MAXNONCE", tc.in)
		var usage *UsageError
		if tc.err == "" && (err != nil || v != tc.want) || tc.err != "" && (!errors.As(err, &usage) || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Uint(%q) = %d, %v; want %d, %q", tc.in, v, err, tc.want, tc.err)
		}
	}
	if _, err := Port("PORT", "70000"); err == nil {
		t.Error("Port accepted 70000")
	}
	if p, err := Port("PORT", "0"); err != nil || p != 0 {
		t.Errorf("Port(0) = %d, %v", p, err)
	}
}
