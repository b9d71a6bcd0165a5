package squarertest

import (
	"bytes"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// idle waits until every goroutine the caller started, directly or through goroutines still
// alive, is blocked on a channel or a lock, so that nothing changes until the caller acts: the
// squarer has read all it will read and is offering all it will offer. Probes made right after
// are then exact, with no window to wait out: a non-blocking send on the input succeeds if and
// only if the squarer is waiting for an input, and a non-blocking receive on the output if and
// only if it is offering a square. It is synctest.Wait for goroutines outside a bubble.
//
// A squarer that never blocks (one that polls, say) makes idle give up after settleLimit;
// probes made then may merely miss what the squarer would have done later.
func idle() {
	me := currentGoroutineID()
	deadline := time.Now().Add(settleLimit)
	seen := time.Now()
	for time.Now().Before(deadline) {
		var snap *snapshot
		snap, seen = theDumps.newerThan(seen)
		if snap.descendantsBlocked(me) {
			return
		}
	}
}

// dumpGap is the least time between the starts of two stack dumps. A dump stops the world
// and costs more the more goroutines there are, so dumps are also spaced at least three times
// their cost apart, and one dump serves every check waiting at the time.
const dumpGap = 5 * time.Millisecond

// theDumps is shared by every check of the test binary.
var theDumps dumps

// dumps hands out snapshots of every goroutine, shared between callers.
type dumps struct {
	mu      sync.Mutex
	takenAt time.Time     // when the latest snapshot was started
	cost    time.Duration // how long taking it took
	latest  *snapshot
	buf     []byte // for runtime.Stack, kept between dumps
}

// newerThan returns a snapshot started after t, and when it was started.
func (d *dumps) newerThan(t time.Time) (*snapshot, time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.takenAt.After(t) {
		// Waiting with the lock held is the point: whoever queues behind gets this dump too.
		time.Sleep(max(dumpGap, 3*d.cost) - time.Since(d.takenAt))
		d.takenAt = time.Now()
		d.latest = d.take()
		d.cost = time.Since(d.takenAt)
	}
	return d.latest, d.takenAt
}

// blockedStates are the goroutine states (as runtime.Stack prints them) that only another
// goroutine's action ends. Runnable, running and sleeping goroutines are not blocked.
var blockedStates = map[string]bool{
	"chan receive":            true,
	"chan send":               true,
	"chan receive (nil chan)": true,
	"chan send (nil chan)":    true,
	"select":                  true,
	"select (no cases)":       true,
	"sync.Cond.Wait":          true,
	"sync.Mutex.Lock":         true,
	"sync.RWMutex.Lock":       true,
	"sync.RWMutex.RLock":      true,
	"sync.WaitGroup.Wait":     true,
	"semacquire":              true,
}

// snapshot is the state of every goroutine at one moment, and who started whom.
type snapshot struct {
	state    map[int]string // goroutine id -> state, as runtime.Stack prints it
	children map[int][]int  // goroutine id -> ids of the live goroutines it started
}

// take dumps every goroutine's stack and reads the dump into a snapshot.
func (d *dumps) take() *snapshot {
	if d.buf == nil {
		d.buf = make([]byte, 64<<10)
	}
	n := runtime.Stack(d.buf, true)
	for n == len(d.buf) {
		d.buf = make([]byte, 2*len(d.buf))
		n = runtime.Stack(d.buf, true)
	}
	s := &snapshot{state: make(map[int]string), children: make(map[int][]int)}
	for _, g := range strings.Split(string(d.buf[:n]), "\n\n") {
		id, state, creator, ok := parseGoroutine(g)
		if !ok {
			continue
		}
		s.state[id] = state
		s.children[creator] = append(s.children[creator], id)
	}
	return s
}

// descendantsBlocked reports whether every goroutine descended from goroutine root is in one
// of blockedStates. A goroutine descends from root if root started it, or a live descendant
// did: runtime.Stack names each goroutine's creator.
func (s *snapshot) descendantsBlocked(root int) bool {
	pending := append([]int(nil), s.children[root]...)
	for len(pending) > 0 {
		id := pending[len(pending)-1]
		pending = pending[:len(pending)-1]
		if !blockedStates[s.state[id]] {
			return false
		}
		pending = append(pending, s.children[id]...)
	}
	return true
}

// parseGoroutine reads one goroutine of a runtime.Stack dump:
//
//	goroutine 42 [chan receive, 2 minutes]:
//	...frames...
//	created by ds440/squarer.(*squarer).Initialize in goroutine 17
//	...
func parseGoroutine(stack string) (id int, state string, creator int, ok bool) {
	header, rest, _ := strings.Cut(stack, "\n")
	header, found := strings.CutPrefix(header, "goroutine ")
	if !found {
		return 0, "", 0, false
	}
	idText, state, found := strings.Cut(header, " [")
	if !found {
		return 0, "", 0, false
	}
	id, err := strconv.Atoi(idText)
	if err != nil {
		return 0, "", 0, false
	}
	state = strings.TrimSuffix(state, "]:")
	state, _, _ = strings.Cut(state, ",") // drop ", 2 minutes", ", locked to thread"
	if i := strings.LastIndex(rest, " in goroutine "); i >= 0 {
		line, _, _ := strings.Cut(rest[i+len(" in goroutine "):], "\n")
		creator, _ = strconv.Atoi(line)
	}
	return id, state, creator, true
}

// currentGoroutineID returns the id runtime.Stack gives the calling goroutine.
func currentGoroutineID() int {
	var buf [64]byte
	header := buf[:runtime.Stack(buf[:], false)]
	header = bytes.TrimPrefix(header, []byte("goroutine "))
	header, _, _ = bytes.Cut(header, []byte(" "))
	id, _ := strconv.Atoi(string(header))
	return id
}
