package testutil

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binaries are the programs BuildBinary has built for this test process: those the Go build
// cache holds, and those built into a directory of their own that is removed once no test
// needs it.
var binaries struct {
	mu     sync.Mutex
	cached map[string]string // package path -> binary in the Go build cache
	dir    string            // "" until the first build into it, and again once removed
	built  map[string]string // package path -> binary in dir
	users  int               // tests that built or fetched a binary in dir and have not ended
	kept   bool              // Main keeps dir until the test binary exits
}

// binDirPrefix names the directories BuildBinary makes in the temp directory, followed by the
// test process's id, so a directory left by a process that crashed can be told apart.
const binDirPrefix = "ds440-bin-"

// BuildBinary builds the main package at pkg (an import path such as "ds440/kvserver/cmd/kvserver")
// and returns the path of the binary. Tests use it to run the module's programs as real
// processes.
//
// The binary is the one go run keeps in the Go build cache, so a program is linked once for
// every test process of the module, and again only when its code changes: `make test` runs
// many packages that start the same programs, and linking a race-enabled program costs
// seconds of CPU. Nothing is left in the temp directory. Where go run keeps no copy (GOCACHE
// off, say) the binary goes to a directory in the temp directory that the test binary removes:
// when the package's tests end if its TestMain calls Main, which also builds each program once
// per process; otherwise as soon as no running test has called BuildBinary.
func BuildBinary(tb testing.TB, pkg string) string {
	tb.Helper()
	binaries.mu.Lock()
	defer binaries.mu.Unlock()
	if bin, ok := binaries.cached[pkg]; ok {
		return bin
	}
	if bin, ok := cachedBinary(pkg); ok {
		if binaries.cached == nil {
			binaries.cached = make(map[string]string)
		}
		binaries.cached[pkg] = bin
		return bin
	}
	return buildInTemp(tb, pkg)
}

// buildInTemp builds pkg into the binaries' directory in the temp directory, for BuildBinary
// where the build cache keeps no copy. The caller holds binaries.mu.
func buildInTemp(tb testing.TB, pkg string) string {
	tb.Helper()
	if binaries.dir == "" {
		removeStaleBinDirs()
		dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", binDirPrefix, os.Getpid()))
		if err != nil {
			tb.Fatalf("testutil: temp dir: %v", err)
		}
		binaries.dir, binaries.built = dir, make(map[string]string)
	}
	if !binaries.kept {
		binaries.users++
		tb.Cleanup(releaseBinaries)
	}
	if bin, ok := binaries.built[pkg]; ok {
		return bin
	}
	bin := filepath.Join(binaries.dir, strings.ReplaceAll(strings.TrimPrefix(pkg, "ds440/"), "/", "_"))
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
	binaries.built[pkg] = bin
	return bin
}

// cachedBinary returns pkg's executable as go run keeps it in the Go build cache, asking go
// run for its path with -exec echo. Go run stores what it links in the cache (Go 1.24 and
// later) but runs, and so prints, the copy in its work directory, which it removes on exit:
// after a change to the program the first run prints a path that is gone, and the second the
// cached one. ok is false if neither leaves a binary, or if the build fails (go build then
// reports why).
func cachedBinary(pkg string) (bin string, ok bool) {
	args := []string{"run"}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "-exec", "echo", pkg)
	for range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		out, err := exec.CommandContext(ctx, "go", args...).Output()
		cancel()
		if err != nil {
			return "", false
		}
		bin = strings.TrimSpace(string(out))
		if st, err := os.Stat(bin); err == nil && st.Mode().IsRegular() && filepath.IsAbs(bin) {
			return bin, true
		}
	}
	return "", false
}

// releaseBinaries ends one test's use of the binaries and removes them if it was the last.
func releaseBinaries() {
	binaries.mu.Lock()
	defer binaries.mu.Unlock()
	binaries.users--
	if binaries.users == 0 && !binaries.kept {
		removeBinaries()
	}
}

// removeBinaries removes the binaries' directory. The caller holds binaries.mu.
func removeBinaries() {
	if binaries.dir != "" {
		os.RemoveAll(binaries.dir)
	}
	binaries.dir, binaries.built = "", nil
}

// removeStaleBinDirs removes the binary directories of test processes that are gone without
// cleaning up (killed by -timeout, say). A directory whose process still runs is left alone.
func removeStaleBinDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), binDirPrefix+"*-*"))
	for _, dir := range dirs {
		pidText, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(dir), binDirPrefix), "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if processGone(pid) {
			os.RemoveAll(dir)
		}
	}
}

// Main runs a package's tests and exits, removing the programs BuildBinary built. A package
// whose tests start programs calls it from TestMain, so that each program is built once for
// all its tests:
//
//	func TestMain(m *testing.M) { testutil.Main(m) }
func Main(m *testing.M) {
	binaries.mu.Lock()
	binaries.kept = true
	binaries.mu.Unlock()
	code := m.Run()
	binaries.mu.Lock()
	removeBinaries()
	binaries.mu.Unlock()
	os.Exit(code)
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
