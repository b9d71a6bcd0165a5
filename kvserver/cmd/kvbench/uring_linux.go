package main

import (
	"errors"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// ring is an io_uring instance: a submission queue of send and recv requests and a completion
// queue of their results, both shared with the kernel, so that one io_uring_enter system call
// submits a whole round of requests and collects the results that are in. Only the engine's
// goroutine, on its locked thread (the ring is set up single-issuer), touches it.
type ring struct {
	fd                     int
	mem, sqeMem            []byte
	sqTail, sqMask         *uint32
	sqes                   []uringSQE
	cqHead, cqTail, cqMask *uint32
	cqes                   []uringCQE
	tail                   uint32 // our submission tail, published on enter
	head                   uint32 // our completion head, published on enter
	pending                uint32 // entries queued since the last enter
	ts                     syscall.Timespec
	arg                    uringGeteventsArg // points at ts; both in the heap, where they do not move
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

type uringCQE struct {
	userData uint64
	res      int32
	flags    uint32
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
	uringMaxEntries   = 32768
)

var errNoUring = errors.New("io_uring is not available")

// newRing sets up a ring with room for entries requests at once.
func newRing(entries uint32) (*ring, error) {
	p := uringParams{flags: uringSingleIssuer | uringDeferTaskrun}
	fd, _, e := syscall.Syscall(sysIOUringSetup, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if e == syscall.EINVAL { // a kernel before 6.1
		p = uringParams{}
		fd, _, e = syscall.Syscall(sysIOUringSetup, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	}
	if e != 0 {
		return nil, errors.Join(errNoUring, e)
	}
	r := &ring{fd: int(fd)}
	syscall.CloseOnExec(r.fd)
	if p.features&uringFeatSingle == 0 {
		r.close()
		return nil, errors.Join(errNoUring, errors.New("kernel before 5.4"))
	}
	size := max(p.sqOff.array+p.sqEntries*4, p.cqOff.cqes+p.cqEntries*uint32(unsafe.Sizeof(uringCQE{})))
	var err error
	if r.mem, err = syscall.Mmap(r.fd, 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE); err != nil {
		r.close()
		return nil, err
	}
	if r.sqeMem, err = syscall.Mmap(r.fd, uringOffSQEs, int(p.sqEntries)*int(unsafe.Sizeof(uringSQE{})), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE); err != nil {
		r.close()
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
	r.cqes = unsafe.Slice((*uringCQE)(unsafe.Pointer(&r.mem[p.cqOff.cqes])), p.cqEntries)
	r.tail, r.head = atomic.LoadUint32(r.sqTail), atomic.LoadUint32(r.cqHead)
	return r, nil
}

// close releases the ring. The kernel cancels whatever is still in flight.
func (r *ring) close() {
	if r.sqeMem != nil {
		syscall.Munmap(r.sqeMem)
	}
	if r.mem != nil {
		syscall.Munmap(r.mem)
	}
	syscall.Close(r.fd)
}

// prep queues a send or recv of buf on fd, whose completion carries data. buf must stay as it
// is until the completion arrives: the kernel reads or writes it meanwhile. The caller keeps at
// most as many requests in flight as the ring has entries.
func (r *ring) prep(op uint8, fd int, buf []byte, data uint64, ioprio uint16) {
	s := &r.sqes[r.tail&*r.sqMask]
	*s = uringSQE{opcode: op, ioprio: ioprio, fd: int32(fd), addr: uint64(uintptr(unsafe.Pointer(&buf[0]))), len: uint32(len(buf)), userData: data}
	r.tail++
	r.pending++
}

// enter submits the queued requests and waits up to wait (none if 0) for a completion.
func (r *ring) enter(wait time.Duration) error {
	atomic.StoreUint32(r.sqTail, r.tail)
	atomic.StoreUint32(r.cqHead, r.head)
	n := r.pending
	r.pending = 0
	r.ts = syscall.NsecToTimespec(int64(wait))
	r.arg = uringGeteventsArg{ts: uint64(uintptr(unsafe.Pointer(&r.ts)))}
	minComplete := uintptr(1)
	if wait <= 0 {
		minComplete = 0
	}
	_, _, e := syscall.Syscall6(sysIOUringEnter, uintptr(r.fd), uintptr(n), minComplete, uringEnterGet|uringEnterExtArg, uintptr(unsafe.Pointer(&r.arg)), unsafe.Sizeof(r.arg))
	switch e {
	case 0, syscall.EINTR, syscall.ETIME, syscall.EAGAIN, syscall.EBUSY:
		return nil
	}
	return e
}

// reap returns the next completion that is in, if any. Its slot is given back at the next enter.
func (r *ring) reap() (uringCQE, bool) {
	if r.head == atomic.LoadUint32(r.cqTail) {
		return uringCQE{}, false
	}
	c := r.cqes[r.head&*r.cqMask]
	r.head++
	return c, true
}
