package kvserver

import (
	"bytes"
	"net"
	"syscall"
	"unsafe"
)

const (
	readBufSize   = 4 << 10  // a client's first read buffer; it grows while reads fill it
	maxReadBuf    = 64 << 10 // growth for throughput stops here (a long request may go further)
	maxKeptBuffer = 64 << 10 // reply buffers larger than this are left to the GC, not reused
)

// client is one connection. id, conn, remote and the channels are set at creation and never
// change; the other fields belong to the loop goroutine. On the event loop (polled) the client
// has no goroutines and no net.Conn: the loop reads and writes its socket fd itself, and
// inflight plays the writer's part.
type client struct {
	id      uint64
	conn    net.Conn        // nil when polled
	remote  net.Addr        // for logs
	raw     syscall.RawConn // for the loop's non-blocking writes; nil if the platform has none
	out     chan []byte     // loop to writer: reply bytes, at most one buffer at a time
	batches chan *batch     // loop back to reader: request batches to fill, see credits
	free    []*batch        // when polled: the request batches not at the loop, in place of batches

	polled   bool    // served by the event loop (poll_linux.go)
	fd       int     // the socket, when polled
	rd       *reader // the read state, when polled
	inflight []byte  // when polled: replies the socket did not take, written on EPOLLOUT
	sent     int     // bytes of inflight written
	readable bool    // when polled: the socket may hold data (or the end of the stream)
	queued   bool    // when polled: in the loop's list of clients to read
	peerDone bool    // when polled: the peer has shut down its side; read until EOF
	stopRead bool    // when polled: never read again

	held           []*batch // RESP requests waiting for room in the queue, oldest first
	pending        []byte   // replies not yet handed to the writer
	pendingEntries int      // lines or RESP replies in pending
	atWriter       int      // bytes of the buffer at the writer; 0 when it is idle
	spareBuf       []byte   // an empty buffer for the next pending
	sending        bool     // a buffer is at the writer
	dirty          bool     // in the loop's dirty list
	ran            bool     // ran requests since the loop's last commit
	ending         bool     // no more requests are taken; output closes once drained
	outClosed      bool
	readerDone     bool
	writerDone     bool
}

// credits is how many request batches a client's reader may have at the loop at once. The
// loop hands every batch back when it is done with it, so a reader whose client is being
// throttled waits for a batch instead of reading more.
const credits = 2

func newClient(id uint64, conn net.Conn) *client {
	c := &client{id: id, conn: conn, remote: conn.RemoteAddr(), raw: rawConn(conn), out: make(chan []byte, 1), batches: make(chan *batch, credits)}
	c.fillCredits()
	return c
}

// fillCredits gives a new client its request batches. A polled client's reader is the loop
// itself, so its batches wait in a plain list rather than a channel.
func (c *client) fillCredits() {
	for range credits {
		b := &batch{kind: batchRequests, c: c}
		if c.polled {
			c.free = append(c.free, b)
		} else {
			c.batches <- b
		}
	}
}

// awaitWritable keeps c's pending replies, which its socket did not take, for EPOLLOUT.
func (s *Server) awaitWritable(c *client) {
	c.inflight, c.sent = c.pending, 0
	c.sending, c.atWriter = true, len(c.pending)
	c.pending, c.pendingEntries, c.spareBuf = c.spareBuf, 0, nil
}

// stopPolled drops c's inflight replies and stops reading it: abort's hang-up on the event loop.
func (c *client) stopPolled() {
	c.stopRead, c.readable = true, false
	if c.sending {
		c.sending, c.atWriter, c.inflight, c.sent = false, 0, nil, 0
	}
}

type batchKind uint8

const (
	batchRequests   batchKind = iota // requests from a reader
	batchJoin                        // from the acceptor: a new client
	batchLeave                       // a reader's last word: it reads no more
	batchAcceptDone                  // the acceptor's last word
)

// batch is what the acceptor and the readers send the loop. A request batch holds every
// complete request one read delivered. Its args point into the bytes they were parsed from:
// the reader's buffer while the batch is being handled at once on the event loop, or data,
// the batch's own copy of them (see reader.send).
type batch struct {
	kind batchKind
	c    *client
	resp bool
	data []byte
	args [][]byte
	reqs []request
	next int // index of the first request not yet executed
}

// own gives b a copy of in, the bytes its args were parsed from, and points the args into it,
// so that b outlives the reader's buffer.
func (b *batch) own(in []byte) {
	b.data = bytes.Clone(in)
	base := uintptr(unsafe.Pointer(unsafe.SliceData(in)))
	for i, a := range b.args {
		off := 0
		if len(a) > 0 { // an empty slice may not point into in
			off = int(uintptr(unsafe.Pointer(unsafe.SliceData(a))) - base)
		}
		b.args[i] = b.data[off : off+len(a) : off+len(a)]
	}
}

// recycle hands a request batch the loop is done with back to its reader, keeping its slices
// but not its data (the store may still hold values that point into it). The channel has room
// for every batch of the client, so this never blocks.
func (b *batch) recycle() {
	clear(b.args)
	b.data, b.args, b.reqs, b.next = nil, b.args[:0], b.reqs[:0], 0
	if b.c.polled {
		b.c.free = append(b.c.free, b)
		return
	}
	b.c.batches <- b
}

// writerEvent is a writer's report to the loop: a buffer written (and returned for reuse), or
// the writer's exit.
type writerEvent struct {
	c      *client
	buf    []byte
	failed bool // the write failed: the client is gone
	exited bool
}

// write writes what the loop hands over until the loop closes c.out, then closes the
// connection. After a write error it keeps draining (and returning) buffers so the loop's
// accounting stays simple.
func (s *Server) write(c *client) {
	failed := false
	for buf := range c.out {
		if !failed {
			if _, err := c.conn.Write(buf); err != nil {
				failed = true
				hangUp(c) // wakes the reader
			}
		}
		s.events <- writerEvent{c: c, buf: buf, failed: failed}
	}
	c.conn.Close()
	s.events <- writerEvent{c: c, exited: true}
}

// reader is the state of one client's reading goroutine: the read buffer, holding
// buf[r:w] not yet parsed, and which protocol the client speaks.
type reader struct {
	s        *Server
	c        *client
	buf      []byte
	r, w     int
	detected bool
	resp     bool
}

// read reads and parses c's requests and sends them to the loop, one batch per read, until the
// connection ends or the client must be dropped.
func (s *Server) read(c *client) {
	rd := &reader{s: s, c: c, buf: make([]byte, readBufSize)}
	rd.run()
	s.inbox <- &batch{kind: batchLeave, c: c}
}

func (rd *reader) run() {
	if rd.c.raw != nil {
		readWait(rd.c.conn, rd.c.raw, rd.space, rd.took)
		return
	}
	for {
		p := rd.space()
		n, err := rd.c.conn.Read(p)
		if !rd.took(n, len(p)) || err != nil {
			return
		}
	}
}

// space returns the free end of the read buffer, making room first if there is none.
func (rd *reader) space() []byte {
	if rd.w == len(rd.buf) {
		rd.makeRoom()
	}
	return rd.buf[rd.w:]
}

// took parses the n bytes a read put into a free space of size free, sends their complete
// requests to the loop and sizes the buffer for the next read. It reports false once the
// client is being dropped.
func (rd *reader) took(n, free int) bool {
	rd.w += n
	if rd.w > rd.r && !rd.detected {
		rd.resp = rd.buf[rd.r] == '*'
		rd.detected = rd.resp
		if !rd.resp {
			rd.resp, rd.detected = isInlineStart(rd.buf[rd.r:rd.w])
		}
	}
	if rd.w > rd.r && rd.detected {
		var consumed int
		var ok bool
		if rd.resp {
			consumed, ok = rd.parseRESP(rd.buf[rd.r:rd.w])
		} else {
			consumed, ok = rd.parseText(rd.buf[rd.r:rd.w])
		}
		if !ok {
			return false
		}
		rd.r += consumed
	}
	switch {
	case rd.r == rd.w && len(rd.buf) > maxReadBuf:
		rd.buf, rd.r, rd.w = make([]byte, readBufSize), 0, 0 // a long request has passed: shrink
	case rd.r == rd.w:
		rd.r, rd.w = 0, 0
	case n == free && len(rd.buf) < maxReadBuf:
		rd.grow(2 * len(rd.buf)) // reads fill the buffer: read more at a time
	}
	return true
}

// makeRoom frees space at the end of a full buffer: by moving the unparsed bytes to the front,
// or, when they fill it all (one long request), by growing it. The parsers have already
// dropped the client if the request is longer than allowed, so growth is bounded.
func (rd *reader) makeRoom() {
	if rd.r > 0 {
		rd.w = copy(rd.buf, rd.buf[rd.r:rd.w])
		rd.r = 0
		return
	}
	rd.grow(min(2*len(rd.buf), maxFrame+1))
}

func (rd *reader) grow(size int) {
	buf := make([]byte, size)
	rd.w = copy(buf, rd.buf[rd.r:rd.w])
	rd.r, rd.buf = 0, buf
}

// newBatch returns an empty request batch. A reader goroutine waits until the loop hands one
// back, never forever: the loop returns every batch, held ones included once the client ends.
// The event loop reads only clients with no batch held, so a polled client has one free.
func (rd *reader) newBatch() *batch {
	var b *batch
	if c := rd.c; !c.polled {
		b = <-c.batches
	} else if n := len(c.free); n > 0 {
		b, c.free[n-1], c.free = c.free[n-1], nil, c.free[:n-1]
	} else {
		b = &batch{kind: batchRequests, c: c}
	}
	b.resp = rd.resp
	return b
}

// send hands b, whose requests were parsed from in, to the loop if it holds any request, and
// otherwise keeps it for next time.
//
// On the event loop with a store that copies what it keeps (the memory store, a FileStore), the
// loop runs the requests at once, from the read buffer itself: the batch copies its bytes only
// if it is held for later (its client's queue is full). Otherwise the reader goes on reading
// into its buffer while the loop works, or the store may keep the slices it is handed, so the
// batch takes its own copy first.
func (rd *reader) send(b *batch, in []byte) {
	if len(b.reqs) == 0 {
		b.recycle()
		return
	}
	if !rd.c.polled || rd.s.db.typed == nil {
		b.own(in)
	}
	if !rd.c.polled {
		rd.s.inbox <- b
		return
	}
	rd.s.handleBatch(b) // this is the loop itself
	if held := rd.c.held; b.data == nil && len(held) > 0 && held[len(held)-1] == b {
		b.own(in)
	}
}

// fatal sends the last request of a client that must be dropped, after those of b parsed from
// in: the loop answers it with reason and then closes the connection.
func (rd *reader) fatal(b *batch, in []byte, reason string) {
	b.reqs = append(b.reqs, request{op: opFatal, reason: reason, lo: int32(len(b.args)), hi: int32(len(b.args))})
	rd.send(b, in)
}

// parseText parses the complete lines at the front of in, sends them to the loop and returns
// the bytes consumed. ok is false if a line is too long: the client is then being dropped.
func (rd *reader) parseText(in []byte) (consumed int, ok bool) {
	const tooLong = "line longer than 1 MiB"
	b := rd.newBatch()
	pos := 0
	for {
		i := bytes.IndexByte(in[pos:], '\n')
		if i < 0 {
			break
		}
		line := in[pos : pos+i]
		if len(bytes.TrimSuffix(line, []byte{'\r'})) > MaxLine {
			rd.fatal(b, in[:pos], tooLong)
			return 0, false
		}
		var r request
		r, b.args = parseLine(line, b.args)
		b.reqs = append(b.reqs, r)
		pos += i + 1
	}
	if len(in)-pos > MaxLine+1 { // even a final "\r" would not bring it under the limit
		rd.fatal(b, in[:pos], tooLong)
		return 0, false
	}
	rd.send(b, in[:pos])
	return pos, true
}

// parseRESP parses the complete frames at the front of in, sends them to the loop and returns
// the bytes consumed. ok is false after a protocol error or an oversized frame: the client is
// then being dropped. A lone incomplete frame (a large value arriving over several reads)
// stays in the read buffer, parsed again on each read but not copied.
func (rd *reader) parseRESP(in []byte) (consumed int, ok bool) {
	const tooLong = "Protocol error: request larger than 513 MiB"
	b := rd.newBatch()
	pos := 0
	for pos < len(in) {
		lo := len(b.args)
		args, n, err := parseRequest(in[pos:], b.args)
		if err == errIncomplete {
			break
		}
		if perr, ok := err.(protocolError); ok {
			rd.fatal(b, in[:pos], "Protocol error: "+string(perr))
			return 0, false
		}
		b.args, pos = args, pos+n
		if len(b.args) > lo { // "*0\r\n" asks nothing and gets no reply, as in Redis
			b.reqs = append(b.reqs, classify(b.args, lo))
		}
	}
	if len(in)-pos > maxFrame {
		rd.fatal(b, in[:pos], tooLong)
		return 0, false
	}
	rd.send(b, in[:pos])
	return pos, true
}
