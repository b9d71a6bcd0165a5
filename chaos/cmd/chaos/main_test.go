package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"ds440/internal/testutil"
)

// TestShortRun is the short version of `make chaos` that `make test` runs: every system for
// a few seconds of faults (3 s each; 5 s under DS440_SOAK), each verdict a PASS. The kvstore
// nemesis only pauses servers here, so that its few seconds are spent on faults rather than on
// restarting processes; `make chaos` also SIGKILLs and restarts them. The systems run one
// after another, as in `make chaos`: run side by side, one system's client connections took
// the ephemeral port another's server had just been given (bind: address already in use).
func TestShortRun(t *testing.T) {
	t.Parallel()
	testutil.SkipIfShort(t)
	var out, errOut bytes.Buffer
	total := fmt.Sprintf("%ds", len(systems)*testutil.SoakSize(3, 5))
	status := command().Exec(context.Background(), []string{"-time", total, "-seed", "1", "-raftnode-servers", "3", "-kvstore-kills=false"}, strings.NewReader(""), &out, &errOut)
	t.Log(out.String())
	if status != 0 {
		t.Fatalf("chaos exited %d:\n%s%s", status, out.String(), errOut.String())
	}
	for _, s := range systems {
		if !strings.Contains(out.String(), "PASS "+s.name+":") {
			t.Errorf("no PASS verdict for %s", s.name)
		}
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"-systems", "nope"}, `unknown system "nope"`},
		{[]string{"-systems", "kvstore", "-kvstore-broken", "nope"}, `unknown -kvstore-broken "nope"`},
	} {
		var out, errOut bytes.Buffer
		if status := command().Exec(context.Background(), tc.args, nil, &out, &errOut); status != 2 || !strings.Contains(errOut.String(), tc.err) {
			t.Errorf("%v: status %d, stderr %q", tc.args, status, errOut.String())
		}
	}
}
