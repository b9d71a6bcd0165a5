package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// config is one load, applied alike to every target.
type config struct {
	proto     proto
	clients   int
	duration  time.Duration // measured time per target and round
	getFrac   float64
	pipeline  int
	keys      int
	valueSize int
	seed      uint64
	engine    engineKind
	grace     time.Duration // how long replies may lag behind the end of the run before a client counts as broken
}

// engineKind is how kvbench drives a server's clients.
type engineKind int

const (
	engineGoroutines engineKind = iota // a goroutine and a net.Conn per client, portable
	engineEpoll                        // one thread, non-blocking sockets in an epoll set (Linux)
	engineUring                        // one thread, sends and recvs through an io_uring (Linux)
)

// result is what one run against one target measured.
type result struct {
	ops     uint64
	errs    uint64 // error replies
	failed  int    // clients whose connection broke during the run
	broke   error  // why the first of them broke
	elapsed time.Duration
	lat     histogram
	cpu     cpuUse
}

func (r *result) add(o *result) {
	r.ops += o.ops
	r.errs += o.errs
	r.failed += o.failed
	if r.broke == nil {
		r.broke = o.broke
	}
	r.elapsed += o.elapsed
	r.lat.merge(&o.lat)
	r.cpu.add(o.cpu)
}

// opsPerSec returns the throughput, 0 if nothing ran.
func (r *result) opsPerSec() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ops) / r.elapsed.Seconds()
}

// conn is one benchmark client's connection.
type conn struct {
	id  int
	c   net.Conn
	r   *bufio.Reader
	buf []byte
}

// dial connects client id to addr and, for the text protocol, sets up its fence key.
func dial(ctx context.Context, addr string, p proto, id int) (*conn, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	cn := &conn{id: id, c: c, r: bufio.NewReaderSize(c, maxLine)}
	if p == protoText {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		cn.buf = appendFence(appendFenceSetup(cn.buf[:0], id), id)
		if err := cn.roundTrip(p, 0); err != nil {
			c.Close()
			return nil, fmt.Errorf("setting up the text protocol: %w", err)
		}
	}
	return cn, nil
}

// roundTrip writes cn.buf and reads the replies to it: n RESP replies, or a text batch up to its
// fence. It returns an error for a broken connection or a malformed reply.
func (cn *conn) roundTrip(p proto, n int) error {
	if _, err := cn.c.Write(cn.buf); err != nil {
		return err
	}
	if p == protoText {
		_, err := readTextBatch(cn.r, cn.id)
		return err
	}
	for range n {
		if _, err := readRESP(cn.r); err != nil {
			return err
		}
	}
	return nil
}

// populate gives every key of the key space a value, so that gets find something.
func populate(ctx context.Context, addr string, cfg config) error {
	cn, err := dial(ctx, addr, cfg.proto, cfg.clients) // an id no benchmark client has
	if err != nil {
		return err
	}
	defer cn.c.Close()
	stop := context.AfterFunc(ctx, func() { cn.c.Close() })
	defer stop()
	cn.c.SetDeadline(time.Now().Add(time.Minute))
	value := make([]byte, cfg.valueSize)
	for i := range value {
		value[i] = 'x'
	}
	const batch = 256
	var key []byte
	for start := 0; start < cfg.keys; start += batch {
		cn.buf = cn.buf[:0]
		end := min(start+batch, cfg.keys)
		for i := start; i < end; i++ {
			key = keyName(key[:0], cfg.proto, i)
			cn.buf = appendOp(cn.buf, cfg.proto, false, key, value)
		}
		if cfg.proto == protoText {
			cn.buf = appendFence(cn.buf, cn.id)
		}
		if err := cn.roundTrip(cfg.proto, end-start); err != nil {
			return err
		}
	}
	return nil
}

// drive runs client cn's workload until the deadline or ctx's end and returns what it measured.
// Each operation's latency runs from the write of its batch to the reply that completes it (for
// the text protocol, the batch's fence).
func drive(ctx context.Context, cn *conn, cfg config, w *workload, deadline time.Time) *result {
	res := &result{}
	stop := context.AfterFunc(ctx, func() { cn.c.Close() })
	defer stop()
	cn.c.SetDeadline(deadline.Add(cfg.grace)) // a server that stops answering cannot hang us
	var key []byte
	for first := true; first || time.Now().Before(deadline); first = false { // one batch at least
		cn.buf = cn.buf[:0]
		for range cfg.pipeline {
			get, k := w.next()
			key = keyName(key[:0], cfg.proto, k)
			cn.buf = appendOp(cn.buf, cfg.proto, get, key, w.value)
		}
		if cfg.proto == protoText {
			cn.buf = appendFence(cn.buf, cn.id)
		}
		start := time.Now()
		if _, err := cn.c.Write(cn.buf); err != nil {
			res.failed, res.broke = 1, err
			break
		}
		if err := cn.readBatch(cfg, start, res); err != nil {
			res.failed, res.broke = 1, err
			break
		}
	}
	if ctx.Err() != nil {
		res.failed, res.broke = 0, nil // the run was interrupted, the connection did not break
	}
	return res
}

// readBatch reads the replies to one batch sent at start into res; an error if the connection
// or the reply stream broke.
func (cn *conn) readBatch(cfg config, start time.Time, res *result) error {
	if cfg.proto == protoText {
		errs, err := readTextBatch(cn.r, cn.id)
		if err != nil {
			return err
		}
		lat := time.Since(start)
		for range cfg.pipeline {
			res.lat.record(lat)
		}
		res.ops += uint64(cfg.pipeline)
		res.errs += uint64(errs)
		return nil
	}
	for range cfg.pipeline {
		isErr, err := readRESP(cn.r)
		if err != nil {
			return err
		}
		res.lat.record(time.Since(start))
		res.ops++
		if isErr {
			res.errs++
		}
	}
	return nil
}

// runTarget connects cfg.clients clients to addr, starts them together and returns their
// combined result once the duration is over; m measures the CPU time of the window.
func runTarget(ctx context.Context, addr string, cfg config, m *meter) (*result, error) {
	if cfg.engine != engineGoroutines {
		return runEvents(ctx, addr, cfg, m)
	}
	conns := make([]*conn, 0, cfg.clients)
	defer func() {
		ncs := make([]net.Conn, len(conns))
		for i, cn := range conns {
			ncs[i] = cn.c
		}
		release(ctx, ncs)
	}()
	for i := range cfg.clients {
		cn, err := dial(ctx, addr, cfg.proto, i)
		if err != nil {
			return nil, fmt.Errorf("client %d: %w", i, err)
		}
		conns = append(conns, cn)
	}
	results := make(chan *result, len(conns))
	m.start()
	start := time.Now()
	deadline := start.Add(cfg.duration)
	for i, cn := range conns {
		w := newWorkload(cfg.seed, i, cfg.getFrac, cfg.keys, cfg.valueSize)
		go func() { results <- drive(ctx, cn, cfg, w, deadline) }()
	}
	total := &result{}
	for range conns {
		total.add(<-results)
	}
	total.elapsed = time.Since(start)
	if err := m.stop(total); err != nil {
		return nil, err
	}
	return total, nil
}

// holdIdle opens n connections to addr that send nothing, as the quiet clients of a busy
// server do, and returns once the server has taken them all in; the caller ends them with
// release. A completed dial only means the kernel queued the connection, so the server may
// still be accepting and registering them: ready waits for that, so that it happens before the
// measured window rather than inside it.
func holdIdle(ctx context.Context, addr string, cfg config, n int) ([]net.Conn, error) {
	if n == 0 {
		return nil, nil
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	held := make([]net.Conn, 0, n)
	for range n {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			release(ctx, held)
			return nil, err
		}
		held = append(held, c)
	}
	if err := ready(ctx, addr, cfg); err != nil {
		release(ctx, held)
		return nil, fmt.Errorf("probing the server after opening the idle connections: %w", err)
	}
	return held, nil
}

// ready connects to addr once more and waits for the answer to one get. A server accepts its
// connections in the order they arrived, so once this late one is answered, every connection
// dialed before it has been accepted.
func ready(ctx context.Context, addr string, cfg config) error {
	cn, err := dial(ctx, addr, cfg.proto, cfg.clients) // populate's id, whose fence key exists
	if err != nil {
		return err
	}
	defer release(ctx, []net.Conn{cn.c})
	stop := context.AfterFunc(ctx, func() { cn.c.Close() })
	defer stop()
	cn.c.SetDeadline(time.Now().Add(time.Minute))
	cn.buf = appendOp(cn.buf[:0], cfg.proto, true, keyName(nil, cfg.proto, 0), nil)
	if cfg.proto == protoText {
		cn.buf = appendFence(cn.buf, cn.id)
	}
	return cn.roundTrip(cfg.proto, 1)
}

// release ends conns and returns once the server has closed its side of each, so that the
// teardown of one server's connections is over before another server's measured window starts
// (Close alone returns at once and leaves the server, and the kernel, busy with it meanwhile).
// Each connection is half-closed, so the server reads end-of-file and closes its end, and then
// read until that end-of-file arrives. It returns the number of connections the server had not
// closed within a minute (or before ctx ended).
func release(ctx context.Context, conns []net.Conn) int {
	for _, c := range conns {
		if tc, ok := c.(*net.TCPConn); ok && tc.CloseWrite() == nil {
			continue
		}
		c.Close() // not TCP, or already broken: nothing to wait for
	}
	deadline := time.Now().Add(time.Minute)
	stop := context.AfterFunc(ctx, func() {
		for _, c := range conns {
			c.SetReadDeadline(time.Now()) // ends the wait below; SetReadDeadline is concurrency-safe
		}
	})
	defer stop()
	buf := make([]byte, 512)
	open := 0
	for _, c := range conns {
		if ctx.Err() == nil {
			c.SetReadDeadline(deadline)
		}
		var err error
		for err == nil {
			_, err = c.Read(buf) // anything still in flight, then end-of-file or a reset
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			open++
		}
		c.Close()
	}
	return open
}
