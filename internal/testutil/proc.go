package testutil

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildMu    sync.Mutex
	buildCache = map[string]string{} // package path -> binary, for this test process
	buildDir   string
)

// BuildBinary builds the main package at pkg (an import path such as "ds440/kvserver/cmd/kvserver")
// once per test process and returns the path of the binary. Tests use it to run the module's
// programs as real processes.
func BuildBinary(tb testing.TB, pkg string) string {
	tb.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if bin, ok := buildCache[pkg]; ok {
		return bin
	}
	if buildDir == "" {
		dir, err := os.MkdirTemp("", "ds440-bin-")
		if err != nil {
			tb.Fatalf("testutil: temp dir: %v", err)
		}
		buildDir = dir
	}
	bin := filepath.Join(buildDir, strings.ReplaceAll(strings.TrimPrefix(pkg, "ds440/"), "/", "_"))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	out, err := exec.CommandContext(ctx, "go", append(args, pkg)...).CombinedOutput()
	if err != nil {
		tb.Fatalf("testutil: go build %s: %v\n%s", pkg, err, out)
	}
	buildCache[pkg] = bin
	return bin
}

// Proc is a program started by StartProc. Its stdout and stderr are collected line by line so a
// test can wait for a line instead of sleeping.
type Proc struct {
	Cmd   *exec.Cmd
	Stdin io.WriteCloser

	mu     sync.Mutex
	lines  []string
	notify chan struct{} // closed and replaced whenever a line arrives
	done   chan struct{} // closed when the process has exited and its output is drained
	err    error         // Wait's result, valid after done
}

// StartProc starts bin with args, streaming its combined output into the Proc. The process is
// killed (SIGKILL) when the test ends if it is still running.
func StartProc(tb testing.TB, bin string, args ...string) *Proc {
	tb.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = os.Environ()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatalf("testutil: stdin pipe: %v", err)
	}
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	p := &Proc{Cmd: cmd, Stdin: stdin, notify: make(chan struct{}), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("testutil: start %s: %v", bin, err)
	}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			close(p.notify)
			p.notify = make(chan struct{})
			p.mu.Unlock()
		}
		io.Copy(io.Discard, pr)
	}()
	go func() {
		err := cmd.Wait()
		pw.Close()
		<-scanned
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
	}()
	tb.Cleanup(func() {
		p.Kill()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			tb.Errorf("testutil: %s did not exit after SIGKILL", bin)
		}
		if tb.Failed() {
			tb.Logf("output of %s %v:\n%s", filepath.Base(bin), args, strings.Join(p.Lines(), "\n"))
		}
	})
	return p
}

// Lines returns every output line seen so far.
func (p *Proc) Lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// WaitLine waits until an output line matches pattern and returns its submatches (index 0 is
// the whole match). Lines seen before the call count too. It fails the test on timeout or if the
// process exits without printing such a line.
func (p *Proc) WaitLine(tb testing.TB, pattern string, timeout time.Duration) []string {
	tb.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	seen := 0
	for {
		p.mu.Lock()
		lines, notify := p.lines, p.notify
		p.mu.Unlock()
		for ; seen < len(lines); seen++ {
			if m := re.FindStringSubmatch(lines[seen]); m != nil {
				return m
			}
		}
		select {
		case <-notify:
		case <-p.done:
			p.mu.Lock()
			more := len(p.lines) > seen
			p.mu.Unlock()
			if !more {
				tb.Fatalf("testutil: process exited (%v) without a line matching %q", p.ExitErr(), pattern)
			}
		case <-deadline.C:
			tb.Fatalf("testutil: no line matching %q within %v", pattern, timeout)
		}
	}
}

// Signal sends sig to the process.
func (p *Proc) Signal(sig os.Signal) error { return p.Cmd.Process.Signal(sig) }

// Kill sends SIGKILL, the crash a test wants to survive.
func (p *Proc) Kill() { _ = p.Cmd.Process.Signal(syscall.SIGKILL) }

// Wait waits up to timeout for the process to exit and returns its exit error (nil on exit 0).
func (p *Proc) Wait(tb testing.TB, timeout time.Duration) error {
	tb.Helper()
	select {
	case <-p.done:
		return p.ExitErr()
	case <-time.After(timeout):
		tb.Fatalf("testutil: process did not exit within %v", timeout)
		return nil
	}
}

// Done is closed once the process has exited and its output is drained.
func (p *Proc) Done() <-chan struct{} { return p.done }

// ExitErr returns the process's exit error once it has exited (nil before, or on exit 0).
func (p *Proc) ExitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}
