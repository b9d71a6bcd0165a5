package kvserver

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"ds440/internal/testutil"
)

// redisScript exercises every command kvserver shares with Redis, with the error replies
// (WRONGTYPE, non-integers, arity) that clients depend on. It keeps to the behaviour the two
// share: kvserver, by its contract, also lets GET read a list's last value and RPUSH, LPUSH
// and LRANGE treat a string as a list of one value, where Redis answers WRONGTYPE.
// Steps marked unordered have replies whose order Redis does not define (sets, hashes, key
// listings): their arrays are compared sorted.
var redisScript = []struct {
	args      []string
	unordered bool
}{
	{args: []string{"FLUSHALL"}},
	{args: []string{"PING"}}, {args: []string{"PING", "hi"}}, {args: []string{"ECHO", "x y"}},
	{args: []string{"PING", "a", "b"}},
	// Strings.
	{args: []string{"SET", "s", "10"}}, {args: []string{"GET", "s"}}, {args: []string{"GET", "nope"}},
	{args: []string{"INCR", "s"}}, {args: []string{"DECR", "s"}}, {args: []string{"INCRBY", "s", "-20"}},
	{args: []string{"DECRBY", "s", "5"}}, {args: []string{"INCR", "fresh"}}, {args: []string{"INCRBY", "s", "x"}},
	{args: []string{"INCRBY", "s", "1.5"}}, {args: []string{"INCRBY", "s", "+1"}}, {args: []string{"INCRBY", "s", "01"}},
	{args: []string{"SET", "big", "9223372036854775807"}}, {args: []string{"INCR", "big"}},
	{args: []string{"SET", "neg", "-9223372036854775808"}}, {args: []string{"DECR", "neg"}},
	{args: []string{"SET", "t", "text"}}, {args: []string{"INCR", "t"}}, {args: []string{"SET", "sp", " 1"}}, {args: []string{"INCR", "sp"}},
	{args: []string{"APPEND", "t", "-more"}}, {args: []string{"APPEND", "new", "abc"}}, {args: []string{"GET", "t"}},
	{args: []string{"STRLEN", "t"}}, {args: []string{"STRLEN", "nope"}},
	{args: []string{"MSET", "a", "1", "b", "2", "c", "3"}}, {args: []string{"MGET", "a", "nope", "c"}},
	{args: []string{"MSET", "a", "1", "b"}}, {args: []string{"MSET"}}, {args: []string{"MGET"}},
	{args: []string{"EXISTS", "a", "b", "nope", "a"}}, {args: []string{"DEL", "a", "nope", "b"}}, {args: []string{"EXISTS", "a"}},
	{args: []string{"TYPE", "c"}}, {args: []string{"TYPE", "nope"}},
	{args: []string{"SET", "k"}}, {args: []string{"GET"}}, {args: []string{"INCR"}}, {args: []string{"STRLEN", "a", "b"}},
	{args: []string{"SET", "o", "1", "NX"}}, {args: []string{"SET", "o", "2", "NX"}}, {args: []string{"SET", "o", "3", "XX", "GET"}},
	{args: []string{"SET", "o2", "3", "XX"}}, {args: []string{"SET", "o2", "3", "XX", "GET"}}, {args: []string{"SET", "o", "4", "NX", "XX"}},
	{args: []string{"SET", "o", "5", "EX", "100"}}, {args: []string{"TTL", "o"}}, {args: []string{"SET", "o", "6", "KEEPTTL", "GET"}},
	{args: []string{"TTL", "o"}}, {args: []string{"SET", "o", "7", "PX", "50000"}}, {args: []string{"TTL", "o"}}, {args: []string{"SET", "o", "8"}},
	{args: []string{"TTL", "o"}}, {args: []string{"SET", "o", "9", "EX", "0"}}, {args: []string{"SET", "o", "9", "EX", "x"}},
	{args: []string{"SET", "o", "9", "EX"}}, {args: []string{"SET", "o", "9", "EX", "10", "KEEPTTL"}}, {args: []string{"SET", "o", "9", "BOGUS"}},
	{args: []string{"RPUSH", "ol", "x"}}, {args: []string{"SET", "ol", "v", "GET"}}, {args: []string{"SET", "ol", "v", "NX", "GET"}},
	// Expiry.
	{args: []string{"TTL", "c"}}, {args: []string{"TTL", "nope"}}, {args: []string{"EXPIRE", "c", "100"}},
	{args: []string{"TTL", "c"}}, {args: []string{"PERSIST", "c"}}, {args: []string{"TTL", "c"}}, {args: []string{"PERSIST", "c"}},
	{args: []string{"EXPIRE", "nope", "10"}}, {args: []string{"EXPIRE", "c", "ten"}}, {args: []string{"EXPIRE", "c", "0"}},
	{args: []string{"EXISTS", "c"}}, {args: []string{"SET", "e", "v"}}, {args: []string{"EXPIRE", "e", "-5"}}, {args: []string{"GET", "e"}},
	{args: []string{"SET", "n", "5"}}, {args: []string{"EXPIRE", "n", "100"}}, {args: []string{"INCR", "n"}}, {args: []string{"TTL", "n"}},
	{args: []string{"SET", "n", "5"}}, {args: []string{"TTL", "n"}},
	// Lists.
	{args: []string{"RPUSH", "l", "a", "b", "c"}}, {args: []string{"LPUSH", "l", "z", "y"}}, {args: []string{"LRANGE", "l", "0", "-1"}},
	{args: []string{"LRANGE", "l", "-2", "100"}}, {args: []string{"LRANGE", "l", "3", "1"}}, {args: []string{"LRANGE", "l", "x", "1"}},
	{args: []string{"LLEN", "l"}}, {args: []string{"LLEN", "nope"}}, {args: []string{"LPOP", "l"}}, {args: []string{"RPOP", "l"}},
	{args: []string{"LPOP", "l", "2"}}, {args: []string{"RPOP", "l", "5"}}, {args: []string{"EXISTS", "l"}}, {args: []string{"LPOP", "l"}},
	{args: []string{"LPOP", "l", "2"}}, {args: []string{"RPUSH", "l", "x"}}, {args: []string{"LPOP", "l", "-1"}}, {args: []string{"LPOP", "l", "0"}},
	{args: []string{"TYPE", "l"}}, {args: []string{"RPUSH", "l"}}, {args: []string{"LRANGE", "l", "0"}},
	// Hashes.
	{args: []string{"HSET", "h", "f1", "v1", "f2", "v2"}}, {args: []string{"HSET", "h", "f1", "new", "f3", "v3"}},
	{args: []string{"HGET", "h", "f1"}}, {args: []string{"HGET", "h", "nope"}}, {args: []string{"HGET", "nope", "f"}},
	{args: []string{"HLEN", "h"}}, {args: []string{"HGETALL", "h"}, unordered: true}, {args: []string{"HDEL", "h", "f1", "nope", "f2"}},
	{args: []string{"HGETALL", "h"}}, {args: []string{"HGETALL", "nope"}}, {args: []string{"HSET", "h", "f"}}, {args: []string{"HSET", "h", "a", "b", "c"}},
	{args: []string{"HDEL", "h", "f3"}}, {args: []string{"EXISTS", "h"}}, {args: []string{"HLEN", "h"}},
	{args: []string{"HMSET", "h2", "a", "1"}}, {args: []string{"TYPE", "h2"}},
	// Sets.
	{args: []string{"SADD", "st", "a", "b", "a", "c"}}, {args: []string{"SADD", "st", "c", "d"}}, {args: []string{"SCARD", "st"}},
	{args: []string{"SMEMBERS", "st"}, unordered: true}, {args: []string{"SISMEMBER", "st", "a"}}, {args: []string{"SISMEMBER", "st", "q"}},
	{args: []string{"SREM", "st", "a", "q", "b"}}, {args: []string{"SMEMBERS", "st"}, unordered: true}, {args: []string{"SMEMBERS", "nope"}},
	{args: []string{"SADD", "one", "only"}}, {args: []string{"SPOP", "one"}}, {args: []string{"SPOP", "one"}}, {args: []string{"EXISTS", "one"}},
	{args: []string{"SPOP", "st", "5"}, unordered: true}, {args: []string{"SPOP", "nope", "2"}}, {args: []string{"SCARD", "nope"}},
	{args: []string{"SADD", "st"}}, {args: []string{"SPOP", "st", "-1"}}, {args: []string{"TYPE", "st"}},
	// Sorted sets.
	{args: []string{"ZADD", "z", "1", "a", "2", "b", "1.5", "c"}}, {args: []string{"ZADD", "z", "0", "b", "3", "d"}},
	{args: []string{"ZRANGE", "z", "0", "-1"}}, {args: []string{"ZRANGE", "z", "0", "-1", "WITHSCORES"}}, {args: []string{"ZRANGE", "z", "1", "2"}},
	{args: []string{"ZRANGE", "z", "0", "-1", "nope"}}, {args: []string{"ZSCORE", "z", "c"}}, {args: []string{"ZSCORE", "z", "nope"}},
	{args: []string{"ZCARD", "z"}}, {args: []string{"ZPOPMIN", "z"}}, {args: []string{"ZPOPMIN", "z", "2"}}, {args: []string{"ZPOPMIN", "nope"}},
	{args: []string{"ZADD", "z", "x", "a"}}, {args: []string{"ZADD", "z", "1"}}, {args: []string{"ZADD", "z", "1", "a", "2"}},
	{args: []string{"ZADD", "z", "inf", "top", "-inf", "bottom"}}, {args: []string{"ZRANGE", "z", "0", "-1", "WITHSCORES"}},
	{args: []string{"ZADD", "z", "5", "a", "5", "b"}}, {args: []string{"ZRANGE", "z", "0", "-1"}}, {args: []string{"ZPOPMIN", "z", "10"}},
	{args: []string{"EXISTS", "z"}}, {args: []string{"ZCARD", "z"}}, {args: []string{"ZADD", "z", "nan", "a"}}, {args: []string{"TYPE", "z"}},
	// Wrong types, every way round.
	{args: []string{"RPUSH", "wl", "x"}}, {args: []string{"HSET", "wh", "f", "v"}}, {args: []string{"SADD", "ws", "m"}},
	{args: []string{"ZADD", "wz", "1", "m"}}, {args: []string{"SET", "wstr", "v"}},
	{args: []string{"INCR", "wl"}}, {args: []string{"APPEND", "wh", "x"}}, {args: []string{"STRLEN", "ws"}},
	{args: []string{"GET", "wh"}}, {args: []string{"GET", "ws"}}, {args: []string{"GET", "wz"}},
	{args: []string{"LPUSH", "wh", "x"}}, {args: []string{"RPUSH", "ws", "x"}}, {args: []string{"LRANGE", "wz", "0", "-1"}},
	{args: []string{"LLEN", "wh"}}, {args: []string{"LPOP", "ws"}}, {args: []string{"RPOP", "wstr"}},
	{args: []string{"HSET", "wl", "f", "v"}}, {args: []string{"HGET", "ws", "f"}}, {args: []string{"HGETALL", "wstr"}}, {args: []string{"HLEN", "wz"}},
	{args: []string{"HDEL", "wl", "f"}}, {args: []string{"SADD", "wh", "m"}}, {args: []string{"SMEMBERS", "wl"}}, {args: []string{"SCARD", "wstr"}},
	{args: []string{"SREM", "wz", "m"}}, {args: []string{"SPOP", "wh"}}, {args: []string{"ZADD", "ws", "1", "m"}}, {args: []string{"ZRANGE", "wh", "0", "1"}},
	{args: []string{"ZSCORE", "wl", "m"}}, {args: []string{"ZCARD", "ws"}}, {args: []string{"ZPOPMIN", "wstr"}},
	{args: []string{"MGET", "wl", "wstr", "wh"}},
	{args: []string{"TYPE", "wl"}}, {args: []string{"TYPE", "wh"}}, {args: []string{"TYPE", "ws"}}, {args: []string{"TYPE", "wz"}}, {args: []string{"TYPE", "wstr"}},
	{args: []string{"SET", "wh", "now a string"}}, {args: []string{"TYPE", "wh"}}, {args: []string{"GET", "wh"}},
	// Key listings.
	{args: []string{"KEYS", "*"}, unordered: true}, {args: []string{"KEYS", "w?"}, unordered: true}, {args: []string{"KEYS", "w[hs]*"}, unordered: true},
	{args: []string{"KEYS", "w[^h]"}, unordered: true}, {args: []string{"KEYS", "nomatch*"}}, {args: []string{"KEYS", "w\\s"}},
	{args: []string{"SCAN", "0", "MATCH", "w*", "COUNT", "1000"}, unordered: true}, {args: []string{"SCAN", "0", "TYPE", "hash", "COUNT", "1000"}, unordered: true},
	{args: []string{"SCAN", "x"}}, {args: []string{"SCAN", "0", "COUNT"}}, {args: []string{"SCAN", "0", "COUNT", "0"}}, {args: []string{"SCAN", "0", "BOGUS", "1"}},
	{args: []string{"DBSIZE"}}, {args: []string{"DEL", "wl", "wh", "ws", "wz", "wstr"}}, {args: []string{"NOSUCHCOMMAND", "x"}},
	{args: []string{"FLUSHALL"}}, {args: []string{"DBSIZE"}}, {args: []string{"KEYS", "*"}},
}

// TestAgainstRedis runs redisScript against kvserver and, when redis-server is installed,
// against Redis, and compares every reply. Without redis-server it is skipped.
func TestAgainstRedis(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed")
	}
	port := testutil.FreePort(t)
	p := testutil.StartProc(t, bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	redisAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var redis net.Conn
	if !testutil.WaitUntil(20*time.Second, func() bool {
		redis, err = net.DialTimeout("tcp", redisAddr, time.Second)
		return err == nil
	}) {
		t.Fatalf("redis-server did not start: %v\n%s", err, strings.Join(p.Lines(), "\n"))
	}
	defer redis.Close()
	ours := dial(t, startServer(t, nil))
	theirs := bufio.NewReader(redis)
	for _, st := range redisScript {
		ours.write(frame(st.args...))
		redis.SetDeadline(time.Now().Add(ioTimeout))
		if _, err := redis.Write([]byte(frame(st.args...))); err != nil {
			t.Fatal(err)
		}
		ours.c.SetReadDeadline(time.Now().Add(ioTimeout))
		got, err := readValue(ours.r)
		if err != nil {
			t.Fatalf("%q: kvserver: %v", st.args, err)
		}
		want, err := readValue(theirs)
		if err != nil {
			t.Fatalf("%q: redis: %v", st.args, err)
		}
		if st.unordered {
			got, want = sortedValue(got), sortedValue(want)
		}
		if g, w := fmt.Sprint(got), fmt.Sprint(want); g != w {
			t.Errorf("%q:\n kvserver %s\n redis    %s", st.args, g, w)
		}
	}
}

// readValue reads one RESP reply as a string ("+OK", "-ERR ...", ":1", a quoted bulk string,
// "nil") or, for an array, a []any of those.
func readValue(r *bufio.Reader) (any, error) {
	l, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(l) > 2 && l[0] == '*' {
		n, err := strconv.Atoi(strings.TrimSpace(l[1:]))
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return "nil array", nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readValue(r); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	l = strings.TrimSuffix(l, "\r\n")
	if len(l) > 0 && l[0] == '$' {
		n, err := strconv.Atoi(l[1:])
		if err != nil || n < 0 {
			return "nil", err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return strconv.Quote(string(buf[:n])), nil
	}
	return l, nil
}

// sortedValue sorts an array reply, and the array inside a SCAN reply.
func sortedValue(v any) any {
	a, ok := v.([]any)
	if !ok {
		return v
	}
	if len(a) == 2 {
		if inner, ok := a[1].([]any); ok {
			return []any{a[0], sortedValue(inner)}
		}
	}
	s := slices.Clone(a)
	slices.SortFunc(s, func(x, y any) int { return strings.Compare(fmt.Sprint(x), fmt.Sprint(y)) })
	return s
}
