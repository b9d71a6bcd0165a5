package rawio

import (
	"errors"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// newTestRing returns a ring closed when the test ends, or skips the test on a kernel that
// refuses io_uring.
func newTestRing(t testing.TB, entries uint32, flags int) *Ring {
	t.Helper()
	r, err := NewRing(entries, flags)
	if errors.Is(err, ErrNoUring) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// Sends to several sockets go out in one SubmitAndWait, each completion carrying its data; a
// send with MSG_DONTWAIT to a full socket completes at once, short and then with -EAGAIN.
func TestRingSend(t *testing.T) {
	t.Parallel()
	r := newTestRing(t, 4, 0)
	if r.Entries() != 4 {
		t.Fatalf("Entries = %d, want 4", r.Entries())
	}
	var a, b [3]int
	for i := range a {
		a[i], b[i] = pair(t)
	}
	for i := range a {
		r.Send(a[i], []byte("hello"[:i+1]), uint64(10+i), syscall.MSG_DONTWAIT|syscall.MSG_NOSIGNAL)
	}
	if err := r.SubmitAndWait(len(a)); err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]int32{}
	for {
		c, ok := r.Reap()
		if !ok {
			break
		}
		seen[c.Data] = c.Res
	}
	buf := make([]byte, 16)
	for i := range a {
		if seen[uint64(10+i)] != int32(i+1) {
			t.Fatalf("completions %v: want %d bytes for data %d", seen, i+1, 10+i)
		}
		if n, err := Read(b[i], buf); err != nil || string(buf[:n]) != "hello"[:i+1] {
			t.Fatalf("socket %d received %q, %v", i, buf[:max(n, 0)], err)
		}
	}

	// Fill a socket: each send takes what fits, the first that finds no room gets -EAGAIN.
	big := make([]byte, 1<<20)
	total, short := 0, false
	for range 100 {
		r.Send(a[0], big, 1, syscall.MSG_DONTWAIT|syscall.MSG_NOSIGNAL)
		if err := r.SubmitAndWait(1); err != nil {
			t.Fatal(err)
		}
		c, ok := r.Reap()
		if !ok {
			t.Fatal("SubmitAndWait(1) returned with no completion in")
		}
		if c.Res == -int32(syscall.EAGAIN) {
			break
		}
		if c.Res <= 0 {
			t.Fatalf("send to a socket with room: %d", c.Res)
		}
		short = short || int(c.Res) < len(big)
		total += int(c.Res)
	}
	if total == 0 || !short {
		t.Fatalf("filling a socket: %d bytes taken, a short send seen: %v; want some and a short send", total, short)
	}
	// A send to a peer that has gone fails with -EPIPE, and no signal.
	syscall.Close(b[1])
	r.Send(a[1], []byte("x"), 7, syscall.MSG_DONTWAIT|syscall.MSG_NOSIGNAL)
	if err := r.SubmitAndWait(1); err != nil {
		t.Fatal(err)
	}
	if c, _ := r.Reap(); c.Data != 7 || c.Res != -int32(syscall.EPIPE) {
		t.Fatalf("send to a closed peer: %+v, want -EPIPE", c)
	}
}

// A recv waits for data; Enter collects it with the completion. A single-issuer ring is used
// by the thread that set it up.
func TestRingRecv(t *testing.T) {
	t.Parallel()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := newTestRing(t, 2, SingleIssuer)
	a, b := pair(t)
	buf := make([]byte, 8)
	r.Recv(b, buf, 5, true, 0)
	if err := r.Enter(0); err != nil {
		t.Fatal(err)
	}
	if c, ok := r.Reap(); ok {
		t.Fatalf("a recv of an empty socket completed: %+v", c)
	}
	Write(a, []byte("ping"))
	var c Completion
	for ok := false; !ok; c, ok = r.Reap() {
		if err := r.Enter(10 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if c.Data != 5 || c.Res != 4 || string(buf[:4]) != "ping" {
		t.Fatalf("recv: %+v, %q", c, buf)
	}
	// With MSG_DONTWAIT, a recv of an empty socket completes at once.
	r.Recv(b, buf, 6, false, syscall.MSG_DONTWAIT)
	if err := r.Enter(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if c, _ := r.Reap(); c.Data != 6 || c.Res != -int32(syscall.EAGAIN) {
		t.Fatalf("recv of an empty socket with MSG_DONTWAIT: %+v, want -EAGAIN", c)
	}
}
