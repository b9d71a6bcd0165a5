package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"ds440/internal/testutil"
)

// TestSlowPipelinersBoundedMemory is issue 18's slow-reader scenario against the real program:
// 8 RESP clients each pipeline 200 LRANGEs of a 1 MB list and never read a reply. Another
// client's PINGs must stay fast, the server's resident memory bounded, and the memory must go
// back once those clients leave. KVSERVER_ARGS adds flags to the server's command line, so
// that the same load can be measured with other limits (KVSERVER_ARGS="-output-soft-limit 0"
// shows the unbounded server).
func TestSlowPipelinersBoundedMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads the server's RSS from /proc")
	}
	testutil.SkipIfShort(t)
	if testutil.RaceEnabled {
		t.Skip("memory and latency targets do not apply to a race-detector build; run without -race")
	}
	const (
		clients, requests   = 8, 200
		values, valueSize   = 1000, 1 << 10
		maxRSS, maxRSSAfter = 256 << 20, 64 << 20
		pingDuration        = 3 * time.Second
		// The target is 10 ms (issue 18), measured at 3-5 ms on a shared 2-core machine; the
		// test allows more so that a busy machine does not fail it, while a server that stalls
		// behind slow readers (seconds, as before the output limits) does.
		pingP99 = 50 * time.Millisecond
	)
	bin := testutil.BuildBinary(t, "ds440/kvserver/cmd/kvserver")
	p := testutil.StartProc(t, bin, append([]string{"-port", "0"}, strings.Fields(os.Getenv("KVSERVER_ARGS"))...)...)
	addr := p.WaitLine(t, `kvserver listening on (\S+)`, 60*time.Second)[1]
	pid := p.Cmd.Process.Pid

	load := dialRESP(t, addr)
	value := strings.Repeat("v", valueSize)
	var push strings.Builder
	for range values {
		fmt.Fprintf(&push, "*3\r\n%s%s%s", bulk("RPUSH"), bulk("biglist"), bulk(value))
	}
	load.Write([]byte(push.String()))
	r := bufio.NewReader(load)
	for i := range values {
		if l, err := r.ReadString('\n'); err != nil || l != fmt.Sprintf(":%d\r\n", i+1) {
			t.Fatalf("RPUSH reply %d: %q %v", i, l, err)
		}
	}
	before := rss(t, pid)

	var lrange strings.Builder
	for range requests {
		fmt.Fprintf(&lrange, "*4\r\n%s%s%s%s", bulk("LRANGE"), bulk("biglist"), bulk("0"), bulk("-1"))
	}
	var slow []net.Conn
	for range clients {
		c := dialRESP(t, addr)
		if _, err := c.Write([]byte(lrange.String())); err != nil {
			t.Fatal(err)
		}
		slow = append(slow, c)
	}

	ping := dialRESP(t, addr)
	pr := bufio.NewReader(ping)
	var lat []time.Duration
	peak := before
	for start := time.Now(); time.Since(start) < pingDuration; { // real time: latency is the measurement
		t0 := time.Now()
		ping.Write([]byte("*1\r\n$4\r\nPING\r\n"))
		if l, err := pr.ReadString('\n'); err != nil || l != "+PONG\r\n" {
			t.Fatalf("PING: %q %v", l, err)
		}
		lat = append(lat, time.Since(t0))
		if len(lat)%50 == 0 {
			peak = max(peak, rss(t, pid))
		}
		time.Sleep(time.Millisecond) // real time: a PING a millisecond, as a monitoring client would
	}
	peak = max(peak, rss(t, pid))
	slices.Sort(lat)
	p99 := lat[len(lat)*99/100]

	for _, c := range slow {
		c.Close()
	}
	after := rss(t, pid)
	backDown := testutil.WaitUntil(30*time.Second, func() bool { after = rss(t, pid); return after < maxRSSAfter })
	t.Logf("%d clients pipelining %d LRANGEs of %d×%d B, never reading: PING p50 %v p99 %v max %v (%d PINGs); RSS %.1f MB before, peak %.1f MB, %.1f MB after they left",
		clients, requests, values, valueSize, lat[len(lat)/2], p99, lat[len(lat)-1], len(lat), mb(before), mb(peak), mb(after))
	if p99 > pingP99 {
		t.Errorf("PING p99 %v, want under %v", p99, pingP99)
	}
	if peak > maxRSS {
		t.Errorf("peak RSS %.1f MB, want under %.0f MB", mb(peak), mb(maxRSS))
	}
	if !backDown {
		t.Errorf("RSS %.1f MB 30 s after the clients left, want under %.0f MB", mb(after), mb(maxRSSAfter))
	}
}

func dialRESP(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(2 * time.Minute))
	t.Cleanup(func() { c.Close() })
	return c
}

// rss returns the resident set size of process pid in bytes.
func rss(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc status")
	return 0
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }
