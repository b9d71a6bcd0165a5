package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// When the test binary runs with CLI_TEST_MAIN set, it is a program built on Main that says
// "ready", waits for its context to end, and (if CLI_TEST_MAIN=stubborn) then ignores it.
func TestMain(m *testing.M) {
	switch os.Getenv("CLI_TEST_MAIN") {
	case "":
		os.Exit(m.Run())
	case "clean":
		Main(Command{Name: "waiter", Run: func(ctx context.Context, env *Env) error {
			fmt.Fprintln(env.Stdout, "ready")
			<-ctx.Done()
			return nil
		}})
	case "stubborn":
		Main(Command{Name: "waiter", Run: func(ctx context.Context, env *Env) error {
			fmt.Fprintln(env.Stdout, "ready")
			<-ctx.Done()
			select {} // a shutdown that hangs: only a second signal ends it
		}})
	}
}

func startWaiter(t *testing.T, mode string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "CLI_TEST_MAIN="+mode)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("child said %q, %v", line, err)
	}
	return cmd
}

func waitExit(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		return cmd.ProcessState.ExitCode()
	case <-time.After(10 * time.Second):
		t.Fatal("the program did not exit within 10 s of the signal")
		return -1
	}
}

func TestSignalEndsProgramCleanly(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		cmd := startWaiter(t, "clean")
		cmd.Process.Signal(sig)
		if status := waitExit(t, cmd); status != 0 {
			t.Errorf("after %v: exit %d, want 0", sig, status)
		}
	}
}

func TestSecondSignalEndsHungShutdown(t *testing.T) {
	t.Parallel()
	cmd := startWaiter(t, "stubborn")
	cmd.Process.Signal(syscall.SIGINT)
	// The first signal only cancels the context; the program keeps running until the second.
	// Signal delivery is asynchronous, so send the second until the process is gone.
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond): // real time: the child handles signals on its own schedule
				cmd.Process.Signal(syscall.SIGINT)
			}
		}
	}()
	status := waitExit(t, cmd)
	close(done)
	if status == 0 {
		t.Errorf("a hung shutdown ended by a second signal exited 0")
	}
}
