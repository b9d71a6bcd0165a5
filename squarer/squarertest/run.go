package squarertest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"ds440/internal/testutil"
	"ds440/squarer"
)

// Time bounds of the checks. Correct squarers do everything the checks wait for in
// microseconds, so the bounds are generous for a loaded machine and only a broken squarer ever
// waits one out. No check waits a fixed time to see that something does not happen: it waits
// for the squarer to block (idle) and then probes without waiting.
const (
	patience    = 5 * time.Second // for a square, a read of an input, Close to return
	settleLimit = 2 * time.Second // for idle, before it gives up on a squarer that never blocks
	leakGrace   = 3 * time.Second // for a check's goroutines to exit once it ends
	checkLimit  = 4 * patience    // backstop, should a check itself block
)

// A check pins one clause of the contract.
type check struct {
	name string
	run  func(t testing.TB, newSquarer func() squarer.Squarer)
}

// checks is the suite, in the order Run starts them.
var checks = []check{
	{"squares", checkSquares},
	{"order", checkOrder},
	{"no-read-ahead", checkNoReadAhead},
	{"concurrent-producers", checkConcurrentProducers},
	{"close-unblocks-receive", checkCloseUnblocksReceive},
	{"close-unblocks-send", checkCloseUnblocksSend},
	{"close-stops", checkCloseStops},
	{"close-idempotent", checkCloseIdempotent},
	{"close-uninitialized", checkCloseUninitialized},
	{"no-goroutine-leak", checkNoGoroutineLeak},
}

// Run checks every clause of the Squarer contract against squarers made by newSquarer, each
// check as a parallel subtest of t. newSquarer is called once per squarer a check needs.
func Run(t *testing.T, newSquarer func() squarer.Squarer) {
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			notes, _ := runCheck(t, c, newSquarer)
			for _, n := range notes {
				if n.failure {
					t.Error(n.text)
				} else {
					t.Log(n.text)
				}
			}
		})
	}
}

// judge runs every check against squarers made by newSquarer, all at once, and returns the
// failures of each check that failed, by check name. It is Run for the meta-test, which must
// see a broken squarer fail without failing itself.
func judge(tb testing.TB, newSquarer func() squarer.Squarer) map[string][]string {
	var (
		mu       sync.Mutex
		failures = make(map[string][]string)
		wg       sync.WaitGroup
	)
	for _, c := range checks {
		wg.Go(func() {
			notes, failed := runCheck(tb, c, newSquarer)
			if !failed {
				return
			}
			var texts []string
			for _, n := range notes {
				if n.failure {
					texts = append(texts, n.text)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			failures[c.name] = texts
		})
	}
	wg.Wait()
	return failures
}

// runCheck runs c in a goroutine of its own, labelled so that every goroutine it starts, the
// squarers' included, can be found afterwards. It returns what the check recorded, after
// waiting for those goroutines to exit and recording a failure for any that does not.
func runCheck(tb testing.TB, c check, newSquarer func() squarer.Squarer) (notes []note, failed bool) {
	r := &recorder{TB: tb}
	label := newLabel()
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		labelGoroutine(label)
		defer r.runCleanups()
		defer r.recoverPanic("check")
		c.run(r, newSquarer)
	}()

	timer := time.NewTimer(checkLimit)
	defer timer.Stop()
	select {
	case <-finished:
	case <-timer.C:
		// The check is left blocked where it is; what it records from now on is ignored.
		r.Errorf("check did not finish within %v", checkLimit)
		return r.report()
	}

	// A squarer that failed a check may well be left blocked; only a check that passed has
	// to show that everything it started has exited.
	if r.Failed() {
		return r.report()
	}
	ended := time.Now()
	var left []string
	if !testutil.WaitUntil(leakGrace, func() bool {
		left = theCensus.goroutines(label, ended)
		return len(left) == 0
	}) {
		r.Errorf("goroutines still running %v after the check ended:\n\n%s", leakGrace, strings.Join(left, "\n\n"))
	}
	return r.report()
}
