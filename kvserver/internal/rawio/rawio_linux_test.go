package rawio

import (
	"syscall"
	"testing"
)

// pair returns a connected pair of non-blocking stream sockets, closed when the test ends.
func pair(t *testing.T) (a, b int) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fds[0]); syscall.Close(fds[1]) })
	return fds[0], fds[1]
}

func TestReadWrite(t *testing.T) {
	t.Parallel()
	a, b := pair(t)
	buf := make([]byte, 16)
	if n, err := Read(b, buf); n != -1 || err != syscall.EAGAIN {
		t.Fatalf("Read of an empty socket = %d, %v; want -1, EAGAIN", n, err)
	}
	if n, err := Write(a, []byte("hello")); n != 5 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if n, err := Read(b, buf); n != 5 || err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("Read = %d, %v, %q", n, err, buf[:max(n, 0)])
	}
	if n, err := Read(b, nil); n != 0 || err != nil {
		t.Fatalf("Read of nothing = %d, %v", n, err)
	}
	if n, err := Write(a, nil); n != 0 || err != nil {
		t.Fatalf("Write of nothing = %d, %v", n, err)
	}
	// A full socket takes part of a write, then nothing.
	big := make([]byte, 1<<20)
	total := 0
	for {
		n, err := Write(a, big)
		if err == syscall.EAGAIN {
			if n != -1 {
				t.Fatalf("Write on a full socket = %d, EAGAIN; want -1", n)
			}
			break
		}
		if err != nil || n <= 0 {
			t.Fatalf("Write = %d, %v", n, err)
		}
		total += n
	}
	if total == 0 {
		t.Fatal("the socket took nothing")
	}
	if _, err := Write(-1, []byte("x")); err != syscall.EBADF {
		t.Fatalf("Write on a closed descriptor: %v, want EBADF", err)
	}
}

func TestEpoll(t *testing.T) {
	t.Parallel()
	a, b := pair(t)
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(epfd)
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, b, &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(b)}); err != nil {
		t.Fatal(err)
	}
	events := make([]syscall.EpollEvent, 4)
	if n, err := EpollNow(epfd, events); n != 0 || err != nil {
		t.Fatalf("EpollNow with nothing ready = %d, %v", n, err)
	}
	if n, err := EpollWait(epfd, events, 1); n != 0 || err != nil {
		t.Fatalf("EpollWait timing out = %d, %v", n, err)
	}
	Write(a, []byte("x"))
	for _, wait := range []func() (int, error){
		func() (int, error) { return EpollNow(epfd, events) },
		func() (int, error) { return EpollWait(epfd, events, -1) },
	} {
		if n, err := wait(); n != 1 || err != nil || events[0].Fd != int32(b) || events[0].Events&syscall.EPOLLIN == 0 {
			t.Fatalf("epoll_wait with b readable = %d, %v, %+v", n, err, events[0])
		}
	}
	if _, err := EpollNow(-1, events); err != syscall.EBADF {
		t.Fatalf("EpollNow on a bad descriptor: %v, want EBADF", err)
	}
}
