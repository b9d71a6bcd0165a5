package kvserver

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"ds440/internal/testutil"
)

// benchClients is the number of connections the server benchmarks drive, as in
// `redis-benchmark -c 50`.
const benchClients = 50

// load drives addr with `clients` connections, each sending `ops` requests in rounds of `depth`
// pipelined requests and reading the replies. Over RESP it alternates SET and GET of a few keys
// (`redis-benchmark -t set,get`); over text, which has no reply to Put, each request is a Get
// of a key holding one value.
func load(addr string, resp bool, clients, depth, ops int) error {
	setup, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer setup.Close()
	if !resp {
		w := bufio.NewWriter(setup)
		for k := range clients {
			fmt.Fprintf(w, "Delete:key%d\nPut:key%d:xxx\n", k, k)
		}
		// Wait until the keys are in: requests on other connections are not ordered after these.
		fmt.Fprintf(w, "Get:key%d\n", clients-1)
		if err := w.Flush(); err != nil {
			return err
		}
		setup.SetReadDeadline(time.Now().Add(time.Minute))
		if _, err := bufio.NewReader(setup).ReadString('\n'); err != nil {
			return err
		}
	}
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() { errs <- loadClient(addr, resp, c, depth, ops) })
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// loadClient is one connection of load.
func loadClient(addr string, resp bool, id, depth, ops int) error {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Minute))
	r, w := bufio.NewReaderSize(conn, 64<<10), bufio.NewWriterSize(conn, 64<<10)
	key := "key" + strconv.Itoa(id)
	set := []byte(frame("SET", key, "xxx"))
	get := []byte(frame("GET", key))
	text := []byte("Get:" + key + "\n")
	for done := 0; done < ops; {
		n := min(depth, ops-done)
		for i := range n {
			switch {
			case !resp:
				w.Write(text)
			case (done+i)%2 == 0:
				w.Write(set)
			default:
				w.Write(get)
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
		for range n {
			line, err := r.ReadSlice('\n')
			if err != nil {
				return err
			}
			if resp && line[0] == '$' { // a bulk reply: skip its value line
				if _, err := r.ReadSlice('\n'); err != nil {
					return err
				}
			}
			if line[0] == '-' || line[0] == 'E' {
				return fmt.Errorf("error reply %q", line)
			}
		}
		done += n
	}
	return nil
}

func benchServer(b *testing.B, resp bool, depth int) {
	s := startServer(b, nil)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	if err := load(s.Addr().String(), resp, benchClients, depth, max(1, b.N/benchClients)); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

// BenchmarkServerText measures Get round trips over the text protocol with 50 clients.
func BenchmarkServerText(b *testing.B) { benchServer(b, false, 1) }

// BenchmarkServerTextPipelined is BenchmarkServerText with 16 requests in flight per client.
func BenchmarkServerTextPipelined(b *testing.B) { benchServer(b, false, 16) }

// BenchmarkServerRESP measures SET/GET round trips over RESP with 50 clients.
func BenchmarkServerRESP(b *testing.B) { benchServer(b, true, 1) }

// BenchmarkServerRESPPipelined is BenchmarkServerRESP with 16 requests in flight per client.
func BenchmarkServerRESPPipelined(b *testing.B) { benchServer(b, true, 16) }

// BenchmarkServerVsRedis runs the RESP SET/GET load against kvserver and against a Redis
// server started from PATH, one after the other in the same run, and reports kvserver's
// throughput as a multiple of Redis's ("x-redis"). It is skipped when redis-server is not
// installed. The load generator runs in this process on the same machine, as
// redis-benchmark would.
func BenchmarkServerVsRedis(b *testing.B) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		b.Skip("redis-server not installed: nothing to compare with")
	}
	port := testutil.FreePort(b)
	redis := testutil.StartProc(b, bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no")
	redis.WaitLine(b, "Ready to accept connections", 10*time.Second)
	redisAddr := "127.0.0.1:" + strconv.Itoa(port)
	ours := startServer(b, nil).Addr().String()

	for _, depth := range []int{1, 16} {
		b.Run("pipeline="+strconv.Itoa(depth), func(b *testing.B) {
			rate := func(addr string) float64 {
				start := time.Now()
				if err := load(addr, true, benchClients, depth, max(1, b.N/benchClients)); err != nil {
					b.Fatal(err)
				}
				return float64(b.N) / time.Since(start).Seconds()
			}
			kv, rd := rate(ours), rate(redisAddr)
			b.ReportMetric(kv, "req/s")
			b.ReportMetric(rd, "redis-req/s")
			b.ReportMetric(kv/rd, "x-redis")
			b.Logf("pipeline %d, %d requests: kvserver %.0f req/s, redis %.0f req/s, ratio %.2f", depth, b.N, kv, rd, kv/rd)
		})
	}
}

// BenchmarkStatsIdleClients is a Stats call on a server holding thousands of idle
// connections (as many as the process may open, up to 9,000): the loop answers it between
// rounds, so its cost is a stall of every client, and the kvserver program asks every second.
func BenchmarkStatsIdleClients(b *testing.B) {
	n := 9000
	if limit, ok := testutil.OpenFileLimit(); ok && limit < 2*n+500 {
		n = (limit - 500) / 2 // the benchmark holds both ends
	}
	s := startServer(b, nil)
	conns := make([]net.Conn, 0, n)
	b.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for range n {
		c, err := net.DialTimeout("tcp", s.Addr().String(), ioTimeout)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
	}
	waitCounts(b, s, n, 0)
	b.ResetTimer()
	for range b.N {
		s.Stats()
	}
}
