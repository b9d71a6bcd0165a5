// Package squarer is the smallest useful concurrent component: a goroutine that reads ints from
// one channel and sends their squares on another, and a test suite strong enough to prove it.
//
// A Squarer handles one value at a time. It reads n, hands n*n to a reader over an unbuffered
// channel, and only then reads the next input, so values come out in input order and nothing is
// read ahead: a value is never taken from a producer and then lost in a buffer. Close stops the
// squarer wherever it is blocked, waiting for an input or for a reader, and returns only once
// its goroutine has exited; it is idempotent and a no-op on a squarer never initialized.
//
// Beyond the contract, the output is closed when the squarer stops, and closing the input
// stops the squarer, so squarers compose into pipelines that shut down from the front.
//
// # Tests
//
// The contract is pinned by package ds440/squarer/squarertest, whose Run takes any constructor
// of Squarers. Its own tests hold a set of deliberately broken squarers, each wrong in one way
// (wrong value, overflow, reordering, buffering, read-ahead, dropping, duplicating, Close that
// hangs on a blocked send or receive, Close that does not stop, a leaked goroutine, a second
// Close that panics, ...), and check that the suite rejects every one while accepting this
// package's Squarer.
package squarer
