package linearize

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Sentinel errors of Check. They are returned wrapped with the offending detail.
var (
	// ErrBadModel reports a Model that cannot be used: Init or Step missing, or a state type
	// that is not comparable while Equal is nil.
	ErrBadModel = errors.New("linearize: bad model")
	// ErrBadHistory reports a history that cannot be checked or stored: an operation that
	// returns before it is called, a malformed or unencodable record.
	ErrBadHistory = errors.New("linearize: bad history")
)

// Operation is one call a client made and what it got back. Times are offsets from any common
// origin (time.Since of one start instant, for example); only their order matters.
type Operation struct {
	ClientID int
	Input    any
	Output   any
	Call     time.Duration // when the client sent the request
	Return   time.Duration // when the client saw the answer; ignored if Unknown
	// Unknown marks an operation whose outcome the client never learned (a timeout, a dropped
	// connection): it may or may not have taken effect, at any time after Call. The checker
	// treats its return time as infinite and hands Step an UnknownOutput instead of Output.
	Unknown bool
}

// UnknownOutput is the output Step receives for an operation marked Unknown. A model accepts
// it and returns the state the operation would leave if it took effect; the search also tries
// every history in which it takes effect only after everything else, which is the same as
// never.
type UnknownOutput struct{}

// Model is the sequential specification a history is checked against. Models are plain
// values: a set of functions over states, inputs and outputs the caller chooses. Partitions
// are checked in parallel, so the functions may be called from several goroutines at once.
type Model struct {
	// Init returns the initial state.
	Init func() any
	// Step applies input to state and reports whether output is what a sequential object in
	// that state could have answered, with the state after it. It must not modify state.
	Step func(state, input, output any) (ok bool, next any)
	// Equal reports whether two states are the same, for memoization. Nil means ==, which
	// requires a comparable state type.
	Equal func(a, b any) bool
	// Hash, if set, spreads states in the memo table; states that are Equal must hash alike.
	Hash func(state any) uint64
	// Partition, if set, splits a history into independent sub-histories (one per key, for
	// example) that are each checked from Init. A history is linearizable if every part is.
	// It may leave out operations that constrain nothing (a read whose answer was lost).
	Partition func(history []Operation) [][]Operation
	// DescribeOperation and DescribeState label the HTML timeline; nil means fmt.Sprint.
	DescribeOperation func(input, output any) string
	DescribeState     func(state any) string
}

// Verdict is the outcome of a check.
type Verdict int

const (
	// Unknown: the time budget ran out before the search finished.
	Unknown Verdict = iota
	// Linearizable: some total order of the operations respects real time and the model.
	Linearizable
	// NotLinearizable: no such order exists.
	NotLinearizable
)

// String returns "linearizable", "not linearizable" or "unknown".
func (v Verdict) String() string {
	switch v {
	case Linearizable:
		return "linearizable"
	case NotLinearizable:
		return "not linearizable"
	default:
		return "unknown"
	}
}

// Result is what Check found.
type Result struct {
	Verdict Verdict
	// Counterexample explains a NotLinearizable verdict; nil otherwise.
	Counterexample *Counterexample
}

// Counterexample is the shortest part of a history that shows a violation: within one
// partition, the longest prefix the search could linearize and the operations of which none
// could be placed next.
type Counterexample struct {
	// Partition is the sub-history (as Model.Partition made it) that is not linearizable,
	// sorted by call time.
	Partition []Operation
	// Linearized indexes Partition in linearization order: the longest linearizable prefix.
	Linearized []int
	// States[i] is the model state after Linearized[i].
	States []any
	// Stuck indexes Partition: the pending operations none of which the model accepts after
	// that prefix. The last one must have taken effect by now (its response has been seen).
	Stuck []int

	model Model
}

// Check decides whether history is linearizable with respect to m. It gives up with Unknown
// when ctx is done. A history that violates the model in one partition is NotLinearizable
// even if other partitions ran out of time. Partitions are checked on up to GOMAXPROCS
// goroutines, all finished when Check returns; the counterexample is that of the first
// violating partition in Model.Partition's order.
func Check(ctx context.Context, m Model, history []Operation) (Result, error) {
	if err := m.validate(); err != nil {
		return Result{}, err
	}
	for i, op := range history {
		if !op.Unknown && op.Return < op.Call {
			return Result{}, fmt.Errorf("%w: operation %d returns at %v before its call at %v", ErrBadHistory, i, op.Return, op.Call)
		}
	}
	parts := [][]Operation{history}
	if m.Partition != nil {
		parts = m.Partition(history)
	}
	return checkParts(ctx, m, parts), nil
}

// checkParts checks the partitions on up to GOMAXPROCS goroutines. A violation in part i stops
// the parts after i but not those before, so the counterexample is always that of the first
// violating part, whatever the scheduling.
func checkParts(ctx context.Context, m Model, parts [][]Operation) Result {
	type outcome struct {
		v  Verdict
		ce *Counterexample
	}
	outcomes := make([]outcome, len(parts))
	cancels := make([]context.CancelFunc, len(parts))
	ctxs := make([]context.Context, len(parts))
	for i := range parts {
		ctxs[i], cancels[i] = context.WithCancel(ctx)
		defer cancels[i]()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(parts)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(parts); i = int(next.Add(1) - 1) {
				v, ce := checkPartition(ctxs[i], m, parts[i])
				outcomes[i] = outcome{v, ce}
				if v == NotLinearizable {
					for _, cancel := range cancels[i+1:] {
						cancel()
					}
				}
			}
		}()
	}
	wg.Wait()
	verdict := Linearizable
	for _, o := range outcomes {
		switch o.v {
		case NotLinearizable:
			return Result{Verdict: NotLinearizable, Counterexample: o.ce}
		case Unknown:
			verdict = Unknown
		}
	}
	return Result{Verdict: verdict}
}

// CheckTimeout is Check with a time budget.
func CheckTimeout(m Model, history []Operation, budget time.Duration) (Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	return Check(ctx, m, history)
}

func (m Model) validate() error {
	if m.Init == nil || m.Step == nil {
		return fmt.Errorf("%w: Init and Step are required", ErrBadModel)
	}
	if m.Equal == nil {
		if t := reflect.TypeOf(m.Init()); t != nil && !t.Comparable() {
			return fmt.Errorf("%w: state type %v is not comparable; set Equal", ErrBadModel, t)
		}
	}
	return nil
}

func (m Model) equal(a, b any) bool {
	if m.Equal != nil {
		return m.Equal(a, b)
	}
	return a == b
}

func (m Model) describeOp(in, out any) string {
	if m.DescribeOperation != nil {
		return m.DescribeOperation(in, out)
	}
	return fmt.Sprintf("%v → %v", in, out)
}

func (m Model) describeState(s any) string {
	if m.DescribeState != nil {
		return m.DescribeState(s)
	}
	return fmt.Sprint(s)
}
