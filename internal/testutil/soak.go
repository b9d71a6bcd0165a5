package testutil

import (
	"os"
	"testing"
)

// SoakEnv is the environment variable that `make soak` sets to enable long stress runs.
const SoakEnv = "DS440_SOAK"

// Soak reports whether long soak and stress runs are enabled (`make soak`).
func Soak() bool { return os.Getenv(SoakEnv) != "" }

// SoakSize returns soak under `make soak` and normal otherwise: a test that checks a property
// at scale runs it at a size `make test` affords, and at full size in the soak run.
func SoakSize(normal, soak int) int {
	if Soak() {
		return soak
	}
	return normal
}

// RequireSoak skips the test unless soak runs are enabled, so it stays out of `make test`.
func RequireSoak(tb testing.TB) {
	tb.Helper()
	if !Soak() {
		tb.Skipf("soak test: run with `make soak` (%s=1)", SoakEnv)
	}
}

// SkipIfShort skips a test that takes more than a few seconds when -short is given.
func SkipIfShort(tb testing.TB) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("skipped with -short")
	}
}

// RaceEnabled reports whether this test binary runs under the race detector, which slows code
// by an order of magnitude: throughput checks use it to scale their expectations.
const RaceEnabled = raceEnabled
