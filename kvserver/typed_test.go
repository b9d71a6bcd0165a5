package kvserver

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// typedScript leaves keys of every type, with expiries, after mutations that a log must
// replay exactly: pops, deletes of fields and members, increments, appends.
var typedScript = [][]string{
	{"SET", "s", "1"}, {"INCRBY", "s", "41"}, {"APPEND", "a", "x"}, {"APPEND", "a", "yz"},
	{"MSET", "m1", "v1", "m2", "v2"}, {"DEL", "m2"},
	{"RPUSH", "l", "a", "b", "c", "d"}, {"LPUSH", "l", "z"}, {"LPOP", "l"}, {"RPOP", "l"},
	{"HSET", "h", "f1", "v1", "f2", "v2", "f3", "v3"}, {"HDEL", "h", "f2"}, {"HSET", "h", "f1", "w1"},
	{"SADD", "st", "a", "b", "c"}, {"SREM", "st", "b"}, {"SADD", "one", "x"}, {"SPOP", "one"},
	{"ZADD", "z", "3", "c", "1", "a", "2", "b"}, {"ZPOPMIN", "z"}, {"ZADD", "z", "0.5", "c"},
	{"SET", "ttl", "v"}, {"EXPIRE", "ttl", "1000"}, {"SET", "gone", "v"}, {"EXPIRE", "gone", "10"},
	{"SET", "wh", "string first"}, {"HSET", "wh2", "f", "v"},
}

// typedProbe reads back what typedScript left.
var typedProbe = [][]string{
	{"GET", "s"}, {"GET", "a"}, {"MGET", "m1", "m2"}, {"LRANGE", "l", "0", "-1"}, {"HGET", "h", "f1"}, {"HGET", "h", "f2"},
	{"HLEN", "h"}, {"SISMEMBER", "st", "a"}, {"SISMEMBER", "st", "b"}, {"SCARD", "st"}, {"EXISTS", "one"},
	{"ZRANGE", "z", "0", "-1", "WITHSCORES"}, {"TTL", "ttl"}, {"TTL", "gone"}, {"EXISTS", "gone"}, {"DBSIZE"},
	{"TYPE", "s"}, {"TYPE", "l"}, {"TYPE", "h"}, {"TYPE", "st"}, {"TYPE", "z"}, {"TYPE", "wh"}, {"TYPE", "wh2"},
}

// Every typed mutation is logged: a FileStore replays (and, after compaction, rewrites) to the
// state the memory store reaches, including expiries, which a later clock sees pass.
func TestTypedMutationsAreLogged(t *testing.T) {
	t.Parallel()
	clock := time.Unix(1_700_000_000, 0)
	now := func() time.Time { return clock }
	run := func(store KVStore, cmds [][]string) string {
		d := newDB(store)
		d.now = now
		return string(runRESP(d, 1<<20, cmds...).buf)
	}
	mem := NewMemoryStore()
	run(mem, typedScript)
	clock = clock.Add(20 * time.Second) // "gone" expires
	want := run(mem, typedProbe)

	for _, compact := range []bool{false, true} {
		clock = time.Unix(1_700_000_000, 0)
		path := filepath.Join(t.TempDir(), "log")
		f := openTest(t, path, SyncAlways, FileStoreOptions{})
		run(f, typedScript)
		if compact {
			if err := f.Compact(); err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
		g := openTest(t, path, SyncAlways, FileStoreOptions{})
		clock = clock.Add(20 * time.Second)
		if got := run(g, typedProbe); got != want {
			t.Errorf("compact %v: after replay\n got %q\nwant %q", compact, got, want)
		}
		g.Close()
	}
	if want == "" || !containsAll(want, "+string", "+list", "+hash", "+set", "+zset", "$2\r\n42", "w1", "0.5", ":-2") {
		t.Fatalf("probe output %q lacks what the script made", want)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func TestGlobMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p, s string
		ok   bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*", "abc", true}, {"a*c", "abbbc", true}, {"a*c", "abcd", false},
		{"?", "a", true}, {"?", "", false}, {"h?llo", "hello", true}, {"h[ae]llo", "hallo", true}, {"h[ae]llo", "hillo", false},
		{"h[^e]llo", "hallo", true}, {"h[^e]llo", "hello", false}, {"h[a-b]llo", "hbllo", true}, {"h[a-b]llo", "hcllo", false},
		{`h\*llo`, "h*llo", true}, {`h\*llo`, "hello", false}, {"[", "[", false}, {"**a", "ba", true},
	} {
		if got := globMatch(tc.p, tc.s); got != tc.ok {
			t.Errorf("globMatch(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

// parseIntReference is parseInt's definition: what strconv parses and formats back unchanged.
func parseIntReference(b []byte) (int64, bool) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != string(b) {
		return 0, false
	}
	return n, true
}

func checkParseInt(t *testing.T, b []byte) {
	n, ok := parseInt(b)
	wn, wok := parseIntReference(b)
	if ok != wok || n != wn && ok {
		t.Fatalf("parseInt(%q) = %d, %v; want %d, %v", b, n, ok, wn, wok)
	}
}

func TestParseInt(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"0", "-0", "00", "01", "-01", "1", "-1", "+1", " 1", "1 ", "", "-", "--1", "1-",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"18446744073709551615", "18446744073709551616", "99999999999999999999", "-99999999999999999999",
		"1234567890123456789", "12345678901234567890", "0x10", "1e3", "1_000", "/", ":", "9:"} {
		checkParseInt(t, []byte(s))
	}
}

func FuzzParseInt(f *testing.F) {
	for _, s := range []string{"0", "-0", "123", "-9223372036854775808", "9223372036854775808", "01"} {
		f.Add([]byte(s))
	}
	f.Fuzz(checkParseInt)
}
