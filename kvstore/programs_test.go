package kvstore_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"ds440/internal/testutil"
)

// kvstored and kvcli as real processes: two servers, a put on one read on the other, stdin
// scripts, bad arguments, and a clean SIGINT.
func TestProgramsTwoServers(t *testing.T) {
	t.Parallel()
	testutil.SkipIfShort(t)
	kvstored := testutil.BuildBinary(t, "ds440/kvstore/cmd/kvstored")
	kvcli := testutil.BuildBinary(t, "ds440/kvstore/cmd/kvcli")

	baseA := testutil.FreePortRange(t, 3)
	a := testutil.StartProc(t, kvstored, "-port", fmt.Sprint(baseA), "-actors", "2")
	descA := a.WaitLine(t, `^\S+:\d+/[\d,]+$`, 30*time.Second)[0]
	baseB := testutil.FreePortRange(t, 3)
	b := testutil.StartProc(t, kvstored, "-port", fmt.Sprint(baseB), "-actors", "2", descA)
	b.WaitLine(t, `^\S+:\d+/[\d,]+$`, 30*time.Second)

	cli := func(addrPort int, stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(kvcli, append([]string{fmt.Sprintf("127.0.0.1:%d", addrPort)}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kvcli %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := cli(baseA+1, "", "put", "city", "Pittsburgh, PA"); out != "OK\n" {
		t.Errorf("put printed %q", out)
	}
	if out := cli(baseA+1, "put k1 v1\nput k2 v2\n\nlist k\n"); out != "OK\nOK\nk1=v1\nk2=v2\n" {
		t.Errorf("stdin script printed %q", out)
	}
	testutil.Eventually(t, 5*time.Second, func() bool {
		return cli(baseB+2, "", "get", "city") == "Pittsburgh, PA\n"
	}, "the put on server A readable on server B")
	absent := exec.Command(kvcli, fmt.Sprintf("127.0.0.1:%d", baseB+1), "get", "nowhere")
	var stdout, stderr strings.Builder
	absent.Stdout, absent.Stderr = &stdout, &stderr
	absent.Run()
	if code := absent.ProcessState.ExitCode(); code != 3 || stdout.Len() != 0 || stderr.String() != "kvcli: nowhere is absent\n" {
		t.Errorf("get absent: exit %d, stdout %q, stderr %q; want 3, nothing and the key", code, stdout.String(), stderr.String())
	}

	for _, args := range [][]string{{}, {"127.0.0.1:1", "frobnicate"}, {"127.0.0.1:1", "get"}} {
		cmd := exec.Command(kvcli, args...)
		cmd.Stdin = strings.NewReader("")
		err := cmd.Run()
		if code := cmd.ProcessState.ExitCode(); err == nil || code != 2 {
			t.Errorf("kvcli %q: exit %d, want 2 (usage)", args, code)
		}
	}
	bad := testutil.StartProc(t, kvstored, "-actors", "0")
	bad.Wait(t, 30*time.Second)
	if code := bad.Cmd.ProcessState.ExitCode(); code != 2 {
		t.Errorf("kvstored -actors 0 exited %d, want 2", code)
	}

	for _, p := range []*testutil.Proc{b, a} {
		p.Signal(os.Interrupt)
		if err := p.Wait(t, 30*time.Second); err != nil {
			t.Errorf("kvstored after SIGINT: %v", err)
		}
	}
	a.WaitLine(t, "kvstored stopped", time.Second)
}
