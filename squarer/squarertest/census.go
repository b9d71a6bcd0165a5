package squarertest

import (
	"bytes"
	"context"
	"fmt"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// labelKey is the profiler label that ties a goroutine to the check that started it. Labels
// are inherited by every goroutine a labelled goroutine starts, so a squarer's goroutines, and
// theirs, carry the label of the check that called Initialize.
const labelKey = "squarertest-check"

// snapshotMaxAge bounds how stale a shared snapshot may be before a waiter takes a new one.
// Goroutine profiles stop the world, so many checks waiting at once share one every few
// milliseconds instead of each taking their own, and never spend over a third of the time
// taking them.
const snapshotMaxAge = 20 * time.Millisecond

var labelSeq atomic.Int64

// newLabel returns a label value no other check has used.
func newLabel() string {
	return fmt.Sprintf("c%d", labelSeq.Add(1))
}

// labelGoroutine labels the calling goroutine, and so every goroutine it starts from now on.
func labelGoroutine(label string) {
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels(labelKey, label)))
}

// theCensus is shared by every check of the test binary.
var theCensus census

// census counts live goroutines by label, from goroutine profiles shared between callers.
type census struct {
	mu      sync.Mutex
	takenAt time.Time           // when the latest snapshot was started
	cost    time.Duration       // how long taking it took
	byLabel map[string][]string // label value -> profile records of its goroutines
}

// goroutines returns the profile records of the live goroutines labelled label, from a snapshot
// started no earlier than notBefore and not long ago (see snapshotMaxAge). Each record is a
// stack with the number of goroutines sharing it.
func (c *census) goroutines(label string, notBefore time.Time) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.takenAt.Before(notBefore) || time.Since(c.takenAt) > max(snapshotMaxAge, 3*c.cost) {
		c.takenAt = time.Now()
		c.byLabel = snapshotByLabel()
		c.cost = time.Since(c.takenAt)
	}
	return c.byLabel[label]
}

// snapshotByLabel groups the records of a goroutine profile by the value of labelKey. In the
// text form of the profile (debug=1) a record is a paragraph: a "count @ pcs" line, then a
// "# labels: {...}" line if the goroutines are labelled, then the stack.
func snapshotByLabel() map[string][]string {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		panic(fmt.Sprintf("squarertest: goroutine profile: %v", err)) // writing to a bytes.Buffer cannot fail
	}
	marker := fmt.Sprintf("%q:", labelKey)
	byLabel := make(map[string][]string)
	for _, record := range strings.Split(buf.String(), "\n\n") {
		_, labels, ok := strings.Cut(record, "\n# labels: ")
		if !ok {
			continue
		}
		labels, _, _ = strings.Cut(labels, "\n")
		_, value, ok := strings.Cut(labels, marker)
		if !ok {
			continue
		}
		value, _, _ = strings.Cut(strings.TrimPrefix(value, `"`), `"`)
		byLabel[value] = append(byLabel[value], record)
	}
	return byLabel
}
