package testutil

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ds440/internal/freeport"
)

// fakeTB records failures instead of stopping the test, so the helpers' failure paths can be
// checked. Fatalf ends the calling goroutine like the real one does.
type fakeTB struct {
	testing.TB
	failed   bool
	msg      string
	cleanups []func()
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = true
	f.msg = format
	panic(fakeFatal{})
}
func (f *fakeTB) Errorf(format string, args ...any) { f.failed = true; f.msg = format }
func (f *fakeTB) Cleanup(fn func())                 { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Logf(string, ...any)               {}
func (f *fakeTB) Failed() bool                      { return f.failed }
func (f *fakeTB) runCleanups() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

type fakeFatal struct{}

// fails runs body against a fakeTB and reports whether it failed.
func fails(body func(tb *fakeTB)) bool {
	tb := &fakeTB{}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(fakeFatal); !ok {
					panic(r)
				}
			}
		}()
		body(tb)
	}()
	return tb.failed
}

func TestEventually(t *testing.T) {
	start := time.Now()
	Eventually(t, time.Second, func() bool { return time.Since(start) > 10*time.Millisecond }, "clock")
	if fails(func(tb *fakeTB) { Eventually(tb, 20*time.Millisecond, func() bool { return false }, "never") }) == false {
		t.Fatal("Eventually did not fail on a condition that never holds")
	}
}

func TestRecv(t *testing.T) {
	ch := make(chan int, 1)
	ch <- 7
	if got := Recv(t, ch, time.Second); got != 7 {
		t.Fatalf("Recv = %d, want 7", got)
	}
	if !fails(func(tb *fakeTB) { Recv(tb, make(chan int), 10*time.Millisecond) }) {
		t.Fatal("Recv did not fail on timeout")
	}
	closed := make(chan int)
	close(closed)
	if !fails(func(tb *fakeTB) { Recv(tb, closed, time.Second) }) {
		t.Fatal("Recv did not fail on a closed channel")
	}
}

func TestNoRecv(t *testing.T) {
	NoRecv(t, make(chan int), 5*time.Millisecond)
	ch := make(chan int, 1)
	ch <- 1
	if !fails(func(tb *fakeTB) { NoRecv(tb, ch, time.Second) }) {
		t.Fatal("NoRecv did not fail when a value arrived")
	}
}

func TestWithin(t *testing.T) {
	Within(t, time.Second, "quick", func() {})
	block := make(chan struct{})
	defer close(block)
	if !fails(func(tb *fakeTB) { Within(tb, 10*time.Millisecond, "stuck", func() { <-block }) }) {
		t.Fatal("Within did not fail on a call that blocks")
	}
}

func TestCheckGoroutinesCatchesLeak(t *testing.T) {
	stop := make(chan struct{})
	tb := &fakeTB{}
	checkGoroutines(tb, 50*time.Millisecond)
	go func() { <-stop }()
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The leaked goroutine outlives the grace period: end it afterwards.
		tb.runCleanups()
	}()
	<-done
	close(stop)
	if !tb.failed || !strings.Contains(tb.msg, "leaked") {
		t.Fatalf("leak not reported (failed=%v, msg=%q)", tb.failed, tb.msg)
	}
}

func TestCheckGoroutinesAcceptsClean(t *testing.T) {
	tb := &fakeTB{}
	CheckGoroutines(tb)
	stop := make(chan struct{})
	exited := make(chan struct{})
	go func() { <-stop; close(exited) }()
	close(stop)
	<-exited
	tb.runCleanups()
	if tb.failed {
		t.Fatalf("clean test reported a leak: %s", tb.msg)
	}
}

// The ports lie below the kernel's ephemeral range, and they are free.
func TestFreePorts(t *testing.T) {
	if p := FreePort(t); p < freeport.Low || p >= freeport.High {
		t.Fatalf("FreePort = %d, want %d-%d", p, freeport.Low, freeport.High-1)
	}
	if p := FreeUDPPort(t); p < freeport.Low || p >= freeport.High {
		t.Fatalf("FreeUDPPort = %d, want %d-%d", p, freeport.Low, freeport.High-1)
	}
	p := FreePortRange(t, 4)
	if p < freeport.Low || p+3 >= freeport.High {
		t.Fatalf("FreePortRange = %d, want %d-%d", p, freeport.Low, freeport.High-4)
	}
	for port := p; port < p+4; port++ {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			t.Fatalf("port %d of the range %d-%d: %v", port, p, p+3, err)
		}
		l.Close()
	}
}

// No two ports handed out are the same, whatever the kind of request.
func TestFreePortsAreDistinct(t *testing.T) {
	seen := map[int]bool{}
	take := func(first, n int) {
		t.Helper()
		for p := first; p < first+n; p++ {
			if seen[p] {
				t.Fatalf("port %d handed out twice", p)
			}
			seen[p] = true
		}
	}
	for range 20 {
		take(FreePort(t), 1)
		take(FreeUDPPort(t), 1)
		take(FreePortRange(t, 3), 3)
	}
}

// A binary built for tests leaves nothing in the temp directory, and a second test, in this
// process or another, gets the one already linked.
func TestBuildBinaryLeavesNothingBehind(t *testing.T) {
	SkipIfShort(t)
	first, second := &fakeTB{TB: t}, &fakeTB{TB: t}
	bin := BuildBinary(first, "./testdata/hello")
	if again := BuildBinary(second, "./testdata/hello"); again != bin {
		t.Errorf("a second test got %s, want the binary already built, %s", again, bin)
	}
	p := StartProc(t, bin)
	p.WaitLine(t, "^hello$", time.Minute)
	if err := p.Wait(t, time.Minute); err != nil {
		t.Errorf("hello: %v", err)
	}
	if other, ok := cachedBinary("./testdata/hello"); !ok || other != bin {
		t.Errorf("another test process would get %q (%v), want the cached %s", other, ok, bin)
	}
	first.runCleanups()
	second.runCleanups()
	left, _ := filepath.Glob(filepath.Join(os.TempDir(), fmt.Sprintf("%s%d-*", binDirPrefix, os.Getpid())))
	if len(left) > 0 {
		t.Errorf("%v left behind in the temp directory", left)
	}
}

// Where the build cache keeps no copy, a binary built for tests is gone once the last test that
// asked for one has ended, and two tests that overlap share it.
func TestBuildInTempLeavesNothingBehind(t *testing.T) {
	SkipIfShort(t)
	first, second := &fakeTB{TB: t}, &fakeTB{TB: t}
	binaries.mu.Lock()
	bin := buildInTemp(first, "./testdata/hello")
	again := buildInTemp(second, "./testdata/hello")
	binaries.mu.Unlock()
	if again != bin {
		t.Errorf("a second test got %s, want the binary already built, %s", again, bin)
	}
	p := StartProc(t, bin)
	p.WaitLine(t, "^hello$", time.Minute)
	if err := p.Wait(t, time.Minute); err != nil {
		t.Errorf("hello: %v", err)
	}
	first.runCleanups()
	if _, err := os.Stat(bin); err != nil {
		t.Errorf("binary removed while a test still uses it: %v", err)
	}
	second.runCleanups()
	if _, err := os.Stat(filepath.Dir(bin)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s left behind after the tests that built it ended (stat: %v)", filepath.Dir(bin), err)
	}
}

func TestSoakSize(t *testing.T) {
	t.Setenv(SoakEnv, "")
	if got := SoakSize(10, 1000); got != 10 {
		t.Errorf("SoakSize outside soak = %d, want 10", got)
	}
	t.Setenv(SoakEnv, "1")
	if got := SoakSize(10, 1000); got != 1000 {
		t.Errorf("SoakSize in soak = %d, want 1000", got)
	}
}
