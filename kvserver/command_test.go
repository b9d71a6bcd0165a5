package kvserver

import (
	"strconv"
	"strings"
	"testing"

	"ds440/kvserver/internal/keyspace"
)

// runText executes text lines against d with room for room entries and returns the output.
func runText(d *db, room int, lines ...string) output {
	out := output{room: room}
	for _, l := range lines {
		r, args := parseLine([]byte(l), nil)
		d.execText(r, args[r.lo:r.hi], &out)
	}
	return out
}

// runRESP executes RESP commands against d with room for room entries and returns the output.
func runRESP(d *db, room int, cmds ...[]string) output {
	out := output{room: room}
	for _, c := range cmds {
		args, _, err := parseRESP([]byte(frame(c...)), nil)
		if err != nil {
			panic(err)
		}
		r := classify(args, 0)
		if out.quit || !d.execRESP(r, args[r.lo:r.hi], &out) {
			break
		}
	}
	return out
}

func TestExecText(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{"get missing", []string{"Get:k"}, ""},
		{"put get", []string{"Put:k:a", "Put:k:b:c", "Get:k"}, "k:a\nk:b:c\n"},
		{"empty value", []string{"Put:k:", "Get:k"}, "k:\n"},
		{"update", []string{"Put:k:a", "Put:k:b", "Put:k:a", "Update:k:a:z", "Get:k"}, "k:z\nk:b\nk:z\n"},
		{"update missing", []string{"Update:k:a:z", "Get:k"}, ""},
		{"delete", []string{"Put:k:a", "Put:j:b", "Delete:k", "Get:k", "Get:j"}, "j:b\n"},
		{"errors in order", []string{"Put:k:a", "Nope", "Get:k", "Get:"}, "ERR " + reasonVerb + "\nk:a\nERR " + reasonEmptyKey + "\n"},
		{"keys are separate", []string{"Put:a:1", "Put:ab:2", "Get:a"}, "a:1\n"},
	}
	for _, tt := range tests {
		out := runText(newDB(NewMemoryStore()), QueueLines, tt.lines...)
		if string(out.buf) != tt.want {
			t.Errorf("%s: output %q, want %q", tt.name, out.buf, tt.want)
		}
		if out.entries != strings.Count(tt.want, "\n") || out.entries+out.room != QueueLines {
			t.Errorf("%s: entries %d room %d", tt.name, out.entries, out.room)
		}
	}
}

// A reply is queued whole while the queue is not full, even past its length; once it is
// full, replies are dropped whole and their lines counted. Mutations apply regardless.
func TestExecTextQueueFull(t *testing.T) {
	d := newDB(NewMemoryStore())
	out := runText(d, 2, "Put:k:a", "Put:k:b", "Put:k:c", "Get:k", "Nope", "Get:k", "Put:k:d")
	if string(out.buf) != "k:a\nk:b\nk:c\n" || out.entries != 3 || out.room != -1 || out.dropped != 4 {
		t.Fatalf("output %q entries %d room %d dropped %d", out.buf, out.entries, out.room, out.dropped)
	}
	if got := strs(d.store.Get("k")); len(got) != 4 {
		t.Fatalf("store holds %q: a mutation was lost with the replies", got)
	}
}

func TestExecRESP(t *testing.T) {
	tests := []struct {
		name string
		cmds [][]string
		want string
	}{
		{"ping", [][]string{{"PING"}, {"ping", "hi"}}, "+PONG\r\n$2\r\nhi\r\n"},
		{"echo", [][]string{{"ECHO", "a\r\nb"}}, "$4\r\na\r\nb\r\n"},
		{"set get", [][]string{{"SET", "k", "v"}, {"GET", "k"}, {"GET", "nope"}}, "+OK\r\n$1\r\nv\r\n$-1\r\n"},
		{"set replaces the list", [][]string{{"RPUSH", "k", "a", "b"}, {"SET", "k", "v"}, {"LRANGE", "k", "0", "-1"}}, ":2\r\n+OK\r\n*1\r\n$1\r\nv\r\n"},
		{"get is the last value", [][]string{{"RPUSH", "k", "a", "b"}, {"GET", "k"}}, ":2\r\n$1\r\nb\r\n"},
		{"rpush lrange", [][]string{{"RPUSH", "k", "a"}, {"RPUSH", "k", "b", "c"}, {"LRANGE", "k", "0", "-1"}, {"LRANGE", "k", "-2", "5"}},
			":1\r\n:3\r\n*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n*2\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{"lpush", [][]string{{"RPUSH", "k", "m"}, {"LPUSH", "k", "b", "a"}, {"LRANGE", "k", "0", "-1"}, {"LLEN", "k"}},
			":1\r\n:3\r\n*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nm\r\n:3\r\n"},
		{"lrange empty", [][]string{{"LRANGE", "nope", "0", "-1"}, {"RPUSH", "k", "a"}, {"LRANGE", "k", "5", "9"}}, "*0\r\n:1\r\n*0\r\n"},
		{"lrange not a number", [][]string{{"LRANGE", "k", "x", "1"}}, "-ERR value is not an integer or out of range\r\n"},
		{"del exists", [][]string{{"SET", "a", "1"}, {"SET", "b", "2"}, {"EXISTS", "a", "b", "c", "a"}, {"DEL", "a", "c"}, {"EXISTS", "a"}},
			"+OK\r\n+OK\r\n:3\r\n:1\r\n:0\r\n"},
		{"kvupdate", [][]string{{"RPUSH", "k", "a", "b", "a"}, {"KVUPDATE", "k", "a", "z"}, {"LRANGE", "k", "0", "-1"}},
			":3\r\n+OK\r\n*3\r\n$1\r\nz\r\n$1\r\nb\r\n$1\r\nz\r\n"},
		{"dbsize flushall", [][]string{{"SET", "a", "1"}, {"RPUSH", "b", "2"}, {"DBSIZE"}, {"FLUSHALL"}, {"DBSIZE"}}, "+OK\r\n:1\r\n:2\r\n+OK\r\n:0\r\n"},
		{"select", [][]string{{"SELECT", "0"}, {"SELECT", "1"}}, "+OK\r\n-ERR DB index is out of range\r\n"},
		{"command config", [][]string{{"COMMAND", "DOCS"}, {"CONFIG", "get", "save"}, {"CONFIG", "SET", "a", "b"}}, "*0\r\n*0\r\n-ERR only CONFIG GET is supported\r\n"},
		{"unknown", [][]string{{"HSETX", "h", "f", "v"}}, "-ERR unknown command 'HSETX', with args beginning with: 'h' 'f' 'v' \r\n"},
		{"arity", [][]string{{"GET"}}, "-ERR wrong number of arguments for 'get' command\r\n"},
	}
	for _, tt := range tests {
		out := runRESP(newDB(NewMemoryStore()), QueueLines, tt.cmds...)
		if string(out.buf) != tt.want {
			t.Errorf("%s: output %q,\nwant %q", tt.name, out.buf, tt.want)
		}
		if out.entries != len(tt.cmds) || out.quit {
			t.Errorf("%s: entries %d quit %v", tt.name, out.entries, out.quit)
		}
	}
}

func TestExecRESPQuit(t *testing.T) {
	d := newDB(NewMemoryStore())
	out := runRESP(d, QueueLines, []string{"QUIT"}, []string{"SET", "k", "v"})
	if string(out.buf) != "+OK\r\n" || !out.quit {
		t.Fatalf("output %q quit %v", out.buf, out.quit)
	}
	if d.store.Get("k") != nil {
		t.Fatal("a command after QUIT was executed")
	}
}

// A RESP request whose reply would not fit is not executed: the server holds it instead.
func TestExecRESPQueueFull(t *testing.T) {
	d := newDB(NewMemoryStore())
	out := output{room: 1}
	set := func(k string) bool {
		args := [][]byte{[]byte(k), []byte("v")}
		return d.execRESP(request{op: opSet, lo: 0, hi: 2}, args, &out)
	}
	if !set("a") || set("b") {
		t.Fatal("execRESP executed a request with a full queue, or refused one with room")
	}
	if string(out.buf) != "+OK\r\n" || out.room != 0 || d.store.Get("b") != nil {
		t.Fatalf("output %q room %d, b = %q", out.buf, out.room, d.store.Get("b"))
	}
}

// On a store without the ListStore methods, list commands still work (built from Get/Put) and
// the ones that cannot be built say so.
func TestExecRESPPlainStore(t *testing.T) {
	d := newDB(plainStore{NewMemoryStore()})
	out := runRESP(d, QueueLines, []string{"RPUSH", "k", "b"}, []string{"LPUSH", "k", "a"}, []string{"LRANGE", "k", "0", "-1"},
		[]string{"DBSIZE"}, []string{"FLUSHALL"})
	want := ":1\r\n:2\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n-ERR DBSIZE needs a store that counts its keys\r\n-ERR FLUSHALL needs a store that can clear itself\r\n"
	if string(out.buf) != want {
		t.Fatalf("output %q,\nwant %q", out.buf, want)
	}
}

func BenchmarkParseLine(b *testing.B) {
	line := []byte("Put:key:000000012345:some value of moderate length")
	var args [][]byte
	b.ReportAllocs()
	for b.Loop() {
		_, args = parseLine(line, args[:0])
	}
}

func BenchmarkParseRESP(b *testing.B) {
	in := []byte(frame("SET", "key:000000012345", "xxx"))
	var args [][]byte
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		args, _, _ = parseRESP(in, args[:0])
		classify(args, 0)
	}
}

// BenchmarkParseRequest parses and classifies requests as redis-benchmark's default list sends
// them: the per-request work before execution.
func BenchmarkParseRequest(b *testing.B) {
	mset := []string{"MSET"}
	for range 10 {
		mset = append(mset, "key:000000012345", "xxx")
	}
	for _, bc := range []struct{ name, in string }{
		{"PING_INLINE", "PING\r\n"},
		{"PING_MBULK", frame("PING")},
		{"SET", frame("SET", "key:000000012345", "xxx")},
		{"GET", frame("GET", "key:000000012345")},
		{"LRANGE_100", frame("LRANGE", "mylist", "0", "99")},
		{"MSET", frame(mset...)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in := []byte(bc.in)
			var args [][]byte
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				args, _, _ = parseRequest(in, args[:0])
				classify(args, 0)
			}
		})
	}
}

// BenchmarkExecRESP executes the commands of redis-benchmark's default list that kvserver was
// slowest at, as redis-benchmark sends them, against the memory store: the cost of execution
// alone, without sockets or parsing.
func BenchmarkExecRESP(b *testing.B) {
	mset := []string{"MSET"}
	for range 10 {
		mset = append(mset, "key:__rand_int__", "xxx")
	}
	for _, bc := range []struct {
		name  string
		setup [][]string
		cmd   []string
	}{
		{"SET", nil, []string{"SET", "key:__rand_int__", "xxx"}},
		{"INCR", [][]string{{"SET", "key:__rand_int__", "123456"}}, []string{"INCR", "key:__rand_int__"}},
		{"GET", [][]string{{"SET", "key:__rand_int__", "xxx"}}, []string{"GET", "key:__rand_int__"}},
		{"MSET", nil, mset},
		{"LPUSH", nil, []string{"LPUSH", "mylist", "xxx"}},
		{"HSET", nil, []string{"HSET", "myhash", "element:__rand_int__", "xxx"}},
		{"LPOP", nil, []string{"LPOP", "mylist"}},
		{"ZADD", nil, []string{"ZADD", "myzset", "0", "element:__rand_int__"}},
		{"ZPOPMIN", nil, []string{"ZPOPMIN", "myzset"}},
		{"SPOP", nil, []string{"SPOP", "myset"}},
		{"LRANGE_100", nil, []string{"LRANGE", "mylist", "0", "99"}},
		{"LRANGE_600", nil, []string{"LRANGE", "mylist", "0", "599"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d := newDB(NewMemoryStore())
			for range 1000 {
				runRESP(d, 1, []string{"LPUSH", "mylist", "xxx"})
			}
			for _, c := range bc.setup {
				runRESP(d, 1, c)
			}
			args, _, err := parseRESP([]byte(frame(bc.cmd...)), nil)
			if err != nil {
				b.Fatal(err)
			}
			r := classify(args, 0)
			refill, _, _ := parseRESP([]byte(frame(map[string][]string{
				"LPOP":    {"RPUSH", "mylist", "xxx"},
				"ZPOPMIN": {"ZADD", "myzset", "0", "element:__rand_int__"},
				"SPOP":    {"SADD", "myset", "element:__rand_int__"},
			}[bc.name]...)), nil)
			var refillReq request
			if refill != nil {
				refillReq = classify(refill, 0)
			}
			refilled := output{buf: make([]byte, 0, 1<<10)}
			out := output{buf: make([]byte, 0, 1<<16)}
			b.ReportAllocs()
			for b.Loop() {
				out.buf, out.room = out.buf[:0], 1
				d.execRESP(r, args[r.lo:r.hi], &out)
				if refill != nil { // put back what was popped
					refilled.buf, refilled.room = refilled.buf[:0], 1
					d.execRESP(refillReq, refill[refillReq.lo:refillReq.hi], &refilled)
				}
			}
		})
	}
}

// LRANGE encodes runs of a list's chunks in place; it must give what encoding each value of
// the range in turn gives, for values of every header length, pushed at either end, across
// chunk boundaries.
func TestLRangeRuns(t *testing.T) {
	t.Parallel()
	d := newDB(NewMemoryStore())
	var list []string // the reference
	for i := range 700 {
		v := strings.Repeat(string(rune('a'+i%26)), []int{0, 1, 9, 10, 11, 99, 100, 250}[i%8])
		if i%3 == 0 {
			runRESP(d, 1, []string{"RPUSH", "l", v})
			list = append(list, v)
		} else {
			runRESP(d, 1, []string{"LPUSH", "l", v})
			list = append([]string{v}, list...)
		}
	}
	for i := range 50 { // pop some, so that the bottom chunks are partly used
		cmd := []string{"LPOP", "l"}
		if i%2 == 0 {
			cmd[0] = "RPOP"
			list = list[:len(list)-1]
		} else {
			list = list[1:]
		}
		runRESP(d, 1, cmd)
	}
	n := len(list)
	for _, r := range [][2]int{{0, -1}, {0, 0}, {1, 1}, {5, 300}, {127, 129}, {n - 200, -1}, {-1, -1}, {n / 2, n/2 + 130}} {
		want := appendArrayLen(nil, 0)
		if lo, hi, ok := keyspace.ClampRange(n, r[0], r[1]); ok {
			want = appendArrayLen(nil, hi-lo)
			for _, v := range list[lo:hi] {
				want = appendBulk(want, []byte(v))
			}
		}
		out := runRESP(d, 1, []string{"LRANGE", "l", strconv.Itoa(r[0]), strconv.Itoa(r[1])})
		if string(out.buf) != string(want) {
			t.Fatalf("LRANGE l %d %d = %.200q..., want %.200q...", r[0], r[1], out.buf, want)
		}
	}
}
