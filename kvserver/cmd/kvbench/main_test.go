package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"ds440/internal/testutil"
	"ds440/kvserver"
)

// startServer starts an in-memory kvserver on a free port and returns its address.
func startServer(t *testing.T) string {
	t.Helper()
	return newServer(t).Addr().String()
}

// newServer starts an in-memory kvserver on a free port, closed when the test ends.
func newServer(t *testing.T) kvserver.KeyValueServer {
	t.Helper()
	srv := kvserver.New(kvserver.NewMemoryStore())
	if err := srv.Start(0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func TestKvbenchDrivesTwoServersAndPrintsTheRatio(t *testing.T) {
	testutil.CheckGoroutines(t)
	a, b := startServer(t), startServer(t)
	for _, r := range []struct{ engine, proto string }{
		{"goroutines", "text"}, {"goroutines", "redis"}, {"epoll", "redis"}, {"uring", "redis"},
	} {
		if r.engine != "goroutines" && !haveEvents {
			continue
		}
		for _, pipeline := range []string{"1", "8"} {
			var out, errOut bytes.Buffer
			args := []string{"-addr", a, "-compare", "other=" + b, "-proto", r.proto, "-engine", r.engine, "-clients", "4",
				"-duration", "300ms", "-pipeline", pipeline, "-keys", "50", "-get", "0.5", "-rounds", "2"}
			srvCPU := `- +-`
			if canReadProc { // both servers live in this process
				args = append(args, "-pid", "kvserver="+strconv.Itoa(os.Getpid()), "-pid", "other="+strconv.Itoa(os.Getpid()))
				srvCPU = `\d+\.\d\dus +\d+%`
			}
			if code := run(context.Background(), args, &out, &errOut); code != 0 {
				t.Fatalf("kvbench %v: exit %d\n%s%s", args, code, out.String(), errOut.String())
			}
			cols := ` +[1-9]\d* +\d+\.\d{3}ms +\d+\.\d{3}ms +\d+\.\d{3}ms +0 +` + srvCPU + ` +(\d+\.\d\dus +\d+%|- +-)$`
			wantRatio := `(?m)^ratio kvserver/other: \d+\.\d\dx ops/s, p50 \d+\.\d\dx, p99 \d+\.\d\dx`
			if canReadProc {
				wantRatio += `, server cpu/op \d+\.\d\dx`
			}
			for _, want := range []string{
				`(?m)^kvserver +` + regexp.QuoteMeta(a) + cols,
				`(?m)^other +` + regexp.QuoteMeta(b) + cols,
				wantRatio,
			} {
				if !regexp.MustCompile(want).MatchString(out.String()) {
					t.Errorf("kvbench %s engine, %s protocol, pipeline %s: output does not match %s:\n%s", r.engine, r.proto, pipeline, want, out.String())
				}
			}
		}
	}
}

func TestKvbenchArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		say  string
	}{
		{[]string{"-proto", "http"}, 2, "-proto must be text or redis"},
		{[]string{"-clients", "0"}, 2, "at least 1"},
		{[]string{"-get", "1.5"}, 2, "-get must be between 0 and 1"},
		{[]string{"-duration", "0s"}, 2, "-duration must be positive"},
		{[]string{"-addr", "nocolon"}, 2, "-addr must be host:port"},
		{[]string{"-compare", "redis"}, 2, "NAME=HOST:PORT"},
		{[]string{"-engine", "threads"}, 2, "-engine must be goroutines, epoll or uring"},
		{[]string{"-engine", "epoll", "-proto", "text"}, 2, "-engine epoll"},
		{[]string{"-pid", "kvserver"}, 2, "NAME=PID"},
		{[]string{"-pid", "kvserver=0"}, 2, "NAME=PID"},
		{[]string{"-pid", "nosuch=1"}, 2, "-pid"},
		{[]string{"-duration", "-1s"}, 2, `invalid value "-1s" for flag -duration: must not be negative`},
		{[]string{"-value-size", "-1"}, 2, `invalid value "-1" for flag -value-size: must not be negative`},
		{[]string{"extra"}, 2, `unexpected arguments ["extra"]`},
		{[]string{"-h"}, 0, "usage: kvbench [flags]"},
		{[]string{"-addr", "127.0.0.1:1", "-duration", "100ms"}, 1, "kvbench: kvserver (127.0.0.1:1): loading the keys: "},
	} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), tc.args, &out, &errOut)
		said := errOut.String() // the reason, then the usage; -h prints the usage on stdout
		if tc.code == 0 {
			said = out.String()
		}
		if code != tc.code || !strings.Contains(said, tc.say) {
			t.Errorf("kvbench %v: exit %d, stdout %q, stderr %q; want exit %d mentioning %q", tc.args, code, out.String(), errOut.String(), tc.code, tc.say)
		}
		if tc.code == 2 && !strings.Contains(errOut.String(), "usage: kvbench") {
			t.Errorf("kvbench %v: no usage on stderr:\n%s", tc.args, errOut.String())
		}
	}
}

func TestKvbenchStopsWhenInterrupted(t *testing.T) {
	addr := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond) // SIGINT mid-run
	defer cancel()
	var out, errOut bytes.Buffer
	code := -1
	testutil.Within(t, 20*time.Second, "an interrupted kvbench", func() {
		code = run(ctx, []string{"-addr", addr, "-duration", "1h", "-clients", "2", "-keys", "10"}, &out, &errOut)
	})
	if code != 0 || !strings.Contains(errOut.String(), "interrupted") || !strings.Contains(out.String(), "kvserver") {
		t.Fatalf("interrupted kvbench: exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
}

// TestTurnLeavesNoConnectionBehind checks that a turn's idle connections are all accepted
// before its load starts and all closed by the server when the turn returns, so that the next
// server's measured window does not pay for this one's connections.
func TestTurnLeavesNoConnectionBehind(t *testing.T) {
	t.Parallel()
	testutil.CheckGoroutines(t)
	srv := newServer(t)
	addr := srv.Addr().String()
	ctx := context.Background()
	const idle = 500
	for p, name := range map[proto]string{protoText: "text", protoRedis: "redis"} {
		cfg := config{proto: p, clients: 2, duration: 50 * time.Millisecond, getFrac: 0.5, pipeline: 1, keys: 10, valueSize: 4, seed: 1, grace: 10 * time.Second}
		if err := populate(ctx, addr, cfg); err != nil {
			t.Fatal(err)
		}
		held, err := holdIdle(ctx, addr, cfg, idle)
		if err != nil {
			t.Fatal(err)
		}
		if got := srv.CountActive(); got != idle {
			t.Errorf("%s: server has %d clients once holdIdle returned, want its %d idle ones", name, got, idle)
		}
		if open := release(ctx, held); open != 0 {
			t.Errorf("%s: release left %d connections open", name, open)
		}
		if got := srv.CountActive(); got != 0 {
			t.Errorf("%s: server still has %d clients once release returned, want 0", name, got)
		}
		var errOut bytes.Buffer
		res, err := turn(ctx, target{name: "kvserver", addr: addr}, idle, cfg, &errOut)
		if err != nil || res.ops == 0 || errOut.Len() > 0 {
			t.Fatalf("%s: turn: %v, %d ops, stderr %q", name, err, res.ops, errOut.String())
		}
		if got := srv.CountActive(); got != 0 {
			t.Errorf("%s: server still has %d clients once the turn returned, want 0", name, got)
		}
	}
}
