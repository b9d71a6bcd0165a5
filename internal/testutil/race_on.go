//go:build race

package testutil

// raceEnabled is true when the test binary runs under the race detector, so programs built
// for a test are race-checked too.
const raceEnabled = true
