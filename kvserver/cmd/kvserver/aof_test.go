package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"ds440/internal/testutil"
	"ds440/kvserver"
	"ds440/kvserver/filestore"
)

func TestOpenStore(t *testing.T) {
	store, closeStore, err := openStore("", "always")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := store.(*kvserver.FileStore); ok || closeStore() != nil {
		t.Fatalf("openStore without -aof gave %T", store)
	}

	path := filepath.Join(t.TempDir(), "aof")
	store, closeStore, err = openStore(path, "everysec")
	if err != nil {
		t.Fatal(err)
	}
	store.Put("k", []byte("v"))
	if err := closeStore(); err != nil {
		t.Fatal(err)
	}
	store, closeStore, err = openStore(path, "always")
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	if got := store.Get("k"); len(got) != 1 || string(got[0]) != "v" {
		t.Fatalf("after reopening Get = %q", got)
	}

	if _, _, err := openStore(filepath.Join(t.TempDir(), "x"), "sometimes"); err == nil {
		t.Fatal("openStore accepted -fsync sometimes")
	}
}

func TestAOFFlags(t *testing.T) {
	notLog := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notLog, []byte("not a log"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		say  string
	}{
		{[]string{"-fsync", "sometimes"}, 2, "always or everysec"},
		{[]string{"-aof", notLog}, 1, "not a kvserver log"},
	} {
		var out bytes.Buffer
		if code := run(context.Background(), tc.args, &out); code != tc.code || !strings.Contains(out.String(), tc.say) {
			t.Errorf("kvserver %v: exit %d, output %q; want exit %d mentioning %q", tc.args, code, out.String(), tc.code, tc.say)
		}
	}
}

// TestAOFKeepsEveryAcknowledgedWriteAcrossSIGKILL kills a kvserver while a client is
// pipelining RPUSHes into it, restarts it on the same log, and checks that every push the
// client saw answered is there, in order, with nothing after it but pushes the client sent.
// Both policies must pass: a killed process loses nothing it wrote, and the server writes the
// log before it answers; fsync only matters when the machine itself goes down.
func TestAOFKeepsEveryAcknowledgedWriteAcrossSIGKILL(t *testing.T) {
	t.Parallel()
	for _, fsync := range []string{"always", "everysec"} {
		t.Run(fsync, func(t *testing.T) {
			t.Parallel()
			testSIGKILL(t, fsync)
		})
	}
}

func testSIGKILL(t *testing.T, fsync string) {
	bin := testutil.BuildBinary(t, "ds440/kvserver/cmd/kvserver")
	path := filepath.Join(t.TempDir(), "appendonly.log")
	args := []string{"-port", "0", "-aof", path, "-fsync", fsync, "-v"}

	p := testutil.StartProc(t, bin, args...)
	conn, addr := dialServer(t, p)

	// At most window pushes are unanswered at a time, as a client library would pipeline.
	const maxPushes, killAfter, window = 20000, 300, 64
	credit := make(chan struct{}, window)
	for range window {
		credit <- struct{}{}
	}
	writerDone := make(chan struct{})
	go func() { // pushes until the connection breaks
		defer close(writerDone)
		w := bufio.NewWriter(conn)
		for i := range maxPushes {
			select {
			case <-credit:
			default:
				if w.Flush() != nil {
					return
				}
				if _, ok := <-credit; !ok {
					return
				}
			}
			fmt.Fprintf(w, "*3\r\n$5\r\nRPUSH\r\n$1\r\nk\r\n%s", bulk(value(i)))
		}
		w.Flush()
	}()
	r := bufio.NewReader(conn)
	acked := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			break // the server is dead
		}
		if line != fmt.Sprintf(":%d\r\n", acked+1) {
			t.Fatalf("reply %d to RPUSH = %q", acked, line)
		}
		acked++
		credit <- struct{}{}
		if acked == killAfter {
			p.Kill()
		}
	}
	close(credit)
	p.Kill() // in case the connection broke before killAfter answers
	testutil.Within(t, 30*time.Second, "the killed server's exit", func() { <-p.Done() })
	testutil.Within(t, 30*time.Second, "the writer's end", func() { <-writerDone })
	if acked < killAfter {
		t.Fatalf("only %d pushes answered before the server died", acked)
	}

	q := testutil.StartProc(t, bin, args...)
	addr = q.WaitLine(t, `kvserver listening on (\S+)`, 60*time.Second)[1]
	got := lrange(t, addr, "k")
	if len(got) < acked {
		t.Fatalf("after SIGKILL and restart the list holds %d values; %d pushes were answered", len(got), acked)
	}
	for i, v := range got {
		if v != value(i) {
			t.Fatalf("value %d after restart = %q, want %q", i, v, value(i))
		}
	}
	t.Logf("%d pushes answered before SIGKILL, %d found after restart", acked, len(got))
}

// dialServer waits for the kvserver p to listen and connects to it, with a deadline for the
// rest of the test; the connection is closed when the test ends.
func dialServer(t *testing.T, p *testutil.Proc) (net.Conn, string) {
	t.Helper()
	addr := p.WaitLine(t, `kvserver listening on (\S+)`, 60*time.Second)[1]
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	return conn, addr
}

func value(i int) string { return "value-" + strconv.Itoa(i) }

func bulk(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }

// lrange asks the server at addr for every value of key over RESP.
func lrange(t *testing.T, addr, key string) []string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "*4\r\n%s%s%s%s", bulk("LRANGE"), bulk(key), bulk("0"), bulk("-1"))
	r := bufio.NewReader(conn)
	var n int
	if _, err := fmt.Fscanf(r, "*%d\r\n", &n); err != nil {
		t.Fatalf("LRANGE reply: %v", err)
	}
	out := make([]string, 0, n)
	for range n {
		var size int
		if _, err := fmt.Fscanf(r, "$%d\r\n", &size); err != nil {
			t.Fatalf("LRANGE element: %v", err)
		}
		b := make([]byte, size+2)
		if _, err := io.ReadFull(r, b); err != nil {
			t.Fatalf("LRANGE element: %v", err)
		}
		out = append(out, string(b[:size]))
	}
	return out
}

// A log with a damaged record in the middle is refused at start, reported by -aof-check and,
// only with -aof-repair, copied without the damage; the original is never changed.
func TestAOFCheckAndRepair(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aof")
	store, closeStore, err := openStore(path, "always")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		store.Put("k", []byte(value(i)))
	}
	closeStore()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x04
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	unchanged := func(what string) {
		t.Helper()
		if now, _ := os.ReadFile(path); !bytes.Equal(now, data) {
			t.Fatalf("%s modified the damaged log", what)
		}
	}
	for _, tc := range []struct {
		args []string
		code int
		say  []string
	}{
		{[]string{"-aof", path, "-port", "0"}, 1, []string{"damaged at offset", "5 intact records", "-aof-check"}},
		{[]string{"-aof-check", path}, 1, []string{"9 intact records", "damaged: offset", "checksum mismatch", "-aof-repair"}},
		{[]string{"-aof-repair", path}, 0, []string{"wrote " + path + ".repaired: 9 intact records"}},
		{[]string{"-aof-check", path + ".repaired"}, 0, []string{"9 intact records", "intact"}},
		{[]string{"-aof-repair", path}, 1, []string{"file exists"}},
	} {
		var out bytes.Buffer
		code := run(context.Background(), tc.args, &out)
		for _, s := range tc.say {
			if !strings.Contains(out.String(), s) {
				code = -1
			}
		}
		if code != tc.code {
			t.Fatalf("kvserver %v: exit %d, output %q; want exit %d mentioning %q", tc.args, code, out.String(), tc.code, tc.say)
		}
		unchanged(fmt.Sprint(tc.args))
	}
	store, closeStore, err = openStore(path+".repaired", "always")
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	if got := store.Get("k"); len(got) != 9 {
		t.Fatalf("the repaired log holds %d values, want 9", len(got))
	}
}

// TestAOFDiskFullIsNotAcknowledged runs kvserver -aof with a file size limit (ulimit -f, with
// SIGXFSZ ignored, so a write past it fails with EFBIG as on a full disk) and pushes values
// one at a time until the log cannot take the next one. That push is not answered: the server
// drops its client instead. The round is rolled back, so a new client reads exactly the
// answered pushes, the server keeps serving, and the log holds exactly those records.
func TestAOFDiskFullIsNotAcknowledged(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("needs a POSIX shell's ulimit -f and EFBIG")
	}
	for _, fsync := range []string{"always", "everysec"} {
		t.Run(fsync, func(t *testing.T) {
			t.Parallel()
			bin := testutil.BuildBinary(t, "ds440/kvserver/cmd/kvserver")
			path := filepath.Join(t.TempDir(), "appendonly.log")
			p := testutil.StartProc(t, "/bin/sh", "-c", `trap '' XFSZ; ulimit -f 16; exec "$0" "$@"`,
				bin, "-port", "0", "-aof", path, "-fsync", fsync)
			conn, addr := dialServer(t, p)
			r := bufio.NewReader(conn)
			big := strings.Repeat("v", 500)
			acked := 0
			for ; acked < 1000; acked++ { // 500 KB: far past the limit (8 or 16 KiB)
				fmt.Fprintf(conn, "*3\r\n%s%s%s", bulk("RPUSH"), bulk("k"), bulk(fmt.Sprint(acked, big)))
				line, err := r.ReadString('\n')
				if err != nil {
					break // dropped: the push was not answered
				}
				if line != fmt.Sprintf(":%d\r\n", acked+1) {
					t.Fatalf("reply %d to RPUSH = %q", acked, line)
				}
			}
			if acked == 0 || acked == 1000 {
				t.Fatalf("%d pushes answered; want the limit to stop some but not all", acked)
			}
			got := lrange(t, addr, "k") // a new client: the server still serves
			if len(got) != acked {
				t.Fatalf("%d pushes answered, the server holds %d values", acked, len(got))
			}
			p.Kill()
			testutil.Within(t, 30*time.Second, "the killed server's exit", func() { <-p.Done() })
			rep, err := filestore.Check(path)
			if err != nil || rep.Records != acked || !rep.Intact() {
				t.Fatalf("after %d answered pushes the log holds %+v (%v)", acked, rep, err)
			}
			t.Logf("%d pushes answered, the next dropped, log %d bytes", acked, rep.Size)
		})
	}
}
