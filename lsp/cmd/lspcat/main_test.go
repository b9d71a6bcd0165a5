package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ds440/internal/testutil"
	"ds440/lsp"
	"ds440/lsp/lspnet"
)

const wait = 60 * time.Second

func TestParseArgs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args string
		ok   bool
	}{
		{"-l 0", true},
		{"-l 9999", true},
		{"localhost:9999", true},
		{"-drop 30 -window 8 -epoch-ms 10 127.0.0.1:1", true},
		{"", false},
		{"-l", false},
		{"-l 70000", false},
		{"-l port", false},
		{"no-port", false},
		{"a:1 b:2", false},
		{"-drop 101 a:1", false},
		{"-drop -1 a:1", false},
		{"-window 0 a:1", false},
		{"-epoch-ms 0 a:1", false},
		{"-backoff -1 a:1", false},
		{"-bogus a:1", false},
	} {
		cfg, err := parseArgs(strings.Fields(tc.args))
		if (err == nil) != tc.ok {
			t.Errorf("parseArgs(%q) = %+v, %v; want ok=%v", tc.args, cfg, err, tc.ok)
		}
	}
	cfg, _ := parseArgs(strings.Fields("-window 8 a:1"))
	if cfg.params.MaxUnackedMessages != 8 {
		t.Errorf("unacked cap %d, want the window", cfg.params.MaxUnackedMessages)
	}
}

// parseArgs parses args as lspcat does, without running it.
func parseArgs(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("lspcat", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.flags(fs)
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	return cfg, cfg.check(fs.Args())
}

// TestTransfer moves random bytes from a sender to a receiver, both in this process, through
// loss in both directions, and checks they arrive intact.
func TestTransfer(t *testing.T) {
	testutil.CheckGoroutines(t)
	in := make([]byte, 200_000)
	for i := range in {
		in[i] = byte(rand.Uint32())
	}
	port := testutil.FreeUDPPort(t)
	args := "-drop 10 -epoch-ms 20 -epoch-limit 50 -window 16"
	lcfg, err := parseArgs(strings.Fields(fmt.Sprintf("%s -l %d", args, port)))
	if err != nil {
		t.Fatal(err)
	}
	scfg, err := parseArgs(strings.Fields(fmt.Sprintf("%s 127.0.0.1:%d", args, port)))
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var out bytes.Buffer
	received := make(chan int, 1)
	go func() { received <- run(context.Background(), lcfg, nil, &out, quiet) }()
	// The receiver's socket may not be open yet; the sender's Connect is resent every epoch
	// for EpochLimit epochs, which is plenty.
	if status := run(context.Background(), scfg, bytes.NewReader(in), io.Discard, quiet); status != 0 {
		t.Fatalf("sender exited with %d", status)
	}
	// Status 0 from the receiver means it read the end of the stream: with a sender gone
	// silent and no end of stream, it would have exited 1.
	if status := testutil.Recv(t, received, wait); status != 0 {
		t.Fatalf("receiver exited with %d", status)
	}
	if !bytes.Equal(out.Bytes(), in) {
		t.Fatalf("received %d bytes, not the %d sent", out.Len(), len(in))
	}
}

// startReceiver runs a receiver in this process with params, returning its port, its exit
// status when it comes, its stdout and its log.
func startReceiver(t *testing.T, ctx context.Context, args string) (port string, status <-chan int, out *bytes.Buffer, log *testutil.Buffer) {
	t.Helper()
	cfg, err := parseArgs(strings.Fields(args + " -l 0"))
	if err != nil {
		t.Fatal(err)
	}
	out, log = new(bytes.Buffer), new(testutil.Buffer)
	logger := slog.New(slog.NewTextHandler(log, nil))
	done := make(chan int, 1)
	go func() { done <- run(ctx, cfg, nil, out, logger) }()
	re := regexp.MustCompile(`msg=listening port=(\d+)`)
	var m []string
	testutil.Eventually(t, wait, func() bool { m = re.FindStringSubmatch(log.String()); return m != nil }, "receiver listening")
	return m[1], done, out, log
}

// stream is n bytes of numbered lines.
func stream(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.Bytes()[:n]
}

// writeAll sends data to the receiver at port as a plain LSP client that never sends the end
// of the stream, and returns once every message is acked.
func writeAll(t *testing.T, port string, data []byte) {
	t.Helper()
	p := &lsp.Params{EpochMillis: 20, EpochLimit: 50, WindowSize: 16, MaxUnackedMessages: 16}
	c, err := lsp.NewClient("127.0.0.1:"+port, 0, p)
	if err != nil {
		t.Fatal(err)
	}
	for len(data) > 0 {
		n := min(len(data), chunk)
		if err := c.Write(data[:n]); err != nil {
			t.Fatal(err)
		}
		data = data[n:]
	}
	if err := c.Close(); err != nil { // every message acked
		t.Fatal(err)
	}
}

// TestSenderVanishes has a sender stop without the end of the stream: the receiver must write
// out everything it received and exit 1, reporting the transfer incomplete.
func TestSenderVanishes(t *testing.T) {
	testutil.CheckGoroutines(t)
	// 25 epochs of silence (0.5 s) before the vanished sender is given up: enough that a load
	// spike on a shared machine does not pass for it during the transfer.
	port, status, out, log := startReceiver(t, context.Background(), "-epoch-ms 20 -epoch-limit 25")
	data := stream(100_000)
	writeAll(t, port, data)
	if s := testutil.Recv(t, status, wait); s != 1 {
		t.Fatalf("receiver exited %d, want 1", s)
	}
	if !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("stdout has %d bytes, want the %d acked", out.Len(), len(data))
	}
	if l := log.String(); !strings.Contains(l, "transfer incomplete") || strings.Contains(l, "transfer complete") {
		t.Fatalf("log does not say the transfer was incomplete:\n%s", l)
	}
}

// TestInterruptFlushes interrupts a receiver holding acked data in its 64 KiB stdout buffer:
// everything acked must reach stdout, and the status must say the transfer is incomplete.
func TestInterruptFlushes(t *testing.T) {
	testutil.CheckGoroutines(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// A long EpochLimit: the receiver must not notice the sender's silence before the signal.
	port, status, out, log := startReceiver(t, ctx, "-epoch-ms 20 -epoch-limit 5000")
	data := stream(100_000) // 64 KiB flushed on the way, the rest buffered
	writeAll(t, port, data)
	cancel()
	if s := testutil.Recv(t, status, wait); s != 1 {
		t.Fatalf("receiver exited %d, want 1", s)
	}
	if !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("stdout has %d bytes, want the %d acked", out.Len(), len(data))
	}
	if l := log.String(); !strings.Contains(l, "interrupted before the end of the stream") {
		t.Fatalf("log does not mention the interruption:\n%s", l)
	}
}

// TestProgram runs lspcat as two real processes, then checks usage errors and signals.
func TestProgram(t *testing.T) {
	t.Parallel()
	testutil.SkipIfShort(t)
	bin := testutil.BuildBinary(t, "ds440/lsp/cmd/lspcat")

	// Generous silence limits: race-checked processes on a loaded machine can stall for a
	// few hundred milliseconds, and with the end-of-stream convention nobody waits them out.
	recv := testutil.StartProc(t, bin, "-epoch-ms", "20", "-epoch-limit", "100", "-l", "0")
	port := recv.WaitLine(t, `msg=listening port=(\d+)`, wait)[1]
	send := testutil.StartProc(t, bin, "-drop", "20", "-epoch-ms", "20", "-epoch-limit", "100", "127.0.0.1:"+port)
	io.WriteString(send.Stdin, "hello over LSP\n")
	send.Stdin.Close()
	if err := send.Wait(t, wait); err != nil {
		t.Fatalf("sender: %v", err)
	}
	send.WaitLine(t, `sent and acknowledged" bytes=15 messages=1`, wait)
	recv.WaitLine(t, `^hello over LSP$`, wait)
	if err := recv.Wait(t, wait); err != nil {
		t.Fatalf("receiver: %v", err)
	}
	recv.WaitLine(t, `transfer complete" .*bytes=15`, wait)

	// A signal stops it; no transfer completed, so the status is 1.
	idle := testutil.StartProc(t, bin, "-l", "0")
	idle.WaitLine(t, "listening", wait)
	idle.Signal(syscall.SIGINT)
	if err := idle.Wait(t, wait); exitCode(err) != 1 {
		t.Errorf("after SIGINT: %v, want exit status 1", err)
	}

	// A sender killed mid-transfer: the receiver exits 1 and does not claim success.
	recv = testutil.StartProc(t, bin, "-epoch-ms", "20", "-epoch-limit", "50", "-l", "0")
	port = recv.WaitLine(t, `msg=listening port=(\d+)`, wait)[1]
	send = testutil.StartProc(t, bin, "-epoch-ms", "20", "127.0.0.1:"+port)
	io.WriteString(send.Stdin, "partial\n") // stdin stays open: no end of stream
	recv.WaitLine(t, `msg=accepted`, wait)  // logged on reading the first payload
	send.Kill()
	if err := recv.Wait(t, wait); exitCode(err) != 1 {
		t.Errorf("receiver after its sender was killed: %v, want exit status 1", err)
	}
	recv.WaitLine(t, `^partial$`, wait) // flushed before exiting
	recv.WaitLine(t, `transfer incomplete" .*bytes=8`, wait)
	for _, l := range recv.Lines() {
		if strings.Contains(l, "transfer complete") {
			t.Errorf("receiver claimed success: %q", l)
		}
	}

	// Bad usage exits 2 without a stack trace; no server exits 1.
	for args, want := range map[string]int{"-drop 200 a:1": 2, "": 2, "-epoch-ms 5 -epoch-limit 2 127.0.0.1:" + strconv.Itoa(testutil.FreeUDPPort(t)): 1} {
		p := testutil.StartProc(t, bin, strings.Fields(args)...)
		err := p.Wait(t, wait)
		if exitCode(err) != want {
			t.Errorf("lspcat %s: %v, want exit status %d", args, err, want)
		}
		for _, l := range p.Lines() {
			if strings.Contains(l, "goroutine ") || strings.Contains(l, "panic") {
				t.Errorf("lspcat %s printed a stack trace: %q", args, l)
			}
		}
	}
}

// exitCode is a process's exit status from its Wait error.
func exitCode(err error) int {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestKilledSenderIsLost connects a real lspcat process to a server in this test, kills it
// with SIGKILL mid-connection, and checks the server declares the connection lost.
func TestKilledSenderIsLost(t *testing.T) {
	testutil.SkipIfShort(t)
	testutil.CheckGoroutines(t)
	bin := testutil.BuildBinary(t, "ds440/lsp/cmd/lspcat")
	p := &lsp.Params{EpochMillis: 20, EpochLimit: 50, WindowSize: 4, MaxUnackedMessages: 4, MaxBackOffInterval: 2}
	s, err := lsp.NewServer(0, p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, port, _ := lspnet.SplitHostPort(s.(interface{ Addr() string }).Addr())
	proc := testutil.StartProc(t, bin, "-epoch-ms", "20", "-epoch-limit", "50", "127.0.0.1:"+port)
	io.WriteString(proc.Stdin, "alive\n") // stdin stays open: the sender stays connected
	id, payload, err := s.Read()
	if err != nil || string(payload) != "alive\n" {
		t.Fatalf("server read (%d, %q, %v)", id, payload, err)
	}
	start := time.Now()
	proc.Kill()
	lost := make(chan error, 1)
	go func() {
		_, _, err := s.Read()
		lost <- err
	}()
	if err := testutil.Recv(t, lost, wait); !errors.Is(err, lsp.ErrConnLost) {
		t.Fatalf("after SIGKILL the server read %v, want ErrConnLost", err)
	}
	t.Logf("killed sender declared lost after %v", time.Since(start).Round(time.Millisecond))
}
