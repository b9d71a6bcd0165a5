package squarertest

import (
	"math"
	"sync"
	"sync/atomic"

	"ds440/squarer"
)

// The broken squarers the suite must reject. Each is the correct design with one mistake of the
// kind people make, and names the check that must catch it.
var brokenSquarers = []struct {
	name     string
	mistake  string
	caughtBy string
	new      func(*lifecycle) squarer.Squarer
}{
	{"keeps-sign", "sends n*|n|, so negative values come back negative", "squares",
		withSquare(func(n int) int { return n * max(n, -n) })},
	{"int32-arithmetic", "squares in int32, so 46341 and beyond overflow early", "squares",
		withSquare(func(n int) int { return int(int32(n) * int32(n)) })},
	{"float64-arithmetic", "squares with math.Pow, which rounds beyond 2^53", "squares",
		withSquare(func(n int) int { return int(math.Pow(float64(n), 2)) })},
	{"saturates", "returns MaxInt on overflow instead of n*n", "squares",
		withSquare(func(n int) int {
			if a := max(n, -n); a == 0 || a > 0 && a <= math.MaxInt/a { // -MinInt is negative
				return n * n
			}
			return math.MaxInt
		})},
	{"spurious-zero", "sends the square of a zero value before reading anything", "squares",
		func(l *lifecycle) squarer.Squarer { return &spuriousZero{l} }},
	{"swaps-pairs", "now and then sends two squares in the wrong order", "order",
		func(l *lifecycle) squarer.Squarer { return &swapsPairs{l} }},
	{"buffered-output", "gives its output a buffer of one", "no-read-ahead",
		func(l *lifecycle) squarer.Squarer { return &buffered{l} }},
	{"reads-one-ahead", "reads the next input while the square waits for a reader", "no-read-ahead",
		func(l *lifecycle) squarer.Squarer { return &readsAhead{l} }},
	{"batches-waiting-inputs", "reads every input already waiting before sending squares", "concurrent-producers",
		func(l *lifecycle) squarer.Squarer { return &batches{l} }},
	{"drops", "now and then drops a value", "order",
		func(l *lifecycle) squarer.Squarer { return &dropsOrDuplicates{l, 0} }},
	{"duplicates", "now and then sends a square twice", "order",
		func(l *lifecycle) squarer.Squarer { return &dropsOrDuplicates{l, 2} }},
	{"close-ignores-blocked-send", "sends without watching for Close, so Close hangs on an unread square", "close-unblocks-send",
		func(l *lifecycle) squarer.Squarer { return &blindSend{l} }},
	{"close-ignores-blocked-receive", "receives without watching for Close, so Close hangs on an idle squarer", "close-unblocks-receive",
		func(l *lifecycle) squarer.Squarer { return &blindReceive{l} }},
	{"close-only-sets-a-flag", "Close sets a flag checked between values and returns at once", "close-unblocks-receive",
		func(l *lifecycle) squarer.Squarer { return &flagClose{} }},
	{"drains-input-on-close", "on Close, squares the inputs still waiting before it stops", "close-stops",
		func(l *lifecycle) squarer.Squarer { return &drainsOnClose{l} }},
	{"leaks-a-goroutine", "starts a helper goroutine that nothing ever stops", "no-goroutine-leak",
		func(l *lifecycle) squarer.Squarer { return &leaksHelper{lifecycle: l} }},
	{"second-close-panics", "closes its quit channel on every Close", "close-idempotent",
		func(l *lifecycle) squarer.Squarer { return &closesTwice{l} }},
	{"close-uninitialized-hangs", "Close waits for a goroutine that was never started", "close-uninitialized",
		func(l *lifecycle) squarer.Squarer { return &waitsForNothing{l} }},
}

// lifecycle is the correct squarer's start and stop, shared by the broken squarers whose
// mistake lies elsewhere.
//
// The goroutines a mistake leaves blocked stay blocked in their check's finished synctest
// bubble (channels of a bubble cannot be touched from outside it) until the test binary exits:
// about 65 per run of the meta-test, a few kilobytes each.
type lifecycle struct {
	quit, done chan struct{}
	started    bool
	closeOnce  sync.Once
}

func newLifecycle() *lifecycle {
	return &lifecycle{quit: make(chan struct{}), done: make(chan struct{})}
}

// launch runs loop in the squarer's goroutine.
func (l *lifecycle) launch(loop func()) {
	l.started = true
	go func() {
		defer close(l.done)
		loop()
	}()
}

func (l *lifecycle) Close() {
	l.closeOnce.Do(func() { close(l.quit) })
	if l.started {
		<-l.done
	}
}

// receive waits for an input or for Close.
func (l *lifecycle) receive(in <-chan int) (n int, ok bool) {
	select {
	case n, ok = <-in:
		return n, ok
	case <-l.quit:
		return 0, false
	}
}

// send waits for a reader of v or for Close.
func (l *lifecycle) send(out chan<- int, v int) bool {
	select {
	case out <- v:
		return true
	case <-l.quit:
		return false
	}
}

// serve is the correct loop, with the square computed by square.
func (l *lifecycle) serve(in <-chan int, out chan<- int, square func(int) int) {
	for {
		n, ok := l.receive(in)
		if !ok || !l.send(out, square(n)) {
			return
		}
	}
}

// wrongSquare squares with a function of its own.
type wrongSquare struct {
	*lifecycle
	square func(int) int
}

func withSquare(square func(int) int) func(*lifecycle) squarer.Squarer {
	return func(l *lifecycle) squarer.Squarer { return &wrongSquare{l, square} }
}

func (s *wrongSquare) Initialize(in chan int) <-chan int {
	out := make(chan int)
	s.launch(func() { s.serve(in, out, s.square) })
	return out
}

// spuriousZero sends before it receives, starting from n's zero value.
type spuriousZero struct{ *lifecycle }

func (s *spuriousZero) Initialize(in chan int) <-chan int {
	out := make(chan int)
	s.launch(func() {
		var n int
		for {
			if !s.send(out, n*n) {
				return
			}
			var ok bool
			if n, ok = s.receive(in); !ok {
				return
			}
		}
	})
	return out
}

// swapsPairs reads two values every 64 and sends their squares in reverse order.
type swapsPairs struct{ *lifecycle }

func (s *swapsPairs) Initialize(in chan int) <-chan int {
	out := make(chan int)
	s.launch(func() {
		for count := 1; ; count++ {
			a, ok := s.receive(in)
			if !ok {
				return
			}
			if count%64 == 0 {
				b, ok := s.receive(in)
				if !ok || !s.send(out, b*b) {
					return
				}
			}
			if !s.send(out, a*a) {
				return
			}
		}
	})
	return out
}

// buffered is the correct loop on a buffered output.
type buffered struct{ *lifecycle }

func (s *buffered) Initialize(in chan int) <-chan int {
	out := make(chan int, 1)
	s.launch(func() { s.serve(in, out, func(n int) int { return n * n }) })
	return out
}

// readsAhead keeps one square ready and reads the next input while offering it.
type readsAhead struct{ *lifecycle }

func (s *readsAhead) Initialize(in chan int) <-chan int {
	out := make(chan int)
	s.launch(func() {
		var pending []int
		for {
			var input <-chan int
			if len(pending) < 2 {
				input = in
			}
			var output chan<- int
			var next int
			if len(pending) > 0 {
				output, next = out, pending[0]
			}
			select {
			case n := <-input:
				pending = append(pending, n*n)
			case output <- next:
				pending = pending[1:]
			case <-s.quit:
				return
			}
		}
	})
	return out
}

// batches takes every input already waiting before it sends the squares, in order.
type batches struct{ *lifecycle }

func (s *batches) Initialize(in chan int) <-chan int {
	out := make(chan int)
	s.launch(func() {
		for {
			n, ok := s.receive(in)
			if !ok {
				return
			}
			batch := []int{n * n}
		drain:
			for len(batch) < 16 {
				select {
				case n := <-in:
					batch = append(batch, n*n)
				default:
					break drain
				}
			}
			for _, sq := range batch {
				if !s.send(out, sq) {
					return
				}
			}
		}
	})
	return out
}

// dropsOrDuplicates sends every 500th square copies times instead of once.
type dropsOrDuplicates struct {
	*lifecycle
	copies int
}

func (s *dropsOrDuplicates) Initialize(in chan int) <-chan int {
	out := make(chan int)
	s.launch(func() {
		for count := 1; ; count++ {
			n, ok := s.receive(in)
			if !ok {
				return
			}
			copies := 1
			if count%500 == 0 {
				copies = s.copies
			}
			for range copies {
				if !s.send(out, n*n) {
					return
				}
			}
		}
	})
	return out
}

// blindSend sends the square with a plain send that Close cannot interrupt.
type blindSend struct{ *lifecycle }

func (s *blindSend) Initialize(in chan int) <-chan int {
	out := make(chan int)
	s.launch(func() {
		for {
			n, ok := s.receive(in)
			if !ok {
				return
			}
			out <- n * n
		}
	})
	return out
}

// blindReceive looks for Close between values, then receives with a plain receive that Close
// cannot interrupt.
type blindReceive struct{ *lifecycle }

func (s *blindReceive) Initialize(in chan int) <-chan int {
	out := make(chan int)
	s.launch(func() {
		for {
			select {
			case <-s.quit:
				return
			default:
			}
			n := <-in
			if !s.send(out, n*n) {
				return
			}
		}
	})
	return out
}

// flagClose stops by a flag its loop checks before each value, and Close does not wait.
type flagClose struct {
	stopped atomic.Bool
}

func (s *flagClose) Initialize(in chan int) <-chan int {
	out := make(chan int)
	go func() {
		for !s.stopped.Load() {
			n := <-in
			out <- n * n
		}
	}()
	return out
}

func (s *flagClose) Close() { s.stopped.Store(true) }

// drainsOnClose finishes the work still waiting when Close comes, a shutdown that is graceful
// for the producers and hangs when nobody reads the squares.
type drainsOnClose struct{ *lifecycle }

func (s *drainsOnClose) Initialize(in chan int) <-chan int {
	out := make(chan int)
	s.launch(func() {
		defer func() {
			for {
				select {
				case n := <-in:
					out <- n * n
				default:
					return
				}
			}
		}()
		s.serve(in, out, func(n int) int { return n * n })
	})
	return out
}

// leaksHelper is correct but for a helper goroutine waiting for a signal that never comes.
type leaksHelper struct {
	*lifecycle
	events chan int
}

func (s *leaksHelper) Initialize(in chan int) <-chan int {
	out := make(chan int)
	s.events = make(chan int)
	go func() {
		for range s.events { // would count the values, had anyone sent any
		}
	}()
	s.launch(func() { s.serve(in, out, func(n int) int { return n * n }) })
	return out
}

// closesTwice closes its quit channel on every Close, which panics the second time.
type closesTwice struct{ *lifecycle }

func (s *closesTwice) Initialize(in chan int) <-chan int {
	out := make(chan int)
	s.launch(func() { s.serve(in, out, func(n int) int { return n * n }) })
	return out
}

func (s *closesTwice) Close() {
	close(s.quit)
	if s.started {
		<-s.done
	}
}

// waitsForNothing always waits for its goroutine in Close, started or not.
type waitsForNothing struct{ *lifecycle }

func (s *waitsForNothing) Initialize(in chan int) <-chan int {
	out := make(chan int)
	s.launch(func() { s.serve(in, out, func(n int) int { return n * n }) })
	return out
}

func (s *waitsForNothing) Close() {
	s.closeOnce.Do(func() { close(s.quit) })
	<-s.done
}
