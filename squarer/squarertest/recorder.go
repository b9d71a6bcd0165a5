package squarertest

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// recorder is the testing.TB a check runs against. It records failures instead of reporting
// them, so the same checks can fail the real test (Run) or be judged against a squarer that is
// broken on purpose (the meta-test). Like testing.T, FailNow ends the check's goroutine.
//
// It embeds the real test only to satisfy testing.TB; every method a check uses to report,
// fail, skip or clean up is overridden here, so nothing reaches the real test.
type recorder struct {
	testing.TB

	mu       sync.Mutex
	failed   bool
	skipped  bool
	notes    []note
	cleanups []func()
}

func (r *recorder) Helper() {}

func (r *recorder) Log(args ...any) { r.record(false, fmt.Sprintln(args...)) }

func (r *recorder) Logf(format string, args ...any) { r.record(false, fmt.Sprintf(format, args...)) }

func (r *recorder) Error(args ...any) { r.record(true, fmt.Sprintln(args...)) }

func (r *recorder) Errorf(format string, args ...any) { r.record(true, fmt.Sprintf(format, args...)) }

func (r *recorder) Fatal(args ...any) {
	r.Error(args...)
	r.FailNow()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.FailNow()
}

func (r *recorder) Fail() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
}

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

// FailNow marks the check failed and ends the calling goroutine, as testing.T does.
func (r *recorder) FailNow() {
	r.Fail()
	runtime.Goexit()
}

// A check has no business skipping, so a skip counts as a failure.
func (r *recorder) Skip(args ...any) {
	r.Error(append([]any{"check skipped:"}, args...)...)
	r.SkipNow()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.Errorf("check skipped: "+format, args...)
	r.SkipNow()
}

func (r *recorder) SkipNow() {
	r.mu.Lock()
	r.skipped, r.failed = true, true
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Skipped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.skipped
}

func (r *recorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

// runCleanups runs the registered cleanups, last first, as testing.T does. A cleanup that
// panics or calls FailNow still lets the earlier-registered ones run: each runs from the
// deferred call of the previous one.
func (r *recorder) runCleanups() {
	r.mu.Lock()
	n := len(r.cleanups)
	if n == 0 {
		r.mu.Unlock()
		return
	}
	f := r.cleanups[n-1]
	r.cleanups = r.cleanups[:n-1]
	r.mu.Unlock()

	defer r.runCleanups()
	defer r.recoverPanic("cleanup")
	f()
}

// recoverPanic turns a panic of the calling goroutine into a failure. Call it deferred.
func (r *recorder) recoverPanic(where string) {
	if p := recover(); p != nil {
		r.Errorf("%s panicked: %v", where, p)
	}
}

// note is one line a check logged, or one failure it reported.
type note struct {
	failure bool
	text    string
}

func (r *recorder) record(failure bool, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if failure {
		r.failed = true
	}
	r.notes = append(r.notes, note{failure, strings.TrimSuffix(text, "\n")})
}

// report returns what the check recorded so far and whether it failed.
func (r *recorder) report() (notes []note, failed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]note(nil), r.notes...), r.failed
}
