// Package testutil holds the test helpers shared by every ds440 package: waiting for a
// condition or a channel with a deadline instead of sleeping, a goroutine-leak check, free
// loopback ports, building and running the module's programs as real processes (each program
// is linked once into the Go build cache and shared by every test process; a package that
// starts programs calls Main from TestMain, which removes any fallback build when its tests
// end), and the switch that keeps long soak runs out of `make test`.
//
// Every helper takes a testing.TB and fails the test (never hangs it) when its deadline passes.
package testutil
