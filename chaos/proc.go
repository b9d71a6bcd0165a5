package chaos

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Process is a server program the nemesis may kill, restart, pause and resume. Its output is
// appended to a log file across restarts, so a run can be examined afterwards.
type Process struct {
	Name string
	Bin  string
	Args []string
	Log  string // file the process's stdout and stderr are appended to

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
	paused bool
}

// ErrNotRunning is returned by Kill, Pause and Resume on a process that is not running.
var ErrNotRunning = errors.New("chaos: process not running")

// ErrPauseUnsupported is returned by Pause and Resume where the system cannot stop and
// continue a process (Windows has no SIGSTOP/SIGCONT).
var ErrPauseUnsupported = errors.New("chaos: pausing a process is not supported on this system")

// Start starts the process; it is an error if it is already running.
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return fmt.Errorf("chaos: %s is already running", p.Name)
	}
	out, err := os.OpenFile(p.Log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "--- chaos: start %s at %s\n", p.Name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.Bin, p.Args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		return err
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		out.Close()
		close(exited)
	}()
	p.cmd, p.exited, p.paused = cmd, exited, false
	return nil
}

// Running reports whether the process has been started and has not exited or been killed.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		p.cmd = nil
		return false
	default:
		return true
	}
}

// Kill ends the process with SIGKILL (no chance to flush or say goodbye) and waits for it.
func (p *Process) Kill() error { return p.stop(syscall.SIGKILL) }

// Terminate asks the process to stop with SIGTERM and waits up to grace before SIGKILL.
func (p *Process) Terminate(grace time.Duration) error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return ErrNotRunning
	}
	resume(cmd.Process) // a paused process cannot act on SIGTERM
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		p.mu.Lock()
		p.cmd = nil
		p.mu.Unlock()
		return nil
	case <-time.After(grace):
		return p.Kill()
	}
}

func (p *Process) stop(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return ErrNotRunning
	}
	p.cmd.Process.Signal(sig)
	<-p.exited
	p.cmd, p.paused = nil, false
	return nil
}

// Pause stops the process with SIGSTOP: it holds its sockets but answers nothing, as a server
// in a long GC pause or a VM migration does. Where the system has no SIGSTOP (Windows) it
// returns ErrPauseUnsupported.
func (p *Process) Pause() error { return p.setPaused(pause, true) }

// Resume continues a paused process with SIGCONT.
func (p *Process) Resume() error { return p.setPaused(resume, false) }

// Paused reports whether the process is paused.
func (p *Process) Paused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil && p.paused
}

func (p *Process) setPaused(act func(*os.Process) error, paused bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return ErrNotRunning
	}
	if err := act(p.cmd.Process); err != nil {
		return err
	}
	p.paused = paused
	return nil
}

// Tail returns up to the last n bytes of the process's log, for error reports.
func (p *Process) Tail(n int64) string {
	f, err := os.Open(p.Log)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		f.Seek(st.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}
