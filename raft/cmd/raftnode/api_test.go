package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ds440/internal/testutil"
)

// cluster is n raftnode processes on loopback that know each other's HTTP addresses.
type cluster struct {
	t                *testing.T
	bin              string
	raft, http, dirs []string
	procs            []*testutil.Proc
	extra            []string
}

// startCluster starts n nodes with the extra flags and waits until each has started. Tests
// that expect one leader throughout pass a long -election-timeout: on a loaded machine a
// heartbeat can be late by more than the default 300 ms.
func startCluster(t *testing.T, n int, extra ...string) *cluster {
	t.Helper()
	c := &cluster{t: t, bin: testutil.BuildBinary(t, "ds440/raft/cmd/raftnode"), extra: extra, procs: make([]*testutil.Proc, n)}
	for i := range n {
		c.raft = append(c.raft, fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t)))
		c.http = append(c.http, fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t)))
		c.dirs = append(c.dirs, filepath.Join(t.TempDir(), fmt.Sprint(i)))
	}
	for i := range n {
		c.start(i)
	}
	for i := range n {
		c.procs[i].WaitLine(t, "raftnode: started", 30*time.Second)
	}
	return c
}

// start runs node i; its HTTP address comes from -clients.
func (c *cluster) start(i int) {
	args := append([]string{"-id", fmt.Sprint(i), "-peers", strings.Join(c.raft, ","),
		"-clients", strings.Join(c.http, ","), "-data", c.dirs[i]}, c.extra...)
	c.procs[i] = testutil.StartProc(c.t, c.bin, args...)
}

// leader waits for a node other than except to report itself leader.
func (c *cluster) leader(except int) int {
	l := -1
	testutil.Eventually(c.t, 10*time.Second, func() bool {
		for i := range c.http {
			if st, ok := getStatus(c.http[i]); ok && i != except && st.Role == "leader" {
				l = i
				return true
			}
		}
		return false
	}, "no leader")
	return l
}

type reply struct {
	code   int
	body   []byte
	header http.Header
	json   map[string]any
}

// call makes one request; body may be any reader (a non-bytes one is sent chunked).
func call(t *testing.T, method, rawURL string, body io.Reader) reply {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Timeout: 8 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	r := reply{code: resp.StatusCode, header: resp.Header}
	r.body, _ = io.ReadAll(resp.Body)
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(r.body, &r.json)
	}
	return r
}

func (r reply) want(t *testing.T, code int, fields map[string]any) {
	t.Helper()
	if r.code != code {
		t.Fatalf("status %d, want %d: %s", r.code, code, r.body)
	}
	for k, v := range fields {
		if got := r.json[k]; got != v {
			t.Fatalf("%s = %v (%T), want %v: %s", k, got, got, v, r.body)
		}
	}
}

// TestProcessesClientAPI drives three raftnode processes through the client interface: the
// leader referral, binary values, the size limit, compare-and-set and de-duplicated retries,
// including a retry that reaches a new leader after the old one was killed.
func TestProcessesClientAPI(t *testing.T) {
	t.Parallel()
	testutil.SkipIfShort(t)
	c := startCluster(t, 3, "-max-value", "1024", "-snapshot-every", "4", "-election-timeout", "1s")
	l := c.leader(-1)
	f := (l + 1) % 3
	kv := func(i int, key, query string) string {
		u := "http://" + c.http[i] + "/kv/" + key
		if query != "" {
			u += "?" + query
		}
		return u
	}
	put := func(i int, key, query, value string) reply {
		return call(t, http.MethodPut, kv(i, key, query), strings.NewReader(value))
	}

	t.Log("a follower refers writes and consistent reads to the leader's HTTP address")
	// A follower learns who leads from the first AppendEntries of the new term.
	testutil.Eventually(t, 10*time.Second, func() bool { st, ok := getStatus(c.http[f]); return ok && st.Leader == l },
		"node %d never learned that %d leads", f, l)
	put(f, "x", "", "v").want(t, http.StatusMisdirectedRequest, map[string]any{"leader": c.http[l], "leaderId": float64(l)})
	call(t, http.MethodGet, kv(f, "x", "consistent=1"), nil).want(t, http.StatusMisdirectedRequest, map[string]any{"leader": c.http[l]})
	if st, _ := getStatus(c.http[f]); st.LeaderAddr != c.http[l] {
		t.Fatalf("status of a follower: %+v", st)
	}

	t.Log("values are bytes, returned byte for byte")
	const binary = "\xff\xfe\x00abc"
	put(l, "bin", "", binary).want(t, http.StatusOK, map[string]any{"swapped": true, "duplicate": false})
	r := call(t, http.MethodGet, kv(l, "bin", "consistent=1"), nil)
	if r.code != http.StatusOK || string(r.body) != binary || r.header.Get("Content-Type") != "application/octet-stream" || r.header.Get("X-Raft-Applied") == "" {
		t.Fatalf("consistent GET: %d %q %v", r.code, r.body, r.header)
	}
	testutil.Eventually(t, 5*time.Second, func() bool { return get(c.http[f], "bin") == binary }, "follower never applied the binary value")
	call(t, http.MethodGet, kv(l, "nope", ""), nil).want(t, http.StatusNotFound, nil)

	t.Log("a value over -max-value is refused whole, with or without a Content-Length")
	big := strings.Repeat("x", 1025)
	put(l, "big", "", big).want(t, http.StatusRequestEntityTooLarge, nil)
	call(t, http.MethodPut, kv(l, "big", ""), struct{ io.Reader }{strings.NewReader(big)}).want(t, http.StatusRequestEntityTooLarge, nil)
	call(t, http.MethodGet, kv(l, "big", "consistent=1"), nil).want(t, http.StatusNotFound, nil)
	put(l, "big", "", big[:1024]).want(t, http.StatusOK, nil)
	if _, v := getConsistent(t, c.http[l], "big"); len(v) != 1024 {
		t.Fatalf("value at the limit came back with %d bytes", len(v))
	}

	t.Log("compare-and-set")
	put(l, "c", "expect-absent=1", "1").want(t, http.StatusOK, map[string]any{"swapped": true})
	put(l, "c", "expect-absent=1", "2").want(t, http.StatusPreconditionFailed, map[string]any{"swapped": false})
	put(l, "c", "expect=0", "2").want(t, http.StatusPreconditionFailed, map[string]any{"swapped": false})
	put(l, "c", "expect=1&client=9&seq=1", "2").want(t, http.StatusOK, map[string]any{"swapped": true, "duplicate": false})
	put(l, "c", "", "1").want(t, http.StatusOK, nil)
	put(l, "c", "expect=1&client=9&seq=1", "2").want(t, http.StatusOK, map[string]any{"swapped": true, "duplicate": true})
	if _, v := getConsistent(t, c.http[l], "c"); v != "1" {
		t.Fatalf("a retried cas swapped again: %q", v)
	}
	put(l, "bin", "expect="+url.QueryEscape(binary), "swapped").want(t, http.StatusOK, map[string]any{"swapped": true})

	t.Log("bad requests")
	for _, q := range []string{"client=x&seq=1", "client=1", "seq=1", "client=0&seq=1", "client=1&seq=0", "expect=a&expect-absent=1"} {
		put(l, "k", q, "v").want(t, http.StatusBadRequest, nil)
	}

	t.Log("a retried write is applied once, also when the retry reaches a new leader")
	put(l, "k", "client=7&seq=1", "a").want(t, http.StatusOK, map[string]any{"duplicate": false})
	put(l, "k", "client=8&seq=1", "b").want(t, http.StatusOK, map[string]any{"duplicate": false})
	put(l, "k", "client=7&seq=1", "a").want(t, http.StatusOK, map[string]any{"duplicate": true})
	c.procs[l].Kill()
	_ = c.procs[l].Wait(t, 10*time.Second)
	nl := c.leader(l)
	put(nl, "k", "client=7&seq=1", "a").want(t, http.StatusOK, map[string]any{"duplicate": true})
	if _, v := getConsistent(t, c.http[nl], "k"); v != "b" {
		t.Fatalf("after the retry on the new leader k = %q, want b", v)
	}
	put(nl, "k", "client=7&seq=2", "c").want(t, http.StatusOK, map[string]any{"duplicate": false})

	t.Log("the killed node restarts from its snapshot and log with the sessions")
	c.start(l)
	c.procs[l].WaitLine(t, "raftnode: started", 30*time.Second)
	testutil.Eventually(t, 10*time.Second, func() bool { return get(c.http[l], "k") == "c" && get(c.http[l], "bin") == "swapped" },
		"restarted node did not catch up")
}
