//go:build linux

package kvserver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"
	"time"

	"ds440/kvserver/internal/rawio"
)

// The event loop. On Linux the loop goroutine owns every client socket, non-blocking, in one
// epoll set, as Redis does: each round it waits in epoll_wait, accepts, reads every ready
// socket once, parses and executes what it read at once, commits, and writes the replies. When
// the kernel offers io_uring, the round's reads are made with one io_uring_enter for all the
// ready clients, and its writes with one for all the clients that have replies, when there are
// two or more (see recvRound and sendRound); else, and for a lone client, with a read or a
// write per client. A client whose socket does not take all of its replies keeps the rest
// (inflight) until epoll reports the socket writable. There are no per-client goroutines: a
// busy round costs no goroutine wake-up at all, an idle loop one, however many clients.
//
// Sockets are registered once, edge-triggered, for input and output together, so the loop
// never changes the set: it remembers that a socket is readable until a read comes back short
// (the kernel buffer is drained; new data brings a new edge) and skips it while the client is
// throttled. A peer's shutdown (EPOLLRDHUP) makes it read on to the end of the stream, which
// a short read would otherwise hide.
//
// Every read, write and io_uring_enter of the round is non-blocking and made as a raw system
// call, which the runtime does not hear of. When there is nothing to do, the loop waits as Redis does, in epoll_wait on its own
// set, made as an ordinary (blocking) system call: the kernel wakes the loop's thread directly,
// one system call per round. The runtime keeps the loop's P for it while other Ps are idle (it
// hands the P on only after 10 ms of waiting, or at once when other goroutines need it), and
// the loop yields to the scheduler every few milliseconds so that the runtime never takes a
// long stretch without one for a stuck goroutine (which would take the P away mid-wait). With a
// single P (GOMAXPROCS=1), waiting in a system call would leave every other goroutine of the
// process without a P until the runtime took it back, which its monitor thread then does after
// every short wait, waking and preempting the loop's thread as it goes; so there the loop parks
// in the Go scheduler instead, waiting for the epoll descriptor to become readable through the
// runtime's poller, as any goroutine waits on a socket; that costs three more epoll_wait calls
// per idle round. The descriptor (a duplicate of it) is in the runtime's poller only then:
// there, every new event on it would also wake the runtime's own idle thread. GOMAXPROCS can
// change while the server runs (the runtime follows the CPUs the process may use, so `taskset`
// or a container's new CPU limit changes it), and the loop looks again every yieldEvery.
//
// The loop keeps one thread of its own (runtime.LockOSThread) unless it parks in the runtime's
// poller. Otherwise each of its yields to the scheduler (see yieldEvery) may wake an idle
// thread that takes the loop over, and the loop wanders among several threads of the process,
// which cost more server CPU per request.
//
// Close and Stats reach the loop through its channels and then a byte on a wake pipe in the
// set; the loop drains both each round.

// errNoPoller means the platform has no event loop: the server takes the portable path.
var errNoPoller = errors.New("no event loop on this platform")

const (
	etFlag       = 1 << 31 // EPOLLET; syscall's constant is negative
	clientEvents = syscall.EPOLLIN | syscall.EPOLLOUT | syscall.EPOLLRDHUP | etFlag
	hangEvents   = syscall.EPOLLRDHUP | syscall.EPOLLHUP | syscall.EPOLLERR
	pollEvents   = 256 // events taken per epoll_wait
	acceptBatch  = 256 // connections accepted per round, so that a flood of them cannot starve clients
)

// poller is the event loop's kernel state. Only wake is called from other goroutines.
type poller struct {
	epfd     int
	epFile   *os.File           // a duplicate of epfd in the runtime's poller while the loop parks there; else nil
	epRC     syscall.RawConn    // epFile's
	parkPoll func(uintptr) bool // pollParked, for epRC.Read
	parkN    int                // what pollParked found
	parkErr  error
	locked   bool      // the loop goroutine holds its own thread (runtime.LockOSThread)
	parked   int       // times the loop has taken to parking in the runtime's poller
	yielded  time.Time // when the loop last yielded to the scheduler and checked GOMAXPROCS
	lfd      int       // the listening socket; -1 once closed
	wakeR    *os.File
	wakeW    *os.File
	wakeFD   int
	wakeRC   syscall.RawConn // wakeW's, so that a wake racing with the loop's exit is harmless
	events   []syscall.EpollEvent
	byFD     []*client
	ready    []*client // clients to read this round
	spare    []*client
	scratch  []byte // the read buffer of every client that has no partial request buffered
	nextID   uint64
	backoff  time.Duration // after a failed accept
	resumeAt time.Time     // when accepting resumes after a failure; zero while accepting

	ring       *rawio.Ring // reads and sends a round's clients; nil: a system call per client (see recvRound, sendRound)
	ringErr    error       // why there is no ring, if one was asked for
	sendq      []*client   // the clients of a ring round of sends
	recvq      []*client   // the clients of a round of reads
	recvBufs   [][]byte    // where each client of a ring round of recvs reads
	recvShares [][]byte    // the share of the arena each client of a ring round of recvs may use
	inRound    []bool      // which requests of a ring round have completed
	arena      []byte      // the read buffers of a ring round's clients that have no partial request
	sendRounds int         // rounds sent through the ring
	recvRounds int         // rounds read through the ring
	sendShort  int         // sends through the ring that the socket did not take in full
}

// The ring's size: the requests of one io_uring_enter. A round with more clients to serve takes
// one enter per ringEntries of them.
const ringEntries = 512

// The arena that a ring round of recvs shares among its clients, and the smallest share: a
// round with more clients takes one enter per arena-full of them.
const (
	recvArena    = 256 << 10
	minRecvShare = 4 << 10
)

// ringMin is the fewest clients with replies for which a round's sends go through the ring: for
// a single client, one write costs less than an io_uring_enter.
const ringMin = 2

// newPoller takes over ln's socket for the event loop and closes ln. With useRing, it sets up
// an io_uring for the loop's writes if the kernel allows it.
func newPoller(ln net.Listener, useRing bool) (*poller, error) {
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return nil, errNoPoller
	}
	rc, err := tl.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("listener: %w", err)
	}
	p := &poller{lfd: -1, epfd: -1, events: make([]syscall.EpollEvent, pollEvents), scratch: make([]byte, maxReadBuf)}
	var derr error
	if err := rc.Control(func(fd uintptr) { p.lfd, derr = syscall.Dup(int(fd)) }); err != nil || derr != nil {
		return nil, fmt.Errorf("dup listener: %w", errors.Join(err, derr))
	}
	fail := func(what string, err error) (*poller, error) {
		p.close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	syscall.CloseOnExec(p.lfd)
	if err := syscall.SetNonblock(p.lfd, true); err != nil {
		return fail("listener", err)
	}
	if p.epfd, err = syscall.EpollCreate1(syscall.EPOLL_CLOEXEC); err != nil {
		return fail("epoll_create", err)
	}
	if err := syscall.SetNonblock(p.epfd, true); err != nil {
		return fail("epoll", err)
	}
	if p.wakeR, p.wakeW, err = os.Pipe(); err != nil {
		return fail("pipe", err)
	}
	if p.wakeRC, err = p.wakeW.SyscallConn(); err != nil {
		return fail("pipe", err)
	}
	wrc, err := p.wakeR.SyscallConn()
	if err != nil {
		return fail("pipe", err)
	}
	wrc.Control(func(fd uintptr) {
		p.wakeFD = int(fd)
		err = syscall.SetNonblock(p.wakeFD, true)
	})
	if err != nil {
		return fail("pipe", err)
	}
	for _, fd := range []int{p.lfd, p.wakeFD} {
		if err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, fd, &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd)}); err != nil {
			return fail("epoll_ctl", err)
		}
	}
	if useRing {
		if p.ring, p.ringErr = rawio.NewRing(ringEntries, 0); p.ring != nil {
			p.arena = make([]byte, recvArena)
		}
	}
	ln.Close() // the dup keeps the socket listening
	return p, nil
}

// wake makes the loop's epoll_wait return. Safe from any goroutine, even after the loop exits.
func (p *poller) wake() {
	p.wakeRC.Write(func(fd uintptr) bool {
		syscall.Write(int(fd), []byte{1}) // a full pipe wakes the loop as well
		return true
	})
}

// close releases the kernel objects; the loop's last act.
func (p *poller) close() {
	p.closeListener()
	if p.epFile != nil {
		p.epFile.Close()
		p.epFile, p.epRC = nil, nil
	}
	if p.epfd >= 0 {
		syscall.Close(p.epfd)
	}
	p.epfd = -1
	if p.wakeR != nil {
		p.wakeR.Close()
	}
	if p.wakeW != nil {
		p.wakeW.Close()
	}
	if p.ring != nil {
		p.ring.Close()
		p.ring = nil
	}
}

func (p *poller) closeListener() {
	if p.lfd >= 0 {
		syscall.Close(p.lfd)
		p.lfd = -1
	}
}

// queue puts c in the list of clients to read if its socket may hold data.
func (p *poller) queue(c *client) {
	if c.readable && !c.queued && !c.stopRead {
		c.queued = true
		p.ready = append(p.ready, c)
	}
}

// pollLoop is the loop goroutine of the event loop: the counterpart of loop and accept.
func (s *Server) pollLoop() {
	p := s.ep
	quit := s.quit
	if p.ringErr != nil {
		s.log.Debug("kvserver: no io_uring; the loop writes each client's replies with a write of its own", "err", p.ringErr)
	}
	p.adapt()
	p.yielded = time.Now()
	for !(s.closing && len(s.clients) == 0) {
		n, err := p.wait()
		if err != nil {
			s.log.Error("kvserver: epoll_wait failed; closing", "err", err)
			if !s.closing {
				s.shutdown()
			}
		}
		for _, ev := range p.events[:max(n, 0)] {
			switch fd := int(ev.Fd); {
			case fd == p.lfd:
				s.acceptPolled()
			case fd == p.wakeFD:
				p.drainWake()
			case fd < len(p.byFD) && p.byFD[fd] != nil:
				s.pollEvent(p.byFD[fd], ev.Events)
			}
		}
		if !p.resumeAt.IsZero() && !time.Now().Before(p.resumeAt) {
			p.resumeAccept()
		}
	channels:
		for {
			select {
			case reply := <-s.queries:
				reply <- s.snapshot()
			case <-quit:
				quit = nil
				s.shutdown()
			default:
				break channels
			}
		}
		s.readReady()
		s.commit()
		s.flushDirty()
	}
	p.close()
	s.final = s.stats
	close(s.done)
}

// yieldEvery is how often a loop that waits in epoll_wait passes through the scheduler: well
// within the 10 ms after which the runtime preempts a goroutine that has not, and takes the P
// of one in a system call.
const yieldEvery = 5 * time.Millisecond

// wait returns the next events: at once if there are clients left to read, else once there are
// some or accepting is due to resume.
func (p *poller) wait() (int, error) {
	if len(p.ready) > 0 {
		return epollNow(p.epfd, p.events)
	}
	now := time.Now()
	if now.Sub(p.yielded) > yieldEvery {
		p.yielded = now
		p.adapt()
		if p.epFile == nil {
			runtime.Gosched()
		}
	}
	if p.epFile != nil {
		return p.park()
	}
	timeout := -1 // milliseconds
	if !p.resumeAt.IsZero() {
		timeout = max(0, int((p.resumeAt.Sub(now)+time.Millisecond-1)/time.Millisecond))
	}
	return rawio.EpollWait(p.epfd, p.events, timeout) // EINTR: a round without events
}

// adapt sets how the loop waits for the number of Ps the runtime has now: parked in the
// runtime's poller with a single P, in epoll_wait on a thread of its own with more (see
// pollLoop). Called by the loop goroutine only. If the epoll descriptor cannot be duplicated
// (out of descriptors), the loop keeps waiting in epoll_wait, which costs more CPU with a single
// P but works.
func (p *poller) adapt() {
	park := runtime.GOMAXPROCS(0) == 1
	if park && p.epFile == nil {
		fd, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(p.epfd), syscall.F_DUPFD_CLOEXEC, 0)
		if e == 0 {
			f := os.NewFile(fd, "epoll") // non-blocking, so in the runtime's poller
			if rc, err := f.SyscallConn(); err == nil {
				p.epFile, p.epRC = f, rc
				p.parked++
			} else {
				f.Close()
			}
		}
	}
	if !park && p.epFile != nil {
		p.epFile.Close() // takes the duplicate out of the runtime's poller
		p.epFile, p.epRC = nil, nil
	}
	// A loop that parks in the runtime's poller keeps no thread, since every wake-up would
	// then be a hand-off between threads. A locked thread exits with the loop.
	if want := p.epFile == nil; want != p.locked {
		if want {
			runtime.LockOSThread()
		} else {
			runtime.UnlockOSThread()
		}
		p.locked = want
	}
}

// park waits for events in the runtime's poller: wait on a single P.
func (p *poller) park() (int, error) {
	if !p.resumeAt.IsZero() {
		p.epFile.SetReadDeadline(p.resumeAt)
		defer p.epFile.SetReadDeadline(time.Time{})
	}
	if p.parkPoll == nil {
		p.parkPoll = p.pollParked // made once: a closure per wait would allocate
	}
	p.parkN, p.parkErr = 0, nil
	rerr := p.epRC.Read(p.parkPoll)
	n, err := p.parkN, p.parkErr
	if err == nil && rerr != nil && !errors.Is(rerr, os.ErrDeadlineExceeded) {
		err = rerr
	}
	return n, err
}

// pollParked is park's try at the epoll set each time the runtime's poller finds it readable.
func (p *poller) pollParked(uintptr) bool {
	p.parkN, p.parkErr = epollNow(p.epfd, p.events)
	return p.parkN != 0 || p.parkErr != nil
}

// epollNow is epoll_wait without waiting; rawRead and rawWrite are read and write on a
// non-blocking descriptor, which never wait, made without telling the runtime (see pollLoop).
// They are internal/rawio's, which kvbench's event-driven engine shares.
func epollNow(epfd int, events []syscall.EpollEvent) (int, error) {
	return rawio.EpollNow(epfd, events)
}
func rawRead(fd int, p []byte) (int, error)  { return rawio.Read(fd, p) }
func rawWrite(fd int, p []byte) (int, error) { return rawio.Write(fd, p) }

func (p *poller) drainWake() {
	var buf [64]byte
	for {
		n, err := rawRead(p.wakeFD, buf[:])
		if err == syscall.EINTR {
			continue
		}
		if n <= 0 || err != nil {
			return
		}
	}
}

// acceptPolled accepts the connections waiting on the listening socket.
func (s *Server) acceptPolled() {
	p := s.ep
	for range acceptBatch {
		if p.lfd < 0 {
			return
		}
		fd, sa, err := syscall.Accept4(p.lfd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
		switch err {
		case nil:
		case syscall.EINTR, syscall.ECONNABORTED:
			continue
		case syscall.EAGAIN:
			p.backoff = 0
			return
		default:
			// Out of descriptors, say: stop listening for a while rather than spin on a
			// listening socket that stays readable.
			p.backoff = min(max(2*p.backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("kvserver: accept failed; retrying", "addr", s.addr.String(), "err", err, "retry_in", p.backoff)
			syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, p.lfd, nil)
			p.resumeAt = time.Now().Add(p.backoff)
			return
		}
		syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
		p.nextID++
		// Its read state and request batches come with its first read (see readPolled): a
		// server may hold many clients that never send.
		c := &client{id: p.nextID, remote: sockaddrToTCP(sa), polled: true, fd: fd}
		if err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, fd, &syscall.EpollEvent{Events: clientEvents, Fd: int32(fd)}); err != nil {
			s.log.Warn("kvserver: epoll_ctl failed; closing the connection", "err", err)
			syscall.Close(fd)
			continue
		}
		for fd >= len(p.byFD) {
			p.byFD = append(p.byFD, make([]*client, len(p.byFD)+64)...)
		}
		p.byFD[fd] = c
		s.handleBatch(&batch{kind: batchJoin, c: c})
	}
}

func (p *poller) resumeAccept() {
	p.resumeAt = time.Time{}
	if p.lfd >= 0 {
		syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, p.lfd, &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(p.lfd)})
	}
}

func sockaddrToTCP(sa syscall.Sockaddr) net.Addr {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]).To16(), Port: a.Port}
	case *syscall.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
	}
	return nil
}

// pollEvent notes what epoll reported for c's socket, and writes its inflight replies if it
// can take them.
func (s *Server) pollEvent(c *client, events uint32) {
	if events&hangEvents != 0 {
		c.peerDone = true
	}
	if events&(syscall.EPOLLIN|hangEvents) != 0 && !c.stopRead {
		c.readable = true
		if len(c.held) == 0 {
			s.ep.queue(c)
		}
	}
	if events&(syscall.EPOLLOUT|syscall.EPOLLERR|syscall.EPOLLHUP) != 0 && c.sending {
		s.sendInflight(c)
	}
}

// readReady reads once from every client in the ready list; those whose read filled the
// buffer stay in it for the next round, so one client cannot starve the others. With the ring
// and two or more clients to read, their reads go through it (see recvRound).
func (s *Server) readReady() {
	p := s.ep
	ready := p.ready
	p.ready, p.spare = p.spare[:0], nil
	q := p.recvq[:0]
	for i, c := range ready {
		ready[i] = nil
		c.queued = false
		if c.stopRead || !c.readable || len(c.held) > 0 {
			continue // throttled clients are queued again by resume
		}
		q = append(q, c)
	}
	p.spare = ready[:0]
	done := 0
	if p.ring != nil && len(q) >= ringMin {
		done = s.recvRound(q)
	}
	for _, c := range q[done:] {
		s.readPolled(c)
		p.queue(c)
	}
	clear(q)
	p.recvq = q[:0]
}

// readPolled reads what c's socket holds, up to a buffer, and parses and executes it.
func (s *Server) readPolled(c *client) {
	buf := s.readInto(c, s.ep.scratch)
	n, err := rawRead(c.fd, buf)
	s.readDone(c, buf, n, err, s.ep.scratch)
}

// readInto returns where c's next read goes: behind its partial request in its own buffer, or,
// if it has none, at the start of shared, a buffer that c may use only until readDone.
func (s *Server) readInto(c *client, shared []byte) []byte {
	if c.rd == nil {
		c.fillCredits() // into c.free: a polled client has no batch channel
		c.rd = &reader{s: s, c: c}
	}
	rd := c.rd
	if rd.r == rd.w { // nothing buffered: read into the shared buffer
		rd.buf, rd.r, rd.w = shared, 0, 0
	}
	return rd.space()
}

// readDone parses and executes what a read of n bytes into buf (from readInto with shared)
// brought, or takes its error, and keeps a partial request in a buffer of c's own.
func (s *Server) readDone(c *client, buf []byte, n int, err error, shared []byte) {
	rd := c.rd
	switch {
	case err == syscall.EINTR:
	case err == syscall.EAGAIN:
		c.readable = false
	case err != nil || n == 0: // failed or finished
		s.readerLeft(c)
	case !rd.took(n, len(buf)):
		s.readerLeft(c)
	case n < len(buf) && !c.peerDone:
		c.readable = false // drained: the next data brings a new edge
	}
	switch {
	case rd.r == rd.w:
		rd.buf, rd.r, rd.w = nil, 0, 0
	case len(rd.buf) > 0 && &rd.buf[0] == &shared[0]:
		// Keep a partial request in a buffer of the client's own.
		own := make([]byte, max(readBufSize, 2*(rd.w-rd.r)))
		rd.buf, rd.w, rd.r = own, copy(own, rd.buf[rd.r:rd.w]), 0
	}
}

// recvRound reads the clients of q through the ring: a recv each (MSG_DONTWAIT, so that it
// completes at once), submitted with one io_uring_enter per ring-full, each into a share of
// the arena or behind its partial request, then parses and executes what each brought, as
// readPolled does. It returns how many clients of q it took; if the ring fails, the loop reads
// the rest with read(2).
func (s *Server) recvRound(q []*client) int {
	p := s.ep
	p.recvRounds++
	share := min(maxReadBuf, max(minRecvShare, len(p.arena)/len(q)))
	per := min(len(p.arena)/share, p.ring.Entries())
	bufs := p.recvBufs[:0]
	shares := p.recvShares[:0]
	done := 0
	for done < len(q) && p.ring != nil {
		chunk := q[done:min(len(q), done+per)]
		bufs, shares = bufs[:0], shares[:0]
		for i, c := range chunk {
			sh := p.arena[i*share : (i+1)*share : (i+1)*share]
			buf := s.readInto(c, sh)
			bufs, shares = append(bufs, buf), append(shares, sh)
			p.ring.Recv(c.fd, buf, uint64(i), false, syscall.MSG_DONTWAIT)
		}
		s.ringRound(len(chunk), func(i int, res int32) {
			c := chunk[i]
			n, err := int(res), error(nil)
			if res < 0 {
				n, err = -1, syscall.Errno(-res)
			}
			s.readDone(c, bufs[i], n, err, shares[i])
			p.queue(c)
		})
		done += len(chunk)
	}
	clear(bufs)
	clear(shares)
	p.recvBufs, p.recvShares = bufs[:0], shares[:0]
	return done
}

// readerLeft ends reading from c, as a reader goroutine's exit does on the portable path.
func (s *Server) readerLeft(c *client) {
	c.stopRead, c.readable = true, false
	if !c.readerDone {
		s.handleBatch(&batch{kind: batchLeave, c: c})
	}
}

// sendInflight writes what c's socket takes of its inflight replies; once they are all gone,
// c is back to writing at the end of each round.
func (s *Server) sendInflight(c *client) {
	n, err := writeFD(c.fd, c.inflight[c.sent:])
	c.sent += n
	c.atWriter = len(c.inflight) - c.sent
	if err == nil && c.atWriter > 0 {
		return
	}
	buf := c.inflight
	c.inflight, c.sent = nil, 0
	s.handleWriter(writerEvent{c: c, buf: buf, failed: err != nil})
}

// sendRound writes the pending replies of the round's dirty clients, when at least ringMin of
// them have some, through the ring: a send per client, all submitted with one io_uring_enter,
// which returns once they have all completed. Each send is non-blocking (MSG_DONTWAIT), so a
// client whose socket is full gets a short send or none at once, and its remainder waits for
// EPOLLOUT as after a short write; and the kernel is done with every reply buffer when the
// enter returns, so the buffers are the loop's again. Clients this leaves with pending
// replies (a send interrupted) are written by flushDirty as usual. If the ring fails, the loop
// goes on without it, and drops the clients whose sends it cannot account for.
func (s *Server) sendRound() {
	p := s.ep
	if p.ring == nil {
		return
	}
	q := p.sendq[:0]
	for _, c := range s.dirty {
		if c.polled && !c.outClosed && !c.sending && len(c.pending) > 0 {
			q = append(q, c)
		}
	}
	p.sendq = q
	if len(q) < ringMin {
		clear(q)
		return
	}
	p.sendRounds++
	done := 0
	for done < len(q) && p.ring != nil {
		chunk := q[done:min(len(q), done+p.ring.Entries())]
		for i, c := range chunk {
			p.ring.Send(c.fd, c.pending, uint64(i), syscall.MSG_DONTWAIT|syscall.MSG_NOSIGNAL)
		}
		s.ringRound(len(chunk), func(i int, res int32) { s.sent(chunk[i], res) })
		done += len(chunk)
	}
	clear(q)
}

// ringRound submits the n requests queued in the ring, with data 0 to n-1, waits until they
// have all completed and hands each result to done. If the ring fails, it is closed (which
// cancels whatever is left) and the loop goes on without it; the requests whose results never
// came get -EIO, since what they did is unknown, which drops their clients.
func (s *Server) ringRound(n int, done func(i int, res int32)) {
	p := s.ep
	err := p.ring.SubmitAndWait(n)
	in := p.inRound[:0]
	for range n {
		in = append(in, false)
	}
	got := 0
	for {
		cqe, ok := p.ring.Reap()
		if !ok {
			break
		}
		if i := int(cqe.Data); i < n && !in[i] {
			in[i] = true
			got++
			done(i, cqe.Res)
		}
	}
	if err != nil || got != n {
		s.log.Error("kvserver: io_uring_enter failed; reading and writing with read(2) and write(2) from now on", "err", err)
		p.ring.Close()
		p.ring = nil
		for i := range n {
			if !in[i] {
				done(i, -int32(syscall.EIO))
			}
		}
	}
	p.inRound = in[:0]
}

// sent takes the result of a send of c's pending replies through the ring: the bytes the
// socket took, or -errno.
func (s *Server) sent(c *client, res int32) {
	switch {
	case res == int32(len(c.pending)):
		c.pending, c.pendingEntries = c.pending[:0], 0
	case res >= 0 || res == -int32(syscall.EAGAIN):
		// The socket is full: the rest waits for EPOLLOUT.
		s.ep.sendShort++
		c.pending = c.pending[:copy(c.pending, c.pending[max(res, 0):])]
		s.awaitWritable(c)
		s.backlog[c] = struct{}{}
	case res == -int32(syscall.EINTR): // flushDirty writes it
	default:
		s.abort(c) // the client is gone
	}
}

// closePolled closes c's socket, which also takes it out of the epoll set, and forgets c.
func (s *Server) closePolled(c *client) {
	c.stopRead, c.readable = true, false
	s.ep.byFD[c.fd] = nil
	syscall.Close(c.fd)
	c.readerDone, c.writerDone = true, true
	s.maybeFinish(c)
}

// writeFD writes as much of b as the non-blocking socket fd takes.
func writeFD(fd int, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := rawWrite(fd, b[n:])
		if m > 0 {
			n += m
		}
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return n, nil
		case err != nil:
			return n, err
		case m <= 0:
			return n, nil
		}
	}
	return n, nil
}

// quickAck makes the kernel acknowledge what c sent now rather than after the delayed-ACK
// timer.
func quickAck(c *client) {
	if c.polled {
		syscall.SetsockoptInt(c.fd, syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
		return
	}
	if c.raw != nil {
		c.raw.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
		})
	}
}
