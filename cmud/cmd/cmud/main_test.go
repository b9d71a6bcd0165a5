package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"ds440/internal/testutil"
	"ds440/kvstore"
)

// runScript runs the cmud binary with args and the given stdin, and returns its output.
func runScript(t *testing.T, script string, args ...string) string {
	t.Helper()
	if !slices.Contains(args, "-server") && !slices.Contains(args, "-data") {
		args = append(args, "-data", "") // a new world, not the user's
	}
	p := testutil.StartProc(t, testutil.BuildBinary(t, "ds440/cmud/cmd/cmud"), args...)
	io.WriteString(p.Stdin, script)
	p.Stdin.Close()
	if err := p.Wait(t, 60*time.Second); err != nil {
		t.Fatalf("cmud %v: %v\n%s", args, err, strings.Join(p.Lines(), "\n"))
	}
	return strings.Join(p.Lines(), "\n")
}

func wantAll(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestEmbeddedGameFromStdin(t *testing.T) {
	t.Parallel()
	testutil.SkipIfShort(t)
	long := strings.Repeat("mine ", 1<<20) // 5 MB on one line
	out := runScript(t, "help\n"+long+"\nmine 3\nbuy cpu 2\ninv\nmove bridge\nmap\ndance\nmine -1\nsolve\nquit\nstats\n",
		"-name", "ada", "-delay", "0")
	wantAll(t, out, "Welcome to CMUD, ada", "Commands:", "line is too long", "earn 3 coins", "buy 2 cpu",
		"cpu          x3", "to the bridge", "the bridge      ada", `Unknown command "dance"`,
		"from 1 to 1000", "It stands at", "Goodbye, ada")
	if strings.Contains(out, "ada the Undergraduate") {
		t.Error("a command after quit ran")
	}
	if strings.Contains(out, "> ") {
		t.Error("prompt printed although stdin is not a terminal")
	}
}

func TestReadLine(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("y", 10_000) // longer than the reader's buffer
	r := bufio.NewReaderSize(strings.NewReader("one\r\n\n"+long+"\nlast"), 16)
	want := []string{"one", "", long[:50], "last"}
	for _, w := range want {
		if got, err := readLine(r, 50); got != w || err != nil {
			t.Fatalf("readLine = %q, %v; want %q", got, err, w)
		}
	}
	if got, err := readLine(r, 50); err != io.EOF {
		t.Errorf("readLine at the end = %q, %v; want io.EOF", got, err)
	}
}

func TestAsksForANameAndRejectsBadOnes(t *testing.T) {
	t.Parallel()
	testutil.SkipIfShort(t)
	out := runScript(t, "problem\nno/slash\nbob\nstats\n", "-delay", "0")
	wantAll(t, out, `"problem" is reserved`, "only lower-case letters", "Welcome to CMUD, bob", "bob the Undergraduate", "Goodbye.")
}

func TestBadFlagsExit2(t *testing.T) {
	t.Parallel()
	testutil.SkipIfShort(t)
	bin := testutil.BuildBinary(t, "ds440/cmud/cmd/cmud")
	for _, args := range [][]string{{"-nosuch"}, {"extra"}, {"-server", ","}} {
		p := testutil.StartProc(t, bin, args...)
		p.Wait(t, 30*time.Second)
		if code := p.Cmd.ProcessState.ExitCode(); code != 2 {
			t.Errorf("cmud %q exited %d, want 2", args, code)
		}
	}
}

// Two players on two servers of one cluster mine and solve together; one quits and resumes on
// the other server with the same state; the shared problem's progress is the sum of their work.
func TestTwoPlayersOnTwoServers(t *testing.T) {
	t.Parallel()
	testutil.SkipIfShort(t)
	a, descA, err := kvstore.NewServer(0, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, _, err := kvstore.NewServer(0, 2, []string{descA})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	onA, onB := strings.Join(a.QueryAddrs(), ","), strings.Join(b.QueryAddrs(), ",")

	outA := runScript(t, "mine 10\nbuy cpu 4\nsolve\nsolve\nquit\n", "-name", "alice", "-server", onA, "-delay", "0")
	outB := runScript(t, "mine 2\nbuy cpu 1\nsolve\nquit\n", "-name", "bob", "-server", onB, "-delay", "0")
	damage := sum(t, outA, `: (\d+) done`) + sum(t, outB, `: (\d+) done`)
	coins := sum(t, outA, `earn (\d+) coins?`) - 4

	// Replication is asynchronous, between servers and between the query actors of one server:
	// wait until every query actor of server B has the three solves, then resume alice there
	// (her session may ask any of them).
	for _, addr := range b.QueryAddrs() {
		client := kvstore.NewClient(&roundRobin{addrs: []string{addr}})
		defer client.Close()
		testutil.Eventually(t, 5*time.Second, func() bool {
			m, err := client.List("problem/0/")
			return err == nil && len(m) == 3
		}, "all three solves at %s", addr)
	}
	out := runScript(t, "stats\ninv\nmap\nquit\n", "-name", "alice", "-server", onB, "-delay", "0")
	wantAll(t, out, "Welcome back, alice", fmt.Sprintf("coins %d, power 5", coins),
		fmt.Sprintf("%d of 100 done", damage), "cpu          x5",
		fmt.Sprintf("%-15s %s", "Gates floor 5", "alice, bob"))
}

// sum adds up the numbers the pattern's group matches in out.
func sum(t *testing.T, out, pattern string) int {
	t.Helper()
	total := 0
	for _, m := range regexp.MustCompile(pattern).FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[1])
		total += n
	}
	if total == 0 {
		t.Fatalf("no %q in:\n%s", pattern, out)
	}
	return total
}

// SIGINT in the middle of a session ends it cleanly, with exit status 0.
func TestInterruptExitsCleanly(t *testing.T) {
	t.Parallel()
	testutil.SkipIfShort(t)
	p := testutil.StartProc(t, testutil.BuildBinary(t, "ds440/cmud/cmd/cmud"), "-name", "sam", "-delay", "0", "-data", "")
	io.WriteString(p.Stdin, "mine 2\n")
	p.WaitLine(t, "earn 2 coins", 30*time.Second)
	p.Signal(os.Interrupt)
	if err := p.Wait(t, 30*time.Second); err != nil {
		t.Errorf("cmud after SIGINT: %v", err)
	}
}
