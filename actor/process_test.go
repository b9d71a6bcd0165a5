package actor_test

import (
	"encoding/gob"
	"errors"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"ds440/actor"
	"ds440/actor/internal/actorbench"
	"ds440/internal/testutil"
)

const procWait = 60 * time.Second // real processes under -race on a shared machine start slowly

// startPeer runs `actorbench -serve` and returns the address of its system.
func startPeer(t *testing.T, bin string, port string) (*testutil.Proc, string) {
	t.Helper()
	args := []string{"-serve"}
	if port != "" {
		args = append(args, "-port", port)
	}
	p := testutil.StartProc(t, bin, args...)
	m := p.WaitLine(t, `serving on (\S+)`, procWait)
	return p, m[1]
}

// localSystem starts a system in the test process and collects the errors it reports.
func localSystem(tb testing.TB) (*actor.ActorSystem, <-chan error) {
	tb.Helper()
	sys, err := actor.NewActorSystem(0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(sys.Close)
	errs := make(chan error, 100)
	sys.OnError(func(err error) {
		select {
		case errs <- err:
		default:
		}
	})
	return sys, errs
}

// TestTwoProcessesStreamInOrder streams messages from one process to another, many full
// batches' worth (20,000 messages; 100,000 in `make soak`), and checks that all arrive in order.
func TestTwoProcessesStreamInOrder(t *testing.T) {
	t.Parallel()
	testutil.SkipIfShort(t)
	n := testutil.SoakSize(20_000, 100_000)
	bin := testutil.BuildBinary(t, "ds440/actor/cmd/actorbench")
	_, addr := startPeer(t, bin, "")
	driver := testutil.StartProc(t, bin, "-connect", addr, "-n", strconv.Itoa(n), "-pings", "50")
	for _, where := range []string{"local", "remote"} {
		line := driver.WaitLine(t, `^`+where+`:.*`, procWait)[0]
		if !regexp.MustCompile(`\b` + strconv.Itoa(n) + ` messages .* in order$`).MatchString(line) {
			t.Fatalf("driver: %s", line)
		}
	}
	if err := driver.Wait(t, procWait); err != nil {
		t.Fatalf("driver exited with %v", err)
	}
}

func TestRemoteProcessKilledAndRestarted(t *testing.T) {
	t.Parallel()
	testutil.SkipIfShort(t)
	bin := testutil.BuildBinary(t, "ds440/actor/cmd/actorbench")
	peer, addr := startPeer(t, bin, strconv.Itoa(testutil.FreePort(t)))
	sys, errs := localSystem(t)
	checker := actor.ActorRef{Address: addr, Counter: 1}

	stream := func(name string, n int) {
		t.Helper()
		r, _, err := actorbench.Stream(sys, checker, name, n, procWait)
		if err != nil || r.Count != n || r.OutOfOrder != 0 {
			t.Fatalf("stream %s: %+v, %v", name, r, err)
		}
	}
	stream("before", 1000)
	// The checker's answer can overtake the acknowledgement of the last batch; a batch still
	// unacknowledged when the peer dies is counted lost (it may or may not have arrived).
	testutil.Eventually(t, procWait, func() bool { return sys.PendingRemote(addr) == 0 }, "batches to the peer acknowledged")

	peer.Kill()
	<-peer.Done()
	const lost = 20
	for i := range lost {
		sys.Tell(&checker, actorbench.Seq{Stream: "during", N: i})
	}
	testutil.Eventually(t, procWait, func() bool { return sys.Stats().MessagesUndelivered == lost },
		"%d messages to the dead peer counted undelivered (have %d)", lost, sys.Stats().MessagesUndelivered)
	if err := testutil.Recv(t, errs, procWait); !errors.Is(err, actor.ErrRemoteUnreachable) {
		t.Fatalf("reported %v, want ErrRemoteUnreachable", err)
	}

	_, port, _ := net.SplitHostPort(addr)
	startPeer(t, bin, port)
	stream("after", 1000)
	if n := sys.Stats().MessagesUndelivered; n != lost {
		t.Fatalf("MessagesUndelivered = %d, want %d", n, lost)
	}
}

func TestActorbenchUsage(t *testing.T) {
	t.Parallel()
	testutil.SkipIfShort(t)
	bin := testutil.BuildBinary(t, "ds440/actor/cmd/actorbench")
	for _, args := range [][]string{{}, {"-serve", "-connect", "x:1"}, {"-connect", "x:1", "-n", "0"}, {"-bogus"}, {"extra"}} {
		p := testutil.StartProc(t, bin, args...)
		var exit *exec.ExitError
		if err := p.Wait(t, procWait); !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("actorbench %v: %v, want exit status 2", args, err)
		}
		// The reason first, then the usage.
		if lines := p.Lines(); len(lines) < 2 || !strings.HasPrefix(lines[0], "actorbench: ") && !strings.Contains(lines[0], "flag provided but not defined") || !strings.HasPrefix(lines[1], "usage: actorbench") {
			t.Errorf("actorbench %v printed %q, want the reason and the usage", args, lines)
		}
	}
}

// unknownToPeer is registered in this test binary only: the peer cannot decode it.
type unknownToPeer struct{ N int }

func init() { gob.Register(unknownToPeer{}) }

func TestMessageTypeUnknownToThePeerCostsOnlyItsBatch(t *testing.T) {
	t.Parallel()
	testutil.SkipIfShort(t)
	bin := testutil.BuildBinary(t, "ds440/actor/cmd/actorbench")
	_, addr := startPeer(t, bin, "")
	sys, errs := localSystem(t)
	checker := actor.ActorRef{Address: addr, Counter: 1}

	sys.Tell(&checker, unknownToPeer{N: 1})
	testutil.Eventually(t, procWait, func() bool { return sys.Stats().MessagesUndelivered == 1 }, "the batch counted undelivered")
	if err := testutil.Recv(t, errs, procWait); !strings.Contains(err.Error(), "not registered") {
		t.Fatalf("reported %v, want the peer's decoding error", err)
	}
	r, _, err := actorbench.Stream(sys, checker, "after", 1000, procWait)
	if err != nil || r.Count != 1000 || r.OutOfOrder != 0 {
		t.Fatalf("stream after the bad batch: %+v, %v", r, err)
	}
}
