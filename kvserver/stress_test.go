package kvserver

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ds440/internal/testutil"
)

// TestStress runs well-behaved text and RESP clients, each checking every reply against its
// own model of its keys, beside clients that send junk, malformed frames and over-long lines
// and vanish mid-request. Every good client must see exactly its model; the counts must add up.
func TestStress(t *testing.T) {
	onLoops(t, func(t *testing.T) {
		testutil.CheckGoroutines(t)
		good, chaos, ops := 20, 30, 150
		if testutil.Soak() {
			good, chaos, ops = 100, 500, 5000
		}
		s := startServer(t, nil)
		errs := make(chan error, good+chaos)
		var wg sync.WaitGroup
		for i := range good {
			wg.Go(func() { errs <- goodClient(s, i, ops) })
		}
		for i := range chaos {
			wg.Go(func() { errs <- chaosClient(s, i) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		waitCounts(t, s, 0, good+chaos)
	})
}

// stressDeadline bounds each stress client's whole run.
func stressDeadline() time.Duration {
	if testutil.Soak() {
		return 20 * time.Minute
	}
	return time.Minute
}

// goodClient runs ops random requests on keys only it uses, over text (even ids) or RESP (odd
// ids), and checks each reply against a model.
func goodClient(s *Server, id, ops int) error {
	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(stressDeadline()))
	c := &testConn{c: conn, r: bufio.NewReader(conn)}
	rng := rand.New(rand.NewPCG(uint64(id), 7))
	model := map[string][]string{}
	resp := id%2 == 1
	for op := range ops {
		key := fmt.Sprintf("c%d-k%d", id, rng.IntN(3))
		val := strconv.Itoa(rng.IntN(4))
		var got, want string
		switch n := rng.IntN(10); {
		case n < 4:
			model[key] = append(model[key], val)
			if !resp {
				fmt.Fprintf(conn, "Put:%s:%s\n", key, val)
				continue
			}
			got, want = rawDo(c, "RPUSH", key, val), ":"+strconv.Itoa(len(model[key]))
		case n < 5:
			existed := len(model[key]) > 0
			delete(model, key)
			if !resp {
				fmt.Fprintf(conn, "Delete:%s\n", key)
				continue
			}
			got, want = rawDo(c, "DEL", key), map[bool]string{false: ":0", true: ":1"}[existed]
		case n < 6:
			nv := strconv.Itoa(rng.IntN(4))
			for i, v := range model[key] {
				if v == val {
					model[key][i] = nv
				}
			}
			if !resp {
				fmt.Fprintf(conn, "Update:%s:%s:%s\n", key, val, nv)
				continue
			}
			got, want = rawDo(c, "KVUPDATE", key, val, nv), "+OK"
		default:
			if !resp {
				fmt.Fprintf(conn, "Get:%s\n", key)
				var lines []string
				for _, v := range model[key] {
					lines = append(lines, key+":"+v)
				}
				fmt.Fprintf(conn, "Put:end%d:x\nGet:end%d\nDelete:end%d\n", id, id, id)
				var gotLines []string
				for {
					l, err := c.r.ReadString('\n')
					if err != nil {
						return fmt.Errorf("client %d: %v", id, err)
					}
					l = strings.TrimSuffix(l, "\n")
					if l == fmt.Sprintf("end%d:x", id) {
						break
					}
					gotLines = append(gotLines, l)
				}
				if !slices.Equal(gotLines, lines) {
					return fmt.Errorf("client %d op %d: Get:%s = %q, want %q", id, op, key, gotLines, lines)
				}
				continue
			}
			var quoted []string
			for _, v := range model[key] {
				quoted = append(quoted, strconv.Quote(v))
			}
			got, want = rawDo(c, "LRANGE", key, "0", "-1"), "["+strings.Join(quoted, " ")+"]"
		}
		if got != want {
			return fmt.Errorf("client %d op %d: got %s, want %s", id, op, got, want)
		}
	}
	return nil
}

// rawDo is testConn.do for a goroutine that is not the test's: errors become the reply.
func rawDo(c *testConn, args ...string) string {
	if _, err := c.c.Write([]byte(frame(args...))); err != nil {
		return "write error: " + err.Error()
	}
	s, err := readReply(c.r)
	if err != nil {
		return "read error: " + err.Error()
	}
	return s
}

// chaosClient sends one kind of misbehaviour and goes away.
func chaosClient(s *Server, id int) error {
	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(stressDeadline()))
	rng := rand.New(rand.NewPCG(uint64(id), 99))
	junk := make([]byte, 1+rng.IntN(2000))
	for i := range junk {
		junk[i] = byte(rng.IntN(256))
	}
	switch id % 6 {
	case 0: // binary junk, then leave without reading
		conn.Write(junk)
	case 1: // a RESP frame cut short
		f := frame("SET", "chaos", strings.Repeat("v", 500))
		conn.Write([]byte(f[:rng.IntN(len(f))]))
	case 2: // a RESP frame, then a malformed one: protocol error (junk without a '*' would be an inline command awaiting its newline)
		conn.Write(append([]byte(frame("PING")+"*x"), junk...))
		readAll(conn)
	case 3: // a line over the limit
		conn.Write([]byte("Put:chaos:" + strings.Repeat("x", MaxLine+10) + "\n"))
		readAll(conn)
	case 4: // many requests, never read, leave
		conn.Write([]byte(strings.Repeat("Get:c0-k0\nNope\n", 2000)))
	case 5: // text junk lines, read the errors
		conn.Write([]byte(strings.ReplaceAll(string(junk), "*", "#") + "\n"))
		conn.(*net.TCPConn).CloseWrite()
		readAll(conn)
	}
	return nil
}

// readAll reads until the server closes the connection or it fails.
func readAll(conn net.Conn) {
	buf := make([]byte, 64<<10)
	for {
		if _, err := conn.Read(buf); err != nil {
			return
		}
	}
}
