package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	good = `{"client":1,"kind":"write","key":"k","value":"a","call":0,"return":10}
{"client":2,"kind":"read","key":"k","value":"a","found":true,"call":20,"return":30}
{"client":3,"kind":"cas","key":"k","expect":"a","value":"b","call":40}
`
	bad = good + `{"client":2,"kind":"read","key":"k","found":false,"call":50,"return":60}
`
)

func TestRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	html := filepath.Join(dir, "v.html")
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
		code  int
		out   string
	}{
		{"linearizable", []string{file("good.jsonl", good)}, "", 0, "3 operations: linearizable"},
		{"from stdin", []string{"-"}, good, 0, "3 operations: linearizable"},
		{"violation", []string{"-html", html, file("bad.jsonl", bad)}, "", 1, "4 operations: not linearizable"},
		{"bad input", []string{file("junk.jsonl", "{")}, "", 2, ""},
		{"missing file", []string{filepath.Join(dir, "nope")}, "", 2, ""},
		{"no argument", nil, "", 2, ""},
		{"bad flag", []string{"-bogus", "x"}, "", 2, ""},
		{"help", []string{"-h"}, "", 0, "usage: lincheck"},
	} {
		code, stdout, stderr := command().Capture(t.Context(), strings.NewReader(tc.stdin), tc.args...)
		if code != tc.code || !strings.Contains(stdout, tc.out) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", tc.name, code, stdout, stderr)
		}
	}
	b, err := os.ReadFile(html)
	if err != nil || !bytes.Contains(b, []byte("<svg")) {
		t.Fatalf("timeline: %v", err)
	}
}
