package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"ds440/internal/testutil"
)

// TestShortRun is the short version of `make chaos` that `make test` runs: every system for
// a few seconds of faults (3 s each; 5 s under DS440_SOAK), each verdict a PASS. The systems
// run side by side, each as its own chaos run with its own processes and work directory (in
// goroutines rather than parallel subtests, which -parallel would queue two at a time). The
// kvstore nemesis only pauses servers here, so that its few seconds are spent on faults rather
// than on restarting processes; `make chaos` also SIGKILLs and restarts them.
func TestShortRun(t *testing.T) {
	t.Parallel()
	testutil.SkipIfShort(t)
	each := fmt.Sprintf("%ds", testutil.SoakSize(3, 5))
	var wg sync.WaitGroup
	for _, s := range systems {
		wg.Go(func() {
			var out, errOut bytes.Buffer
			status := command().Exec(context.Background(), []string{"-systems", s.name, "-time", each, "-seed", "1", "-raftnode-servers", "3", "-kvstore-kills=false"}, strings.NewReader(""), &out, &errOut)
			t.Log(out.String())
			if status != 0 {
				t.Errorf("chaos -systems %s exited %d:\n%s%s", s.name, status, out.String(), errOut.String())
			} else if !strings.Contains(out.String(), "PASS "+s.name+":") {
				t.Errorf("no PASS verdict for %s", s.name)
			}
		})
	}
	wg.Wait()
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
