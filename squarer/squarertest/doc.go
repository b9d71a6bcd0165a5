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
//   - close-stops: Close returns with a producer waiting behind an unread square, and in the
//     middle of a stream, and afterwards the squarer neither reads an input nor sends a value.
//   - close-idempotent, close-uninitialized: a second Close, concurrent Closes and Close on a
//     squarer never initialized return promptly and do not panic.
//   - no-goroutine-leak: many squarers started and closed leave nothing running.
//
// Every check is bounded in time, so a squarer that hangs fails the check instead of hanging
// the test. After every check that passed, no goroutine it started may still be running; the
// bubble holds exactly the check's goroutines, so checks run in parallel without mistaking each
// other's goroutines for leaks. A squarer that fails a check may leave goroutines blocked
// forever in the check's finished bubble; they cost memory until the test binary exits, and
// nothing else.
//
// Each check runs in a testing/synctest bubble of its own. No check waits a fixed time to see
// that something does not happen: to show that a squarer does not read ahead, or stays stopped
// after Close, a check calls synctest.Wait, which returns once every goroutine of the bubble is
// blocked, and then probes the channels without blocking: the probe succeeds exactly when the
// squarer is waiting to do the forbidden thing. The concurrent-producers check waits the same
// way before each square it takes, so all four producers are lined up and a squarer that takes
// more than one waiting input is caught on the first square. Time bounds run on the bubble's
// clock, which moves only when everything is blocked: a broken squarer that hangs fails its
// check at no cost in real time, and a loaded machine cannot make a correct squarer miss one.
// A goroutine still blocked in the bubble after a passing check has ended (and the bubble's
// clock has moved on by a grace period) makes synctest.Test report a deadlock, which the check
// records as a leak.
//
// What the bubble cannot judge: a squarer that blocks on a sync.Mutex, a channel made outside
// the bubble, or I/O is not durably blocked, and one that spins never blocks; synctest.Wait and
// the bubble's clock then wait for it, so such a squarer makes the test hit go test's -timeout
// instead of failing a check.
//
// The package's own tests run the suite against 18 deliberately broken squarers (wrong value,
// int32 or float64 arithmetic, saturation, a spurious first value, reordering, a buffered
// output, read-ahead, batching, dropping, duplicating, Close that hangs on a blocked send or
// receive, Close that only sets a flag, Close that drains waiting inputs, a leaked goroutine, a
// second Close that panics, Close that hangs when never initialized) and assert that each is
// rejected by the check for the clause it breaks, while squarer.New passes every check.
package squarertest
