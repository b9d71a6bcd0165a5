package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"
	"time"

	"ds440/kvserver/internal/rawio"
)

// The event-driven engines. One goroutine, on an OS thread of its own, owns every client's
// socket, non-blocking, as a Redis-style server owns its clients; each time a client's replies
// are all in, it sends that client's next batch at once. There is no goroutine wake-up, no
// epoll_ctl and no runtime poller per request. Two ways to move the bytes:
//
//   - epoll: the sockets are registered once, edge-triggered, for input and output in one epoll
//     set. Reads, writes and polls that cannot block are raw system calls, and the engine waits,
//     when no client has anything to do, in one epoll_wait. A request costs a write, a read and a
//     share of an epoll_wait: the same two system calls per request that a server makes.
//   - uring: every client keeps a send or a recv in flight in one io_uring, and one
//     io_uring_enter per round submits the round's requests and collects what completed. A
//     request costs no system call of its own, only its share of a round's enter; where system
//     calls are dear (a virtual machine), that takes a request's cost below a server's.

const (
	engineEvents = syscall.EPOLLIN | syscall.EPOLLOUT | syscall.EPOLLRDHUP | 1<<31 // 1<<31: EPOLLET
	pollWaitMax  = 50 * time.Millisecond                                           // longest wait, so an interruption is seen soon
	scratchSize  = 256 << 10                                                       // the read buffer of clients with no partial reply
)

// haveEvents tells whether -engine epoll and -engine uring exist on this platform.
const haveEvents = true

// eclient is one connection of the event-driven engine.
type eclient struct {
	fd       int
	index    int // in the engine's clients
	w        *workload
	out      []byte    // the batch being sent
	sent     int       // bytes of out written
	pend     []byte    // the start of a reply whose end has not arrived
	waiting  int       // replies of the batch still to come
	start    time.Time // when the batch was written; zero before the first
	readable bool      // the socket may hold data (edge-triggered: until a short read)
	peerDone bool      // the server shut its side down: read on to the end of the stream
	queued   bool      // in the engine's ready list
	sending  bool      // uring: a send of out[sent:] is in flight
	recving  bool      // uring: a recv into pend's free space is in flight
	done     bool      // sends nothing more: the run is over for it, or its connection broke
	closed   bool      // its connection broke, or the run was interrupted: shut down, closed once no request of it is in flight
}

// engine is the state of one run of an event-driven engine, owned by the goroutine of runEvents.
type engine struct {
	cfg      config
	epfd     int         // epoll: the set; -1 otherwise
	ring     *rawio.Ring // uring: the ring; nil otherwise
	clients  []*eclient
	byFD     map[int]*eclient
	events   []syscall.EpollEvent
	ready    []*eclient // clients to read this round
	spare    []*eclient
	scratch  []byte
	key      []byte
	active   int       // clients not yet done
	deadline time.Time // no batch starts after it
	res      *result
}

// runEvents is runTarget for the event-driven engines, epoll and uring.
func runEvents(ctx context.Context, addr string, cfg config, m *meter) (*result, error) {
	e := &engine{cfg: cfg, epfd: -1, byFD: make(map[int]*eclient, cfg.clients),
		events: make([]syscall.EpollEvent, 256), scratch: make([]byte, scratchSize), res: &result{}}
	// The loop keeps its thread, so that its waits never hand it from one thread to another,
	// and a single-issuer ring is used, to its release, by the thread that set it up.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer e.release(ctx)
	var err error
	if cfg.engine == engineUring {
		if 2*cfg.clients > rawio.MaxEntries {
			return nil, fmt.Errorf("-engine uring drives %d clients at most", rawio.MaxEntries/2)
		}
		if e.ring, err = rawio.NewRing(uint32(2*cfg.clients), rawio.SingleIssuer); err != nil { // a send and a recv each
			return nil, err
		}
	} else if e.epfd, err = syscall.EpollCreate1(syscall.EPOLL_CLOEXEC); err != nil {
		return nil, fmt.Errorf("epoll_create: %w", err)
	}
	for i := range cfg.clients {
		if err := e.dial(ctx, addr, i); err != nil {
			return nil, fmt.Errorf("client %d: %w", i, err)
		}
	}
	if err := e.run(ctx, m); err != nil {
		return nil, err
	}
	return e.res, nil
}

// dial connects client id and takes its socket for the engine: the net.Conn's descriptor is
// duplicated and the net.Conn closed, so that the runtime's poller no longer watches it.
func (e *engine) dial(ctx context.Context, addr string, id int) error {
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		return err
	}
	fd := -1
	var derr error
	if err := rc.Control(func(s uintptr) { fd, derr = syscall.Dup(int(s)) }); err != nil || derr != nil {
		return fmt.Errorf("dup: %w", errors.Join(err, derr))
	}
	syscall.CloseOnExec(fd)
	ec := &eclient{index: len(e.clients), fd: fd, w: newWorkload(e.cfg.seed, id, e.cfg.getFrac, e.cfg.keys, e.cfg.valueSize)}
	e.clients = append(e.clients, ec)
	if err := syscall.SetNonblock(fd, true); err != nil {
		return err
	}
	if e.ring != nil {
		return nil
	}
	if err := syscall.EpollCtl(e.epfd, syscall.EPOLL_CTL_ADD, fd, &syscall.EpollEvent{Events: engineEvents, Fd: int32(fd)}); err != nil {
		return fmt.Errorf("epoll_ctl: %w", err)
	}
	e.byFD[fd] = ec
	return nil
}

// run drives every client until the deadline and the replies of the batches then in flight
// are in, or until ctx ends.
func (e *engine) run(ctx context.Context, m *meter) error {
	m.start()
	start := time.Now()
	e.deadline = start.Add(e.cfg.duration)
	e.active = len(e.clients)
	for _, c := range e.clients {
		e.send(c, start)
	}
	for e.active > 0 && ctx.Err() == nil { // an interrupted run does not wait for replies
		var err error
		if e.ring != nil {
			err = e.roundUring()
		} else {
			err = e.roundEpoll()
		}
		if err != nil {
			return err
		}
		if e.active > 0 && time.Since(e.deadline) > e.cfg.grace {
			for _, c := range e.clients {
				if !c.done {
					e.fail(c, fmt.Errorf("no reply %v after the end of the run", e.cfg.grace))
				}
			}
		}
	}
	e.res.elapsed = time.Since(start)
	return m.stop(e.res)
}

// roundEpoll waits for events, sends what sockets that became writable take and reads the
// sockets that are readable.
func (e *engine) roundEpoll() error {
	n, err := e.wait()
	if err != nil {
		return fmt.Errorf("epoll_wait: %w", err)
	}
	for _, ev := range e.events[:n] {
		c := e.byFD[int(ev.Fd)]
		if c == nil {
			continue
		}
		if ev.Events&(syscall.EPOLLOUT|syscall.EPOLLERR|syscall.EPOLLHUP) != 0 && c.sent < len(c.out) {
			e.flush(c)
		}
		if ev.Events&(syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
			c.peerDone = true // no edge follows the end of the stream: a short read must not hide it
		}
		if ev.Events&(syscall.EPOLLIN|syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
			c.readable = true
			e.queue(c)
		}
	}
	ready := e.ready
	e.ready = e.spare[:0]
	for i, c := range ready {
		ready[i] = nil
		c.queued = false
		e.receive(c)
	}
	e.spare = ready[:0]
	return nil
}

// roundUring submits the requests queued since the last round, waits for completions and
// takes them.
func (e *engine) roundUring() error {
	if err := e.ring.Enter(pollWaitMax); err != nil {
		return fmt.Errorf("io_uring_enter: %w", err)
	}
	for {
		cqe, ok := e.ring.Reap()
		if !ok {
			return nil
		}
		c := e.clients[cqe.Data>>1]
		if cqe.Data&1 == 0 {
			e.sent(c, cqe.Res)
		} else {
			e.received(c, cqe.Res)
		}
	}
}

// sent takes the result of c's send (bytes sent, or -errno).
func (e *engine) sent(c *eclient, res int32) {
	c.sending = false
	switch {
	case c.closed:
		e.closeWhenIdle(c)
	case res < 0 && syscall.Errno(-res) != syscall.EAGAIN && syscall.Errno(-res) != syscall.EINTR:
		e.fail(c, fmt.Errorf("send: %w", syscall.Errno(-res)))
	default:
		c.sent += max(int(res), 0)
		e.flush(c)
	}
}

// received takes the result of c's recv (bytes received, or -errno).
func (e *engine) received(c *eclient, res int32) {
	c.recving = false
	switch {
	case c.closed:
		e.closeWhenIdle(c)
	case res < 0 && syscall.Errno(-res) != syscall.EAGAIN && syscall.Errno(-res) != syscall.EINTR:
		e.fail(c, fmt.Errorf("read: %w", syscall.Errno(-res)))
	case res == 0:
		e.fail(c, errors.New("the server closed the connection"))
	case res > 0:
		e.take(c, c.pend[:len(c.pend)+int(res)])
	}
	e.armRecv(c)
}

// armRecv keeps a recv in flight for c while replies are due, into the free space behind its
// partial reply.
func (e *engine) armRecv(c *eclient) {
	if c.recving || c.closed || c.waiting == 0 {
		return
	}
	if cap(c.pend)-len(c.pend) < 4096 {
		c.pend = append(make([]byte, 0, 2*cap(c.pend)+4096), c.pend...)
	}
	e.ring.Recv(c.fd, c.pend[len(c.pend):cap(c.pend)], uint64(c.index)<<1|1, true, 0)
	c.recving = true
}

// closeWhenIdle closes the socket of a failed client once the kernel has no request of it in
// flight (fail shut the socket down, which ends them).
func (e *engine) closeWhenIdle(c *eclient) {
	if !c.sending && !c.recving && c.fd >= 0 {
		syscall.Close(c.fd)
		c.fd = -1
	}
}

// wait returns the next events: at once if a client is left to read, else once there are some
// (or after pollWaitMax, so that an interruption or a silent server is noticed).
func (e *engine) wait() (int, error) {
	if len(e.ready) > 0 {
		return rawio.EpollNow(e.epfd, e.events)
	}
	return rawio.EpollWait(e.epfd, e.events, int(pollWaitMax/time.Millisecond))
}

// queue puts c in the list of clients to read if its socket may hold data.
func (e *engine) queue(c *eclient) {
	if c.readable && !c.queued && !c.closed {
		c.queued = true
		e.ready = append(e.ready, c)
	}
}

// send writes c's next batch, written at now, or ends c's part if the run is over. Every client
// sends one batch at least, as the goroutine engine's do.
func (e *engine) send(c *eclient, now time.Time) {
	if !c.start.IsZero() && now.After(e.deadline) {
		c.done = true
		e.active--
		return
	}
	if c.sending { // the kernel still reads out: the server answered what it had not been sent
		e.fail(c, fmt.Errorf("%w: more replies than requests sent", errProtocol))
		return
	}
	c.out = c.out[:0]
	for range e.cfg.pipeline {
		get, k := c.w.next()
		e.key = keyName(e.key[:0], e.cfg.proto, k)
		c.out = appendOp(c.out, e.cfg.proto, get, e.key, c.w.value)
	}
	c.sent, c.waiting, c.start = 0, e.cfg.pipeline, now
	e.flush(c)
}

// flush writes what c's socket takes of its batch; the rest waits for EPOLLOUT. With a ring, it
// queues a send of the rest, and a recv for the replies.
func (e *engine) flush(c *eclient) {
	if e.ring != nil {
		if !c.sending && c.sent < len(c.out) {
			e.ring.Send(c.fd, c.out[c.sent:], uint64(c.index)<<1, 0)
			c.sending = true
		}
		e.armRecv(c)
		return
	}
	for c.sent < len(c.out) {
		n, err := rawio.Write(c.fd, c.out[c.sent:])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return
		case err != nil:
			e.fail(c, fmt.Errorf("write: %w", err))
			return
		}
		c.sent += n
	}
}

// receive reads once from c's socket and takes the replies in what it read. A read that fills
// the buffer leaves c in the ready list, so that one client cannot hold up the others.
func (e *engine) receive(c *eclient) {
	if c.closed {
		return
	}
	buf := e.scratch
	if len(c.pend) > 0 { // read on behind the partial reply
		if cap(c.pend)-len(c.pend) < 4096 {
			c.pend = append(make([]byte, 0, 2*cap(c.pend)+4096), c.pend...)
		}
		buf = c.pend[len(c.pend):cap(c.pend)]
	}
	n, err := rawio.Read(c.fd, buf)
	switch {
	case err == syscall.EINTR:
		e.queue(c)
		return
	case err == syscall.EAGAIN:
		c.readable = false
		return
	case err != nil:
		e.fail(c, fmt.Errorf("read: %w", err))
		return
	case n == 0:
		e.fail(c, errors.New("the server closed the connection"))
		return
	case n < len(buf) && !c.peerDone:
		c.readable = false // drained: the next data brings a new edge
	}
	data := buf[:n]
	if len(c.pend) > 0 {
		data = c.pend[:len(c.pend)+n]
	}
	e.take(c, data)
	e.queue(c)
}

// take takes the complete replies at the start of data, which holds what c received and has
// not yet taken, keeps the rest in c.pend, and sends c's next batch once its replies are all in.
func (e *engine) take(c *eclient, data []byte) {
	var now time.Time
	off := 0
	for off < len(data) {
		if c.waiting == 0 {
			e.fail(c, fmt.Errorf("%w: more replies than requests", errProtocol))
			return
		}
		n, isErr, err := parseReply(data[off:], 0)
		if err != nil {
			e.fail(c, err)
			return
		}
		if n == 0 {
			break
		}
		if now.IsZero() {
			now = time.Now()
		}
		off += n
		c.waiting--
		e.res.ops++
		if isErr {
			e.res.errs++
		}
		e.res.lat.record(now.Sub(c.start))
	}
	c.pend = append(c.pend[:0], data[off:]...) // copy-safe when data is c.pend itself
	if c.waiting == 0 && off > 0 && !c.done {
		e.send(c, time.Now())
	}
}

// fail ends c's part in the run because its connection or its reply stream broke.
func (e *engine) fail(c *eclient, err error) {
	if c.closed {
		return
	}
	if !c.done {
		c.done = true
		e.active--
	}
	c.closed = true
	if e.ring != nil {
		syscall.Shutdown(c.fd, syscall.SHUT_RDWR) // ends its requests in flight
		e.closeWhenIdle(c)
	} else {
		syscall.Close(c.fd) // also takes it out of the epoll set
		delete(e.byFD, c.fd)
	}
	e.res.failed++
	if e.res.broke == nil {
		e.res.broke = err
	}
}

// drainRing ends every request still in flight (an interrupted run leaves recvs waiting for
// replies): their sockets are shut down, which completes them, and the ring is closed once they
// are all in, so that the kernel no longer writes into kvbench's buffers.
func (e *engine) drainRing() {
	inFlight := func() bool {
		for _, c := range e.clients {
			if c.sending || c.recving {
				return true
			}
		}
		return false
	}
	for _, c := range e.clients {
		if (c.sending || c.recving) && !c.closed {
			c.closed = true // not a failure: the run is over
			syscall.Shutdown(c.fd, syscall.SHUT_RDWR)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); inFlight() && time.Now().Before(deadline); {
		if e.roundUring() != nil {
			break // closing the ring cancels what is left
		}
	}
	e.ring.Close()
	for _, c := range e.clients {
		if c.closed {
			c.sending, c.recving = false, false
			e.closeWhenIdle(c)
		}
	}
}

// release closes the epoll set and hands every connection still open to release, which
// returns once the server has closed its side, as the goroutine engine's connections are.
func (e *engine) release(ctx context.Context) {
	if e.epfd >= 0 {
		syscall.Close(e.epfd)
	}
	if e.ring != nil {
		e.drainRing()
	}
	var conns []net.Conn
	for _, c := range e.clients {
		if c.closed {
			continue
		}
		f := os.NewFile(uintptr(c.fd), "kvbench")
		nc, err := net.FileConn(f) // a duplicate, in the runtime's poller again
		f.Close()
		if err == nil {
			conns = append(conns, nc)
		}
	}
	release(ctx, conns)
}
