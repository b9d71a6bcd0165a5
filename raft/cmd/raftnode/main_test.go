package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ds440/internal/testutil"
)

var client = &http.Client{Timeout: 2 * time.Second}

func getStatus(addr string) (status, bool) {
	resp, err := client.Get("http://" + addr + "/status")
	if err != nil {
		return status{}, false
	}
	defer resp.Body.Close()
	var st status
	return st, json.NewDecoder(resp.Body).Decode(&st) == nil
}

func put(t *testing.T, addr, key, value string) {
	t.Helper()
	if err := tryPut(addr, key, value); err != nil {
		t.Fatal(err)
	}
}

// tryPut stores value under key through the node at addr.
func tryPut(addr, key, value string) error {
	req, _ := http.NewRequest(http.MethodPut, "http://"+addr+"/kv/"+key, strings.NewReader(value))
	c := &http.Client{Timeout: 8 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("PUT %s: %v", key, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("PUT %s: %s %s", key, resp.Status, body)
	}
	return nil
}

func get(addr, key string) string {
	resp, err := client.Get("http://" + addr + "/kv/" + key)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return string(b)
}

// getConsistent makes a consistent read and returns the status code and the value.
func getConsistent(t *testing.T, addr, key string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 8 * time.Second}
	resp, err := c.Get("http://" + addr + "/kv/" + key + "?consistent=1")
	if err != nil {
		t.Fatalf("GET %s: %v", key, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, ""
	}
	return resp.StatusCode, string(b)
}

// TestProcessesFailoverAndRestart runs three raftnode processes, SIGKILLs the leader, checks a
// new one is elected and commits, then restarts the old leader from its data directory and
// checks it catches up.
func TestProcessesFailoverAndRestart(t *testing.T) {
	t.Parallel()
	testutil.SkipIfShort(t)
	bin := testutil.BuildBinary(t, "ds440/raft/cmd/raftnode")
	const n = 3
	var raftAddrs, httpAddrs, dirs []string
	for i := range n {
		raftAddrs = append(raftAddrs, fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t)))
		httpAddrs = append(httpAddrs, fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t)))
		dirs = append(dirs, filepath.Join(t.TempDir(), fmt.Sprint(i)))
	}
	procs := make([]*testutil.Proc, n)
	start := func(i int) {
		procs[i] = testutil.StartProc(t, bin, "-id", fmt.Sprint(i), "-peers", strings.Join(raftAddrs, ","),
			"-data", dirs[i], "-http", httpAddrs[i])
	}
	for i := range n {
		start(i)
	}
	for i := range n {
		procs[i].WaitLine(t, "raftnode: started", 30*time.Second)
	}
	leader := func(except int) int {
		l := -1
		testutil.Eventually(t, 10*time.Second, func() bool {
			for i := range n {
				if i == except {
					continue
				}
				if st, ok := getStatus(httpAddrs[i]); ok && st.Role == "leader" {
					l = i
					return true
				}
			}
			return false
		}, "no leader")
		return l
	}

	l := leader(-1)
	for _, k := range []string{"a", "b", "c"} {
		put(t, httpAddrs[l], k, "v-"+k)
	}
	procs[l].Kill()
	_ = procs[l].Wait(t, 10*time.Second)
	killed := time.Now()
	nl := leader(l)
	t.Logf("node %d elected %v after node %d was killed", nl, time.Since(killed), l)
	// Leadership may still move between the two survivors (on a loaded machine one can time out
	// and call an election), and a write the deposed leader accepted answers 504 "outcome
	// unknown". As any client does, ask whoever leads now again: the writes are idempotent.
	for _, k := range []string{"d", "e"} {
		var err error
		for range 5 {
			if err = tryPut(httpAddrs[nl], k, "v-"+k); err == nil {
				break
			}
			t.Logf("node %d: %v; asking the leader again", nl, err)
			nl = leader(l)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// A consistent read goes through the new leader's log; a follower refers it to the leader.
	if code, v := getConsistent(t, httpAddrs[nl], "e"); code != http.StatusOK || v != "v-e" {
		t.Fatalf("consistent read on the leader: %d %q", code, v)
	}
	if code, _ := getConsistent(t, httpAddrs[nl], "nope"); code != http.StatusNotFound {
		t.Fatalf("consistent read of a missing key: %d", code)
	}
	if code, _ := getConsistent(t, httpAddrs[3-l-nl], "e"); code != http.StatusMisdirectedRequest {
		t.Fatalf("consistent read on a follower: %d", code)
	}

	start(l)
	procs[l].WaitLine(t, "raftnode: started", 30*time.Second)
	testutil.Eventually(t, 10*time.Second, func() bool {
		for _, k := range []string{"a", "b", "c", "d", "e"} {
			if get(httpAddrs[l], k) != "v-"+k {
				return false
			}
		}
		return true
	}, "restarted node %d did not catch up", l)
	st, _ := getStatus(httpAddrs[l])
	lst, _ := getStatus(httpAddrs[nl])
	if st.CommitIndex < 5 || st.Term != lst.Term {
		t.Fatalf("restarted node: %+v, leader: %+v", st, lst)
	}

	// SIGTERM stops a node cleanly with exit status 0.
	for i := range n {
		if err := procs[i].Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := procs[i].Wait(t, 10*time.Second); err != nil {
			t.Fatalf("node %d exit: %v\n%s", i, err, strings.Join(procs[i].Lines(), "\n"))
		}
	}
}

// Every bad command line exits 2 with the usage and no stack trace; the built program once
// (its exit status comes from cli.Main), the rest in process.
func TestBadArguments(t *testing.T) {
	t.Parallel()
	bin := testutil.BuildBinary(t, "ds440/raft/cmd/raftnode")
	out, err := exec.Command(bin, "-bogus").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "usage") || strings.Contains(string(out), "goroutine") {
		t.Errorf("raftnode -bogus: err %v, output %s", err, out)
	}
	for _, args := range [][]string{
		{},
		{"-id", "0", "-data", "x"},
		{"-id", "3", "-peers", "127.0.0.1:1,127.0.0.1:2", "-data", "x"},
		{"-id", "0", "-peers", "nope", "-data", "x"},
		{"-id", "0", "-peers", "127.0.0.1:1"},
		{"-bogus"},
		{"-id", "0", "-peers", "127.0.0.1:1,127.0.0.1:2", "-clients", "127.0.0.1:3", "-data", "x"},
		{"-id", "0", "-peers", "127.0.0.1:1", "-clients", "nope", "-data", "x"},
		{"-id", "0", "-peers", "127.0.0.1:1", "-max-value", "0", "-data", "x"},
		{"-id", "0", "-peers", "127.0.0.1:1", "-commit-timeout", "0s", "-data", "x"},
	} {
		status, stdout, stderr := execRaftnode(context.Background(), args...)
		if status != 2 || !strings.Contains(stderr, "usage") || strings.Contains(stdout+stderr, "goroutine") {
			t.Errorf("args %q: status %d, stdout %q, stderr %q", args, status, stdout, stderr)
		}
	}
}
