package rawio

import (
	"syscall"
	"unsafe"
)

// Read is read(2) on a non-blocking descriptor, which never waits, made without telling the
// runtime. It returns -1 and the errno on failure (syscall.EAGAIN when there is nothing to read).
func Read(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// Write is write(2) on a non-blocking descriptor, made as Read is. It may write less than p
// (the socket's buffer is full); it returns -1 and syscall.EAGAIN when it takes nothing.
func Write(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// EpollNow is epoll_wait on epfd without waiting: the events ready now, into events (which must
// not be empty). It retries on EINTR.
func EpollNow(epfd int, events []syscall.EpollEvent) (int, error) {
	for {
		n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
		switch e {
		case 0:
			return int(n), nil
		case syscall.EINTR:
			continue
		}
		return 0, e
	}
}

// EpollWait is epoll_wait on epfd waiting up to msec milliseconds (-1: until an event), made as
// an ordinary system call so that the runtime can hand the caller's P to other goroutines
// meanwhile. An interrupted wait (EINTR) returns 0 events and no error.
func EpollWait(epfd int, events []syscall.EpollEvent, msec int) (int, error) {
	n, _, e := syscall.Syscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), uintptr(msec), 0, 0)
	switch e {
	case 0:
		return int(n), nil
	case syscall.EINTR:
		return 0, nil
	}
	return 0, e
}
