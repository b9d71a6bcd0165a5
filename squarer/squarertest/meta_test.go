package squarertest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"ds440/squarer"
)

// TestSuiteAcceptsTheSquarer is the other half of the meta-test: a suite that rejected
// everything would reject the broken squarers too.
//
// Each check runs in a synctest bubble, so the load of the broken squarers judged beside it
// cannot make a correct squarer miss a bound: the bubble's clock does not move while it works.
func TestSuiteAcceptsTheSquarer(t *testing.T) {
	t.Parallel()
	for check, failures := range judge(t, squarer.New) {
		t.Errorf("check %s rejects squarer.New:\n%s", check, strings.Join(failures, "\n"))
	}
}

// TestSuiteRejectsBrokenSquarers runs the suite against every broken squarer and requires the
// check for the clause each one breaks to reject it. Run with -v, it lists what caught what.
func TestSuiteRejectsBrokenSquarers(t *testing.T) {
	t.Parallel()
	table := make([]string, len(brokenSquarers))
	// The group returns once its parallel subtests have, so the table is complete after it.
	t.Run("group", func(t *testing.T) {
		for i, b := range brokenSquarers {
			t.Run(b.name, func(t *testing.T) {
				t.Parallel()
				failures := judge(t, func() squarer.Squarer { return b.new(newLifecycle()) })
				caughtBy := slices.Sorted(maps.Keys(failures))
				table[i] = fmt.Sprintf("  %-30s %s; rejected by %s", b.name, b.mistake, strings.Join(caughtBy, ", "))
				mine, ok := failures[b.caughtBy]
				if !ok {
					t.Fatalf("check %s accepts a squarer that %s (rejected by: %v)", b.caughtBy, b.mistake, caughtBy)
				}
				t.Logf("%s: %s", b.caughtBy, mine[0])
			})
		}
	})
	t.Logf("the suite rejects %d broken squarers:\n%s", len(table), strings.Join(table, "\n"))
}

// The suite's own list of checks and the broken squarers agree: every check has a broken
// squarer that it, and nothing weaker, is there to catch.
func TestEveryCheckHasABrokenSquarer(t *testing.T) {
	t.Parallel()
	targets := make(map[string]bool)
	for _, b := range brokenSquarers {
		if !slices.ContainsFunc(checks, func(c check) bool { return c.name == b.caughtBy }) {
			t.Errorf("broken squarer %s names %q, which is no check", b.name, b.caughtBy)
		}
		targets[b.caughtBy] = true
	}
	for _, c := range checks {
		if !targets[c.name] {
			t.Errorf("check %s has no broken squarer to prove it", c.name)
		}
	}
}
