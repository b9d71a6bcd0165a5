package chaos

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestProcessLifecycle(t *testing.T) {
	t.Parallel()
	p := &Process{Name: "sleeper", Bin: "/bin/sh", Args: []string{"-c", "echo up; exec sleep 60"}, Log: filepath.Join(t.TempDir(), "log")}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill() })
	if err := p.Start(); err == nil {
		t.Fatal("started twice")
	}
	if err := p.Pause(); err != nil || !p.Paused() {
		t.Fatalf("Pause: %v, paused %v", err, p.Paused())
	}
	if err := p.Resume(); err != nil || p.Paused() {
		t.Fatalf("Resume: %v, paused %v", err, p.Paused())
	}
	if err := p.Kill(); err != nil || p.Running() {
		t.Fatalf("Kill: %v, running %v", err, p.Running())
	}
	if err := p.Kill(); err != ErrNotRunning {
		t.Fatalf("second Kill = %v, want ErrNotRunning", err)
	}
	if err := p.Start(); err != nil {
		t.Fatalf("restart: %v", err)
	}
	p.Pause() // Terminate must still end a paused process
	if err := p.Terminate(5 * time.Second); err != nil || p.Running() {
		t.Fatalf("Terminate: %v, running %v", err, p.Running())
	}
	if log := p.Tail(1 << 10); strings.Count(log, "--- chaos: start sleeper") != 2 {
		t.Fatalf("log across restarts:\n%s", log)
	}
}
