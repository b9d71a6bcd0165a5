package squarer

import "sync/atomic"

// Squarer reads ints from an input channel and sends their squares on its output channel.
type Squarer interface {
	// Initialize starts the squarer on input and returns its output channel. For each n read
	// from input, n*n is sent on the output, in input order, one at a time: the squarer reads
	// the next input only after the previous square has been received (the output is
	// unbuffered, so no value is ever read ahead and lost).
	Initialize(input chan int) <-chan int
	// Close stops the squarer. It returns once its goroutine has exited, even if nobody reads
	// the output or writes the input. Close on a squarer that was never initialized, or a
	// second Close, is a no-op.
	Close()
}

// New returns a Squarer that does nothing until Initialize starts it.
func New() Squarer {
	return &squarer{
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
}

// The life of a squarer: it runs at most once, and Close is final.
const (
	idle    int32 = iota // created, not yet initialized
	running              // Initialize started the goroutine
	closed               // Close was called
)

// squarer is the one Squarer: a goroutine that alternates between receiving an input and
// handing its square over, always ready to hear Close.
type squarer struct {
	state atomic.Int32
	quit  chan struct{} // closed by Close: the goroutine must stop
	done  chan struct{} // closed once the goroutine has exited (or by Close if it never started)
}

// Initialize starts the squarer's goroutine on input. A squarer runs once: on a squarer already
// initialized or closed, Initialize starts nothing and returns an output channel that is already
// closed. The output is closed when the squarer stops, by Close or because input was closed, so
// a reader may range over it. A nil input never delivers a value; Close still stops the squarer.
func (s *squarer) Initialize(input chan int) <-chan int {
	// Unbuffered, so the square is handed straight to a reader: the squarer cannot read the
	// next input before someone has taken the previous square.
	output := make(chan int)
	if !s.state.CompareAndSwap(idle, running) {
		close(output)
		return output
	}
	go s.run(input, output)
	return output
}

// run is the squarer's goroutine. Both of its blocking points also wait for quit, which is what
// lets Close stop it whether it is waiting for an input or for a reader.
func (s *squarer) run(input <-chan int, output chan<- int) {
	defer close(s.done)
	defer close(output)
	for {
		select {
		case n, ok := <-input:
			if !ok {
				return
			}
			// n*n wraps around on overflow, as Go's int arithmetic does: the contract is n*n.
			select {
			case output <- n * n:
			case <-s.quit:
				return
			}
		case <-s.quit:
			return
		}
	}
}

// Close stops the squarer and returns once its goroutine has exited. A value read but whose
// square nobody received is dropped. Close is idempotent and safe to call from several
// goroutines at once; every call returns only after the goroutine is gone.
func (s *squarer) Close() {
	switch s.state.Swap(closed) {
	case idle:
		close(s.done) // nothing was started, so there is nothing to wait for
	case running:
		close(s.quit)
	}
	<-s.done
}
