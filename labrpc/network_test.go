package labrpc

import (
	"context"
	"encoding/gob"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"ds440/internal/testutil"
)

// EchoArgs and EchoReply are the test service's wire types.
type EchoArgs struct {
	X    int
	Text string
	Data []byte
}

type EchoReply struct {
	X    int
	Text string
}

// Echo is a test service. Its handlers can be made to block until released, to test what
// happens to calls in flight.
type Echo struct {
	calls   atomic.Int64
	entered chan struct{} // receives once per Block call, if not nil
	release chan struct{} // Block waits for this to be closed
}

func (e *Echo) Echo(args *EchoArgs, reply *EchoReply) {
	e.calls.Add(1)
	reply.X = args.X
	reply.Text = args.Text
}

// Mutate changes its arguments, which the caller must never see.
func (e *Echo) Mutate(args *EchoArgs, reply *EchoReply) {
	args.X = -1
	args.Data[0] = 'z'
	reply.X = 7
}

func (e *Echo) Block(args *EchoArgs, reply *EchoReply) {
	if e.entered != nil {
		e.entered <- struct{}{}
	}
	<-e.release
	reply.X = args.X
}

// helper is not a handler: it has the wrong shape.
func (e *Echo) Helper(x int) int { return x }

// simulate runs body in its own testing/synctest bubble, in parallel with the other tests. The
// network's delays then run on the bubble's fake clock, which moves only when every goroutine
// in the bubble is blocked, so a 7-second timeout costs nothing and cannot race a loaded
// machine; and synctest.Test fails the test if a goroutine the network started is still
// stuck once the test and its cleanups have returned.
func simulate(t *testing.T, body func(t *testing.T)) {
	t.Parallel()
	synctest.Test(t, body)
}

// setup returns a network with one Echo server called "s" reached by an enabled end "c".
func setup(tb testing.TB) (*Network, *ClientEnd, *Echo) {
	tb.Helper()
	net := MakeNetwork()
	tb.Cleanup(net.Cleanup)
	echo := &Echo{release: make(chan struct{})}
	srv := MakeServer()
	srv.AddService(MakeService(echo))
	net.AddServer("s", srv)
	end := net.MakeEnd("c")
	net.Connect("c", "s")
	net.Enable("c", true)
	return net, end, echo
}

// noWarnings fails the test if the network recorded a warning.
func noWarnings(t *testing.T, net *Network) {
	t.Helper()
	if w := net.Warnings(); len(w) > 0 {
		t.Fatalf("unexpected warnings: %q", w)
	}
}

func TestCallDeliversAndCopies(t *testing.T) {
	simulate(t, func(t *testing.T) {
		net, end, echo := setup(t)
		var reply EchoReply
		if !end.Call("Echo.Echo", &EchoArgs{X: 42, Text: "hi"}, &reply) {
			t.Fatal("call on a reliable network failed")
		}
		if reply.X != 42 || reply.Text != "hi" {
			t.Fatalf("reply = %+v, want X=42 Text=hi", reply)
		}

		args := &EchoArgs{X: 3, Data: []byte("abc")}
		reply = EchoReply{}
		if !end.Call("Echo.Mutate", args, &reply) || reply.X != 7 {
			t.Fatalf("Mutate: reply %+v", reply)
		}
		if args.X != 3 || string(args.Data) != "abc" {
			t.Fatalf("the handler's changes leaked back to the caller's args: %+v", args)
		}
		if echo.calls.Load() != 1 {
			t.Fatalf("Echo ran %d times, want 1", echo.calls.Load())
		}
		noWarnings(t, net)
	})
}

func TestDisabledAndUnconnectedEndsFail(t *testing.T) {
	simulate(t, func(t *testing.T) {
		net, end, echo := setup(t)
		net.Enable("c", false)
		if end.Call("Echo.Echo", &EchoArgs{}, &EchoReply{}) {
			t.Fatal("a disabled end's call succeeded")
		}
		net.Enable("c", true)
		if !end.Call("Echo.Echo", &EchoArgs{}, &EchoReply{}) {
			t.Fatal("a re-enabled end's call failed")
		}

		lone := net.MakeEnd("lone")
		net.Enable("lone", true)
		if lone.Call("Echo.Echo", &EchoArgs{}, &EchoReply{}) {
			t.Fatal("an unconnected end's call succeeded")
		}
		net.Connect("lone", "nobody")
		if lone.Call("Echo.Echo", &EchoArgs{}, &EchoReply{}) {
			t.Fatal("a call to a missing server succeeded")
		}
		net.DeleteServer("s")
		if end.Call("Echo.Echo", &EchoArgs{}, &EchoReply{}) {
			t.Fatal("a call to a deleted server succeeded")
		}
		if got := echo.calls.Load(); got != 1 {
			t.Fatalf("handler ran %d times, want 1", got)
		}
		var nilEnd *ClientEnd
		if nilEnd.Call("Echo.Echo", &EchoArgs{}, &EchoReply{}) {
			t.Fatal("a nil end's call succeeded")
		}
		noWarnings(t, net)
	})
}

func TestCounts(t *testing.T) {
	simulate(t, func(t *testing.T) {
		net, end, _ := setup(t)
		const n = 17
		for i := range n {
			if !end.Call("Echo.Echo", &EchoArgs{X: i, Data: make([]byte, 1000)}, &EchoReply{}) {
				t.Fatal("call failed")
			}
		}
		net.Enable("c", false)
		end.Call("Echo.Echo", &EchoArgs{}, &EchoReply{})

		if got := net.GetCount("s"); got != n {
			t.Errorf("GetCount = %d, want %d", got, n)
		}
		if got := net.GetTotalCount(); got != n+1 {
			t.Errorf("GetTotalCount = %d, want %d (lost calls count too)", got, n+1)
		}
		if got := net.GetTotalBytes(); got < n*1000 || got > n*1000+n*400 {
			t.Errorf("GetTotalBytes = %d, want about %d", got, n*1000)
		}
		if got := net.GetCount("nobody"); got != 0 {
			t.Errorf("GetCount of a missing server = %d", got)
		}
	})
}

func TestConcurrentCalls(t *testing.T) {
	simulate(t, func(t *testing.T) {
		net, end, echo := setup(t)
		var wg sync.WaitGroup
		var failed atomic.Int64
		for i := range 50 {
			wg.Go(func() {
				var reply EchoReply
				if !end.Call("Echo.Echo", &EchoArgs{X: i}, &reply) || reply.X != i {
					failed.Add(1)
				}
			})
		}
		wg.Wait()
		if failed.Load() != 0 || echo.calls.Load() != 50 || net.GetCount("s") != 50 {
			t.Fatalf("%d calls failed, handler ran %d times", failed.Load(), echo.calls.Load())
		}
	})
}

func TestUnreliableLosesSomeCalls(t *testing.T) {
	simulate(t, func(t *testing.T) {
		net, end, echo := setup(t)
		net.Reliable(false)
		const n = 300
		var wg sync.WaitGroup
		var ok atomic.Int64
		for i := range n {
			wg.Go(func() {
				var reply EchoReply
				if end.Call("Echo.Echo", &EchoArgs{X: i}, &reply) {
					if reply.X != i {
						t.Errorf("reply %d for call %d", reply.X, i)
					}
					ok.Add(1)
				}
			})
		}
		wg.Wait()
		// About 19% are lost (10% of requests, then 10% of replies); the bounds are many standard
		// deviations wide so only a broken network fails them.
		if got := ok.Load(); got < n*60/100 || got > n*95/100 {
			t.Fatalf("%d of %d unreliable calls succeeded, want about 81%%", got, n)
		}
		if ran := echo.calls.Load(); ran <= ok.Load() {
			t.Fatalf("handler ran %d times for %d successes: no reply was ever lost", ran, ok.Load())
		}
		noWarnings(t, net)
	})
}

func TestKilledServerLosesCallInFlight(t *testing.T) {
	for _, kill := range []struct {
		name string
		do   func(*Network)
	}{
		{"delete", func(n *Network) { n.DeleteServer("s") }},
		{"replace", func(n *Network) { n.AddServer("s", MakeServer()) }},
		{"disable", func(n *Network) { n.Enable("c", false) }},
	} {
		t.Run(kill.name, func(t *testing.T) {
			simulate(t, func(t *testing.T) {
				net, end, echo := setup(t)
				echo.entered = make(chan struct{}, 1)
				result := make(chan bool)
				go func() { result <- end.Call("Echo.Block", &EchoArgs{X: 1}, &EchoReply{}) }()
				testutil.Recv(t, echo.entered, 5*time.Second)
				kill.do(net)
				if testutil.Recv(t, result, 5*time.Second) {
					t.Fatal("the call succeeded although its server became unreachable mid-call")
				}
				close(echo.release)
			})
		})
	}
}

func TestCleanupStopsEverything(t *testing.T) {
	simulate(t, func(t *testing.T) {
		net := MakeNetwork()
		echo := &Echo{entered: make(chan struct{}, 10), release: make(chan struct{})}
		srv := MakeServer()
		srv.AddService(MakeService(echo))
		net.AddServer("s", srv)
		net.LongDelays(true)
		net.LongReordering(true)

		live := net.MakeEnd("live")
		net.Connect("live", "s")
		net.Enable("live", true)
		dead := net.MakeEnd("dead") // disabled: its calls wait up to 7 s before failing

		results := make(chan bool, 20)
		for range 10 {
			go func() { results <- dead.Call("Echo.Echo", &EchoArgs{}, &EchoReply{}) }()
		}
		go func() { results <- live.Call("Echo.Block", &EchoArgs{}, &EchoReply{}) }()
		testutil.Recv(t, echo.entered, 5*time.Second)

		// Release the blocked handler once Cleanup has shut the network, so Cleanup must wait for it.
		go func() {
			<-net.done
			close(echo.release)
		}()
		testutil.Within(t, 5*time.Second, "Cleanup", net.Cleanup)
		net.mu.Lock()
		running := net.inflight
		net.mu.Unlock()
		if running != 0 {
			t.Fatalf("Cleanup returned with %d handlers running", running)
		}
		for range 11 {
			if testutil.Recv(t, results, time.Second) {
				t.Fatal("a call succeeded across Cleanup")
			}
		}
		testutil.Within(t, time.Second, "second Cleanup", net.Cleanup)
		if live.Call("Echo.Echo", &EchoArgs{}, &EchoReply{}) {
			t.Fatal("a call after Cleanup succeeded")
		}
	})
}

func TestLongReorderingDelaysReplies(t *testing.T) {
	simulate(t, func(t *testing.T) {
		net, end, _ := setup(t)
		net.LongReordering(true)
		const n = 20
		var wg sync.WaitGroup
		var slow atomic.Int64
		for range n {
			wg.Go(func() {
				start := time.Now()
				if !end.Call("Echo.Echo", &EchoArgs{}, &EchoReply{}) {
					t.Error("a reordered call was lost on a reliable network")
				}
				if time.Since(start) >= minReorderDelay {
					slow.Add(1)
				}
			})
		}
		wg.Wait()
		// Each reply is held back with probability 2/3; all 20 on time happens once in 10^9 runs.
		if slow.Load() == 0 {
			t.Fatal("no reply was held back")
		}
	})
}

// TestDelaysOnTheFakeClock checks the network's delays to the millisecond, which only a fake
// clock allows: a reliable call takes no time, a call to an unreachable server fails within
// its limit (and sometimes close to it), and every held-back reply waits at least the minimum.
func TestDelaysOnTheFakeClock(t *testing.T) {
	simulate(t, func(t *testing.T) {
		net, end, _ := setup(t)
		took := func(e *ClientEnd) (time.Duration, bool) {
			start := time.Now()
			ok := e.Call("Echo.Echo", &EchoArgs{}, &EchoReply{})
			return time.Since(start), ok
		}
		if d, ok := took(end); !ok || d != 0 {
			t.Fatalf("a reliable call took %v (ok %v), want no time at all", d, ok)
		}
		dead := net.MakeEnd("dead")
		for _, long := range []bool{false, true} {
			net.LongDelays(long)
			limit := maxDeadDelay
			if long {
				limit = maxLongDeadDelay
			}
			var longest time.Duration
			for range 50 {
				d, ok := took(dead)
				if ok || d >= limit {
					t.Fatalf("long delays %v: a call to an unreachable server took %v (ok %v), limit %v", long, d, ok, limit)
				}
				longest = max(longest, d)
			}
			if longest < limit/2 {
				t.Fatalf("long delays %v: 50 failed calls all took under %v", long, longest)
			}
		}
		net.LongReordering(true)
		held := 0
		for range 50 {
			d, ok := took(end)
			if !ok {
				t.Fatal("a reordered call was lost on a reliable network")
			}
			if d != 0 {
				held++
				if d < minReorderDelay || d > minReorderDelay+maxReorderExtra {
					t.Fatalf("a held-back reply took %v, outside [%v, %v]", d, minReorderDelay, minReorderDelay+maxReorderExtra)
				}
			}
		}
		// Each reply is held back with probability 2/3: fewer than 15 of 50 is about 7 sigma out.
		if held < 15 || held == 50 {
			t.Fatalf("%d of 50 replies held back, want about 33", held)
		}
		noWarnings(t, net)
	})
}

// TestCallContextGivesUp checks that CallContext returns false as soon as its context ends,
// whether the call waits out an unreachable server's delay or a handler that has not returned,
// and that the network's count still includes it.
func TestCallContextGivesUp(t *testing.T) {
	simulate(t, func(t *testing.T) {
		net, end, echo := setup(t)
		echo.entered = make(chan struct{}, 1)
		net.LongDelays(true)
		dead := net.MakeEnd("dead")
		for _, tc := range []struct {
			name string
			end  *ClientEnd
			meth string
		}{{"unreachable", dead, "Echo.Echo"}, {"handler running", end, "Echo.Block"}} {
			ctx, cancel := context.WithCancel(context.Background())
			result := make(chan bool)
			start := time.Now()
			go func() { result <- tc.end.CallContext(ctx, tc.meth, &EchoArgs{}, &EchoReply{}) }()
			time.Sleep(time.Millisecond) // fake time: the call is under way when the bubble next blocks
			synctest.Wait()
			cancel()
			if testutil.Recv(t, result, time.Second) {
				t.Fatalf("%s: an abandoned call succeeded", tc.name)
			}
			if d := time.Since(start); d != time.Millisecond {
				t.Fatalf("%s: the call returned %v after it started, want at its cancellation (1ms)", tc.name, d)
			}
		}
		close(echo.release)
		if got := net.GetTotalCount(); got != 2 {
			t.Fatalf("GetTotalCount = %d, want 2", got)
		}
	})
}

func TestWarnings(t *testing.T) {
	simulate(t, func(t *testing.T) {
		type lower struct {
			Good int
			bad  int
		}
		type nested struct{ Inner []map[string]lower }

		net, end, _ := setup(t)
		end.Call("Echo.Echo", &EchoArgs{}, &EchoReply{X: 3})
		end.Call("Echo.Nope", &EchoArgs{}, &EchoReply{})
		end.Call("Nope.Echo", &EchoArgs{}, &EchoReply{})
		end.Call("Echo.Echo", &lower{}, &EchoReply{})
		end.Call("Echo.Echo", &nested{}, &EchoReply{})
		end.Call("Echo.Echo", &EchoArgs{}, &EchoReply{}) // fine
		var once []string
		for range 3 { // repeats are recorded once
			end.Call("Echo.Echo", &EchoArgs{}, &EchoReply{X: 3})
			once = net.Warnings()
		}

		all := strings.Join(once, "\n")
		if c := strings.Count(all, "non-zero"); c != 1 {
			t.Errorf("the same warning was recorded %d times", c)
		}
		want := []string{"non-zero", "unknown method", "unknown service", "field bad", "do not decode"}
		for _, w := range want {
			if !strings.Contains(all, w) {
				t.Errorf("no warning mentions %q in:\n%s", w, all)
			}
		}
	})
}

func TestCheckType(t *testing.T) {
	t.Parallel()
	type ok struct {
		A int
		B []string
		C map[int]*EchoArgs
		T time.Time // encodes itself; its private fields are fine
	}
	type bad struct {
		A    int
		low  string
		Deep struct{ x int }
	}
	if err := CheckType(&ok{}); err != nil {
		t.Errorf("CheckType(ok) = %v", err)
	}
	if err := CheckType(nil); err != nil {
		t.Errorf("CheckType(nil) = %v", err)
	}
	err := CheckType([]bad{})
	if err == nil || !strings.Contains(err.Error(), "field low") || !strings.Contains(err.Error(), "field x") {
		t.Errorf("CheckType(bad) = %v, want both lower-case fields named", err)
	}
}

func TestBadNamesAreNotPanics(t *testing.T) {
	simulate(t, func(t *testing.T) {
		net := MakeNetwork()
		defer net.Cleanup()
		end := net.MakeEnd([]int{1})
		if end.Call("Echo.Echo", &EchoArgs{}, &EchoReply{}) {
			t.Fatal("call on an end with a bad name succeeded")
		}
		net.Connect([]int{1}, "s")
		net.Enable(map[int]int{}, true)
		net.AddServer("s", nil)
		net.DeleteServer([]byte("s"))
		if net.GetCount([]int{}) != 0 {
			t.Fatal("count of a bad name")
		}
		if len(net.Warnings()) == 0 {
			t.Fatal("bad names were not reported")
		}
		net.MakeEnd("twice")
		net.MakeEnd("twice")
	})
}

func TestMakeServiceKeepsOnlyHandlers(t *testing.T) {
	t.Parallel()
	svc := MakeService(&Echo{})
	if svc.Name() != "Echo" {
		t.Errorf("name = %q", svc.Name())
	}
	for _, m := range []string{"Echo", "Mutate", "Block"} {
		if _, ok := svc.methods[m]; !ok {
			t.Errorf("handler %s missing", m)
		}
	}
	if _, ok := svc.methods["Helper"]; ok {
		t.Error("Helper is not a handler but was registered")
	}
	if s := MakeService(nil); len(s.methods) != 0 {
		t.Error("MakeService(nil) has methods")
	}
}

// FuzzDispatch feeds arbitrary bytes to a server as a request on a fresh connection: the server
// must reject or serve it, never panic, and a served request must yield a reply that decodes.
func FuzzDispatch(f *testing.F) {
	good, _, _ := send(&EchoArgs{X: 1, Text: "a", Data: []byte{2}})
	f.Add(good.buf.Bytes())
	f.Add([]byte{})
	f.Add([]byte{0xff, 0x00, 0x13})
	srv := MakeServer()
	srv.AddService(MakeService(&Echo{}))
	f.Fuzz(func(t *testing.T, data []byte) {
		req := &stream{}
		req.buf.Write(data)
		req.dec = gob.NewDecoder(&req.buf)
		reply, _, err := srv.dispatch("Echo.Echo", req)
		if err == nil {
			var r EchoReply
			if derr := reply.receive(&r); derr != nil {
				t.Fatalf("a successful dispatch produced an undecodable reply: %v", derr)
			}
		}
	})
}

// FuzzCallCopies checks that a call delivers exactly what was sent and returns exactly what the
// handler replied, whatever the values.
func FuzzCallCopies(f *testing.F) {
	f.Add(0, "", []byte(nil))
	f.Add(-7, "héllo", []byte{0, 1, 2})
	_, end, _ := setup(f)
	f.Fuzz(func(t *testing.T, x int, text string, data []byte) {
		var reply EchoReply
		if !end.Call("Echo.Echo", &EchoArgs{X: x, Text: text, Data: data}, &reply) {
			t.Fatal("call failed on a reliable network")
		}
		if reply.X != x || reply.Text != text {
			t.Fatalf("sent X=%d Text=%q, got back %+v", x, text, reply)
		}
	})
}

func BenchmarkCall(b *testing.B) {
	_, end, _ := setup(b)
	args := &EchoArgs{X: 1, Text: "hello", Data: make([]byte, 64)}
	b.ReportAllocs()
	for b.Loop() {
		var reply EchoReply
		if !end.Call("Echo.Echo", args, &reply) {
			b.Fatal("call failed")
		}
	}
}
