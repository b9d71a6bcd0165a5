package rawio

import (
	"errors"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Ring is an io_uring instance: a submission queue of send and recv requests and a completion
// queue of their results, both shared with the kernel, so that one io_uring_enter system call
// submits a whole round of requests and collects the results that are in. One goroutine owns
// it; a ring set up with SingleIssuer must also stay on one thread (runtime.LockOSThread).
type Ring struct {
	fd                     int
	mem, sqeMem            []byte
	sqTail, sqMask         *uint32
	sqes                   []uringSQE
	cqHead, cqTail, cqMask *uint32
	cqes                   []Completion
	entries                uint32 // submission queue size
	tail                   uint32 // our submission tail, published on enter
	head                   uint32 // our completion head, published on enter
	pending                uint32 // entries queued and not yet taken by the kernel
	ts                     syscall.Timespec
	arg                    uringGeteventsArg // points at ts; both in the heap, where they do not move
}

// Completion is the result of a request: its data as given to Send or Recv, and the bytes sent
// or received, or -errno.
type Completion struct {
	Data  uint64
	Res   int32
	Flags uint32
}

// The kernel's structures (include/uapi/linux/io_uring.h), the same on every architecture.
type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sqOff                                                                  struct {
		head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
		userAddr                                                        uint64
	}
	cqOff struct {
		head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
		userAddr                                                        uint64
	}
}

type uringSQE struct {
	opcode, flags         uint8
	ioprio                uint16
	fd                    int32
	off, addr             uint64
	len, opFlags          uint32
	userData              uint64
	bufIndex, personality uint16
	spliceFD              int32
	addr3, pad            uint64
}

type uringGeteventsArg struct {
	sigmask     uint64
	sigmaskSize uint32
	minWaitUsec uint32
	ts          uint64
}

const (
	uringOpSend       = 26
	uringOpRecv       = 27
	uringPollFirst    = 1 << 0  // IORING_RECVSEND_POLL_FIRST: wait for data before trying the recv
	uringSingleIssuer = 1 << 12 // IORING_SETUP_SINGLE_ISSUER
	uringDeferTaskrun = 1 << 13 // IORING_SETUP_DEFER_TASKRUN: completions are run when we ask for them
	uringEnterGet     = 1 << 0  // IORING_ENTER_GETEVENTS
	uringEnterExtArg  = 1 << 3  // IORING_ENTER_EXT_ARG
	uringOffSQEs      = 0x10000000
	uringFeatSingle   = 1 << 0 // IORING_FEAT_SINGLE_MMAP
)

// MaxEntries is the most requests a ring may have room for.
const MaxEntries = 32768

// ErrNoUring means the kernel does not let the process set up an io_uring: too old, built
// without it, or refused (a seccomp filter, kernel.io_uring_disabled).
var ErrNoUring = errors.New("io_uring is not available")

// SingleIssuer, given to NewRing, sets the ring up for one thread that collects its completions
// only when it enters the kernel to wait for them (IORING_SETUP_SINGLE_ISSUER and
// DEFER_TASKRUN), which costs less, on kernels that have it (6.1 on); older kernels get an
// ordinary ring.
const SingleIssuer = 1

// NewRing sets up a ring with room for entries requests at once (at most MaxEntries), and for
// twice as many completions.
func NewRing(entries uint32, flags int) (*Ring, error) {
	var p uringParams
	if flags&SingleIssuer != 0 {
		p.flags = uringSingleIssuer | uringDeferTaskrun
	}
	fd, _, e := syscall.Syscall(sysIOUringSetup, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if e == syscall.EINVAL && p.flags != 0 { // a kernel before 6.1
		p = uringParams{}
		fd, _, e = syscall.Syscall(sysIOUringSetup, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	}
	if e != 0 {
		return nil, errors.Join(ErrNoUring, e)
	}
	r := &Ring{fd: int(fd)}
	syscall.CloseOnExec(r.fd)
	if p.features&uringFeatSingle == 0 {
		r.Close()
		return nil, errors.Join(ErrNoUring, errors.New("kernel before 5.4"))
	}
	size := max(p.sqOff.array+p.sqEntries*4, p.cqOff.cqes+p.cqEntries*uint32(unsafe.Sizeof(Completion{})))
	var err error
	if r.mem, err = syscall.Mmap(r.fd, 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE); err != nil {
		r.Close()
		return nil, err
	}
	if r.sqeMem, err = syscall.Mmap(r.fd, uringOffSQEs, int(p.sqEntries)*int(unsafe.Sizeof(uringSQE{})), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE); err != nil {
		r.Close()
		return nil, err
	}
	at := func(off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&r.mem[off])) }
	r.sqTail, r.sqMask = at(p.sqOff.tail), at(p.sqOff.ringMask)
	array := unsafe.Slice(at(p.sqOff.array), p.sqEntries)
	for i := range array {
		array[i] = uint32(i) // entry i of the queue is SQE i
	}
	r.sqes = unsafe.Slice((*uringSQE)(unsafe.Pointer(&r.sqeMem[0])), p.sqEntries)
	r.cqHead, r.cqTail, r.cqMask = at(p.cqOff.head), at(p.cqOff.tail), at(p.cqOff.ringMask)
	r.cqes = unsafe.Slice((*Completion)(unsafe.Pointer(&r.mem[p.cqOff.cqes])), p.cqEntries)
	r.tail, r.head = atomic.LoadUint32(r.sqTail), atomic.LoadUint32(r.cqHead)
	r.entries = p.sqEntries
	return r, nil
}

// Entries is the room of the submission queue: the most requests queued at once.
func (r *Ring) Entries() int { return int(r.entries) }

// Close releases the ring. The kernel cancels whatever is still in flight.
func (r *Ring) Close() {
	if r.sqeMem != nil {
		syscall.Munmap(r.sqeMem)
	}
	if r.mem != nil {
		syscall.Munmap(r.mem)
	}
	syscall.Close(r.fd)
}

// Send queues a send of buf (not empty) on the socket fd, with send(2)'s flags (with
// syscall.MSG_DONTWAIT it completes at once, short or with -EAGAIN if the socket is full,
// instead of waiting for room), whose completion carries data. buf must stay as it is until
// the completion is in: the kernel reads it meanwhile. The caller keeps at most Entries
// requests queued and at most twice that many in flight.
func (r *Ring) Send(fd int, buf []byte, data uint64, flags int) {
	r.prep(uringOpSend, fd, buf, data, 0, uint32(flags))
}

// Recv queues a recv into buf (not empty) from the socket fd, with recv(2)'s flags, as Send
// queues a send: the kernel writes into buf until the completion is in. With pollFirst the
// kernel waits for data before it tries the recv, which saves a failed attempt when none is
// expected yet; with syscall.MSG_DONTWAIT it completes at once, with -EAGAIN if there is no data.
func (r *Ring) Recv(fd int, buf []byte, data uint64, pollFirst bool, flags int) {
	var ioprio uint16
	if pollFirst {
		ioprio = uringPollFirst
	}
	r.prep(uringOpRecv, fd, buf, data, ioprio, uint32(flags))
}

func (r *Ring) prep(op uint8, fd int, buf []byte, data uint64, ioprio uint16, opFlags uint32) {
	s := &r.sqes[r.tail&*r.sqMask]
	*s = uringSQE{opcode: op, ioprio: ioprio, fd: int32(fd), addr: uint64(uintptr(unsafe.Pointer(&buf[0]))), len: uint32(len(buf)), opFlags: opFlags, userData: data}
	r.tail++
	r.pending++
}

// Enter submits the queued requests and waits up to wait (none if 0) for a completion, in an
// ordinary system call, so that the runtime can hand the caller's P to others meanwhile.
func (r *Ring) Enter(wait time.Duration) error {
	atomic.StoreUint32(r.sqTail, r.tail)
	atomic.StoreUint32(r.cqHead, r.head)
	n := r.pending
	r.ts = syscall.NsecToTimespec(int64(wait))
	r.arg = uringGeteventsArg{ts: uint64(uintptr(unsafe.Pointer(&r.ts)))}
	minComplete := uintptr(1)
	if wait <= 0 {
		minComplete = 0
	}
	got, _, e := syscall.Syscall6(sysIOUringEnter, uintptr(r.fd), uintptr(n), minComplete, uringEnterGet|uringEnterExtArg, uintptr(unsafe.Pointer(&r.arg)), unsafe.Sizeof(r.arg))
	switch e {
	case 0:
		r.pending -= min(uint32(got), n)
		return nil
	case syscall.EINTR, syscall.ETIME, syscall.EAGAIN, syscall.EBUSY:
		return nil
	}
	return e
}

// SubmitAndWait submits the queued requests and returns once want completions are in (not yet
// taken by Reap): one io_uring_enter when every request completes as it is submitted, as a
// send with syscall.MSG_DONTWAIT does. It is made without telling the runtime, as Read and
// Write are, so it is meant for requests that complete at once. On an error other than an
// interruption it returns at once; the requests queued but not submitted stay queued.
func (r *Ring) SubmitAndWait(want int) error {
	atomic.StoreUint32(r.sqTail, r.tail)
	for {
		atomic.StoreUint32(r.cqHead, r.head)
		in := int(atomic.LoadUint32(r.cqTail) - r.head)
		if r.pending == 0 && in >= want {
			return nil
		}
		var flags, minComplete uintptr
		if in < want {
			flags, minComplete = uringEnterGet, uintptr(want)
		}
		got, _, e := syscall.RawSyscall6(sysIOUringEnter, uintptr(r.fd), uintptr(r.pending), minComplete, flags, 0, 0)
		switch e {
		case 0:
			r.pending -= min(uint32(got), r.pending)
		case syscall.EINTR:
		default:
			return e
		}
	}
}

// Reap returns the next completion that is in, if any. Its slot is given back at the next
// enter.
func (r *Ring) Reap() (Completion, bool) {
	if r.head == atomic.LoadUint32(r.cqTail) {
		return Completion{}, false
	}
	c := r.cqes[r.head&*r.cqMask]
	r.head++
	return c, true
}
