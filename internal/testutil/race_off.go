//go:build !race

package testutil

// raceEnabled is false in a normal build; see race_on.go.
const raceEnabled = false
