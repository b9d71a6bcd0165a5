// Package squarertest checks that a squarer.Squarer keeps its contract. Run it from a test with
// a constructor:
//
//	func TestContract(t *testing.T) {
//		squarertest.Run(t, squarer.New)
//	}
//
// Each check pins one clause of the contract and runs as a parallel subtest:
//
//   - squares: n*n for small, negative and extreme values, including those whose square
//     overflows (the contract is n*n with Go's wrap-around int arithmetic).
//   - order: a long stream comes back squared, in order, nothing dropped or duplicated.
//   - no-read-ahead: the output is unbuffered, and a second input is not read before the first
//     square has been received.
//   - concurrent-producers: values from several producers at once each come back exactly once,
//     each producer's in its own order, with never more than one value read ahead.
//   - close-unblocks-receive, close-unblocks-send: Close returns while the squarer waits for an
//     input, or for a reader of a square nobody takes.
//   - close-stops: Close in the middle of a stream returns, and afterwards the squarer neither
//     reads an input nor sends a value.
//   - close-idempotent, close-uninitialized: a second Close, concurrent Closes and Close on a
//     squarer never initialized return promptly and do not panic.
//   - no-goroutine-leak: many squarers started and closed leave nothing running.
//
// Every check is bounded in time, so a squarer that hangs fails the check instead of hanging
// the test, and after every check no goroutine it started may still be running: goroutines are
// attributed to the check that started them with a profiler label, so checks run in parallel
// without mistaking each other's goroutines for leaks. A squarer that fails a check may leave
// goroutines blocked forever on channels nobody else holds; they cost memory until the test
// binary exits, and nothing else.
//
// The package's own tests run the suite against deliberately broken squarers and assert that
// each is rejected by the check for the clause it breaks.
package squarertest
