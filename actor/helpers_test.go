package actor

import (
	"encoding/gob"
	"testing"
	"time"
)

// Messages of the package's own tests.
type (
	seqMsg struct {
		From string
		N    int
	}
	forward struct {
		To  *ActorRef
		Msg any
	}
	withChan      struct{ C chan int }
	notRegistered struct{ N int }
	payload       struct {
		List []int
		Map  map[string]int
	}
	panicMsg struct{ Why string }
	errorMsg struct{ Why string }
)

func registerTestTypes(values ...any) {
	for _, v := range values {
		gob.Register(v)
	}
}

func init() {
	gob.Register(seqMsg{})
	gob.Register(forward{})
	gob.Register(withChan{})
	gob.Register(payload{})
	gob.Register(panicMsg{})
	gob.Register(errorMsg{})
}

const (
	waitLong = 20 * time.Second // bound on "eventually": generous, the machine is shared
)

func newSystem(t testing.TB) *ActorSystem {
	t.Helper()
	s, err := NewActorSystem(0)
	if err != nil {
		t.Fatalf("NewActorSystem: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// newSystemOn starts a system made by New on network with faults, closed when the test ends.
func newSystemOn(t testing.TB, network *InmemNetwork, faults Faults) *ActorSystem {
	t.Helper()
	s, err := New(Config{Transport: network, Faults: faults})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// errorsOf collects the errors sys reports.
func errorsOf(sys *ActorSystem) <-chan error {
	ch := make(chan error, 1024)
	sys.OnError(func(err error) {
		select {
		case ch <- err:
		default:
		}
	})
	return ch
}

// probe is a test actor that passes every message it gets to a Go channel (tests may break the
// share-nothing rule to observe), forwards on request, and fails or panics when told to.
type probe struct {
	ctx *ActorContext
	got chan<- any
}

func (p *probe) OnMessage(m any) error {
	switch m := m.(type) {
	case forward:
		p.ctx.Tell(m.To, m.Msg)
	case panicMsg:
		panic(m.Why)
	case errorMsg:
		return &testError{m.Why}
	}
	p.got <- m
	return nil
}

type testError struct{ why string }

func (e *testError) Error() string { return e.why }

// startProbe starts a probe on sys and returns its ref and what it receives.
func startProbe(sys *ActorSystem, buffer int) (*ActorRef, <-chan any) {
	got := make(chan any, buffer)
	ref := sys.StartActor(func(ctx *ActorContext) Actor { return &probe{ctx: ctx, got: got} })
	return ref, got
}
