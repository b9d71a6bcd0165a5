package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ds440/internal/testutil"
	"ds440/kvserver/internal/rawio"
)

// fakeServer is a RESP server whose replies a test shapes: each request, an array of bulk
// strings, is parsed with parseReply (a request has a reply's grammar) and answered by answer,
// which writes to the connection and returns false to close it. It counts the requests it read.
type fakeServer struct {
	ln       net.Listener
	answer   func(c net.Conn, n int) bool // n: requests read so far on c, this one included
	requests atomic.Int64
	wg       sync.WaitGroup
}

func startFake(t *testing.T, answer func(c net.Conn, n int) bool) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{ln: ln, answer: answer}
	f.wg.Add(1)
	go f.accept()
	t.Cleanup(f.close)
	return f
}

// close stops f and returns once its connections are closed and its goroutines gone.
func (f *fakeServer) close() {
	f.ln.Close()
	f.wg.Wait()
}

func (f *fakeServer) accept() {
	defer f.wg.Done()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		conns = append(conns, c)
		f.wg.Add(1)
		go f.serve(c)
	}
}

func (f *fakeServer) serve(c net.Conn) {
	defer f.wg.Done()
	defer c.Close()
	var buf []byte
	tmp := make([]byte, 4096)
	n := 0
	for {
		m, err := c.Read(tmp)
		if err != nil {
			return
		}
		buf = append(buf, tmp[:m]...)
		for {
			used, _, err := parseReply(buf, 0)
			if err != nil {
				return
			}
			if used == 0 {
				break
			}
			buf = buf[used:]
			n++
			f.requests.Add(1)
			if !f.answer(c, n) {
				return
			}
		}
	}
}

func (f *fakeServer) count() int { return int(f.requests.Load()) }

func engineConfig(engine engineKind, clients, pipeline int, d time.Duration) config {
	return config{proto: protoRedis, engine: engine, clients: clients, duration: d, getFrac: 0.5,
		pipeline: pipeline, keys: 100, valueSize: 3, seed: 1, grace: 5 * time.Second}
}

// engines are the event-driven engines, with their names.
var engines = []struct {
	name string
	kind engineKind
}{{"epoll", engineEpoll}, {"uring", engineUring}}

// skipNoUring skips the test if this kernel does not let kvbench set up an io_uring.
func skipNoUring(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, rawio.ErrNoUring) {
		t.Skipf("%v", err)
	}
}

// openFDs returns the number of descriptors the process has open.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestEventEngineCountsEveryReply drives a server that sends each reply in two pieces, so that
// replies end mid-read, with and without pipelining: kvbench counts exactly the requests the
// server read, in whole batches, and leaves no descriptor or goroutine behind.
func TestEventEngineCountsEveryReply(t *testing.T) {
	testutil.CheckGoroutines(t)
	for _, eng := range engines {
		for _, pipeline := range []int{1, 16} {
			t.Run(fmt.Sprintf("%s/P%d", eng.name, pipeline), func(t *testing.T) {
				countEveryReply(t, eng.kind, pipeline)
			})
		}
	}
}

func countEveryReply(t *testing.T, engine engineKind, pipeline int) {
	fds := openFDs(t)
	f := startFake(t, func(c net.Conn, _ int) bool {
		_, err1 := c.Write([]byte("$3\r\nx"))
		_, err2 := c.Write([]byte("xx\r\n"))
		return err1 == nil && err2 == nil
	})
	cfg := engineConfig(engine, 5, pipeline, 200*time.Millisecond)
	res, err := runTarget(context.Background(), f.ln.Addr().String(), cfg, &meter{pid: os.Getpid()})
	skipNoUring(t, err)
	if err != nil {
		t.Fatal(err)
	}
	if res.failed != 0 || res.errs != 0 || res.ops == 0 {
		t.Fatalf("pipeline %d: %d ops, %d errors, %d broken (%v)", pipeline, res.ops, res.errs, res.failed, res.broke)
	}
	if got := f.count(); uint64(got) != res.ops || res.ops%uint64(pipeline) != 0 || res.lat.count() != res.ops {
		t.Errorf("pipeline %d: kvbench counted %d ops and %d latencies, the server read %d requests", pipeline, res.ops, res.lat.count(), got)
	}
	if !res.cpu.hasGen || !res.cpu.hasSrv || res.elapsed < cfg.duration {
		t.Errorf("pipeline %d: cpu %+v, elapsed %v", pipeline, res.cpu, res.elapsed)
	}
	f.close()
	if now := openFDs(t); now != fds {
		t.Errorf("pipeline %d: %d descriptors open before the run, %d after", pipeline, fds, now)
	}
}

// TestEventEngineAgainstKvserver drives an in-process kvserver with sets only: every batch is
// answered, and the keys the workload set hold its value.
func TestEventEngineAgainstKvserver(t *testing.T) {
	testutil.CheckGoroutines(t)
	srv := newServer(t)
	addr := srv.Addr().String()
	for _, eng := range engines {
		for _, pipeline := range []int{1, 16} {
			cfg := engineConfig(eng.kind, 20, pipeline, 200*time.Millisecond)
			cfg.getFrac = 0
			res, err := runTarget(context.Background(), addr, cfg, &meter{})
			if errors.Is(err, rawio.ErrNoUring) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.failed != 0 || res.errs != 0 || res.ops == 0 || res.ops%uint64(pipeline) != 0 || res.lat.count() != res.ops {
				t.Fatalf("%s pipeline %d: %d ops, %d latencies, %d errors, %d broken (%v)", eng.name, pipeline, res.ops, res.lat.count(), res.errs, res.failed, res.broke)
			}
			if got := srv.CountActive(); got != 0 {
				t.Errorf("%s pipeline %d: the server still has %d clients once the run returned", eng.name, pipeline, got)
			}
		}
	}
	_, k := newWorkload(1, 0, 0, 100, 3).next() // client 0's first set
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(appendOp(nil, protoRedis, true, keyName(nil, protoRedis, k), nil))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 64)
	n, _ := c.Read(buf)
	if got := string(buf[:n]); got != "$3\r\nxxx\r\n" {
		t.Errorf("GET %s = %q, want the workload's value", keyName(nil, protoRedis, k), got)
	}
}

// TestEventEngineBrokenServers checks that a server that closes its connections mid-run, sends
// more than was asked, or falls silent makes the run fail with the reason, and does not hang it.
func TestEventEngineBrokenServers(t *testing.T) {
	testutil.CheckGoroutines(t)
	for _, tc := range []struct {
		name   string
		answer func(c net.Conn, n int) bool
		want   string
	}{
		{"closes", func(c net.Conn, n int) bool {
			if n > 10 {
				return false
			}
			_, err := c.Write([]byte("+OK\r\n"))
			return err == nil
		}, "the server closed the connection"},
		{"chatters", func(c net.Conn, n int) bool {
			_, err := c.Write([]byte("+OK\r\n+OK\r\n"))
			return err == nil
		}, "more replies than requests"},
		{"garbles", func(c net.Conn, n int) bool {
			_, err := c.Write([]byte("?\r\n"))
			return err == nil
		}, "unexpected type byte"},
		{"falls silent", func(c net.Conn, n int) bool {
			if n <= 10 {
				c.Write([]byte("+OK\r\n"))
			}
			return true
		}, "no reply 300ms after the end of the run"},
	} {
		for _, eng := range engines {
			fds := openFDs(t)
			f := startFake(t, tc.answer)
			cfg := engineConfig(eng.kind, 3, 4, 200*time.Millisecond)
			cfg.grace = 300 * time.Millisecond
			var res *result
			var err error
			testutil.Within(t, 20*time.Second, "a run against a broken server", func() {
				res, err = runTarget(context.Background(), f.ln.Addr().String(), cfg, &meter{})
			})
			f.close()
			if errors.Is(err, rawio.ErrNoUring) {
				continue
			}
			if err != nil || res.failed != cfg.clients || res.broke == nil || !strings.Contains(res.broke.Error(), tc.want) {
				t.Errorf("%s, %s: err %v, %+v; want every client broken, the first with %q", eng.name, tc.name, err, res, tc.want)
			}
			if now := openFDs(t); now != fds {
				t.Errorf("%s, %s: %d descriptors open before the run, %d after", eng.name, tc.name, fds, now)
			}
		}
	}
}

// TestEventEngineStopsWhenInterrupted checks that a run ends soon after its context does.
func TestEventEngineStopsWhenInterrupted(t *testing.T) {
	testutil.CheckGoroutines(t)
	f := startFake(t, func(c net.Conn, _ int) bool {
		_, err := c.Write([]byte("+OK\r\n"))
		return err == nil
	})
	for _, eng := range engines {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		var res *result
		var err error
		testutil.Within(t, 20*time.Second, "an interrupted run", func() {
			res, err = runTarget(ctx, f.ln.Addr().String(), engineConfig(eng.kind, 3, 1, time.Hour), &meter{})
		})
		if errors.Is(err, rawio.ErrNoUring) {
			continue
		}
		if err != nil || res.ops == 0 || res.failed != 0 {
			t.Fatalf("%s: interrupted run: %v, %+v", eng.name, err, res)
		}
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("%s: the run returned before its context ended", eng.name)
		}
	}
}
