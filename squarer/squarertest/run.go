package squarertest

import (
	"testing"
	"testing/synctest"
	"time"

	"ds440/squarer"
)

// Time bounds of the checks. Every check runs in a synctest bubble, whose clock only moves
// when everything in the bubble is blocked: a correct squarer never lets a bound expire, and a
// broken one that hangs costs no real time, so the bounds can be generous.
const (
	patience   = 5 * time.Second // for a square, a read of an input, Close to return
	leakGrace  = 3 * time.Second // for a check's goroutines to exit once it ends
	checkLimit = 4 * patience    // backstop, should a check itself block
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
// check as a parallel subtest of t, in a synctest bubble of its own. newSquarer is called once
// per squarer a check needs, inside the bubble. t must not itself be in a bubble.
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

// judge runs every check against squarers made by newSquarer, one after the other, and returns
// the failures of each check that failed, by check name. It is Run for the meta-test, which
// must see a broken squarer fail without failing itself.
func judge(t *testing.T, newSquarer func() squarer.Squarer) map[string][]string {
	failures := make(map[string][]string)
	for _, c := range checks {
		notes, failed := runCheck(t, c, newSquarer)
		if !failed {
			continue
		}
		for _, n := range notes {
			if n.failure {
				failures[c.name] = append(failures[c.name], n.text)
			}
		}
	}
	return failures
}

// runCheck runs c in a synctest bubble of its own and returns what the check recorded. The
// bubble decides the questions a check cannot answer by looking at channels alone: the check's
// probes wait with synctest.Wait until every goroutine of the bubble is blocked, and when the
// check has ended (its squarers closed, its own goroutines stopped) and leakGrace has passed on
// the bubble's clock, any goroutine still blocked in the bubble makes synctest.Test panic, which
// runCheck records as a leak.
func runCheck(t *testing.T, c check, newSquarer func() squarer.Squarer) (notes []note, failed bool) {
	r := &recorder{TB: t}
	ended := false // set by the bubble's root goroutine as its last act
	func() {
		defer func() {
			p := recover()
			switch {
			case p == nil:
			case !ended:
				r.Errorf("check panicked outside its goroutine: %v", p)
			case r.Failed():
				// A squarer that failed a check may well be left blocked; only a check that
				// passed has to show that everything it started has exited.
				r.Logf("goroutines left blocked after the failure: %v", p)
			default:
				r.Errorf("goroutines still blocked %v after the check ended (%v)", leakGrace, p)
			}
		}()
		synctest.Test(t, func(*testing.T) {
			defer func() { ended = true }()
			finished := make(chan struct{})
			go func() {
				defer close(finished)
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
				return
			}
			// Goroutines that exit on a timer of their own get leakGrace to do so; the bubble's
			// clock only moves while they are all blocked, so this costs no real time.
			time.Sleep(leakGrace)
		})
	}()
	return r.report()
}
