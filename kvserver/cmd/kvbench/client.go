package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
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
}

// result is what one run against one target measured.
type result struct {
	ops     uint64
	errs    uint64 // error replies
	failed  int    // clients whose connection broke during the run
	elapsed time.Duration
	lat     histogram
}

func (r *result) add(o *result) {
	r.ops += o.ops
	r.errs += o.errs
	r.failed += o.failed
	r.elapsed += o.elapsed
	r.lat.merge(&o.lat)
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
	cn := &conn{id: id, c: c, r: bufio.NewReaderSize(c, 64<<10)}
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
			key = keyName(key[:0], i)
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
	cn.c.SetDeadline(deadline.Add(30 * time.Second)) // a server that stops answering cannot hang us
	var key []byte
	for first := true; first || time.Now().Before(deadline); first = false { // one batch at least
		cn.buf = cn.buf[:0]
		for range cfg.pipeline {
			get, k := w.next()
			key = keyName(key[:0], k)
			cn.buf = appendOp(cn.buf, cfg.proto, get, key, w.value)
		}
		if cfg.proto == protoText {
			cn.buf = appendFence(cn.buf, cn.id)
		}
		start := time.Now()
		if _, err := cn.c.Write(cn.buf); err != nil {
			res.failed = 1
			break
		}
		if !cn.readBatch(cfg, start, res) {
			res.failed = 1
			break
		}
	}
	if ctx.Err() != nil {
		res.failed = 0 // the run was interrupted, the connection did not break
	}
	return res
}

// readBatch reads the replies to one batch sent at start into res; false if the connection or
// the reply stream broke.
func (cn *conn) readBatch(cfg config, start time.Time, res *result) bool {
	if cfg.proto == protoText {
		errs, err := readTextBatch(cn.r, cn.id)
		if err != nil {
			return false
		}
		lat := time.Since(start)
		for range cfg.pipeline {
			res.lat.record(lat)
		}
		res.ops += uint64(cfg.pipeline)
		res.errs += uint64(errs)
		return true
	}
	for range cfg.pipeline {
		isErr, err := readRESP(cn.r)
		if err != nil {
			return false
		}
		res.lat.record(time.Since(start))
		res.ops++
		if isErr {
			res.errs++
		}
	}
	return true
}

// runTarget connects cfg.clients clients to addr, starts them together and returns their
// combined result once the duration is over.
func runTarget(ctx context.Context, addr string, cfg config) (*result, error) {
	conns := make([]*conn, 0, cfg.clients)
	defer func() {
		for _, cn := range conns {
			cn.c.Close()
		}
	}()
	for i := range cfg.clients {
		cn, err := dial(ctx, addr, cfg.proto, i)
		if err != nil {
			return nil, fmt.Errorf("client %d: %w", i, err)
		}
		conns = append(conns, cn)
	}
	results := make(chan *result, len(conns))
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
	return total, nil
}

// holdIdle opens n connections to addr that send nothing, as the quiet clients of a busy
// server do; the caller closes them with closeAll.
func holdIdle(ctx context.Context, addr string, n int) ([]net.Conn, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	held := make([]net.Conn, 0, n)
	for range n {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			closeAll(held)
			return nil, err
		}
		held = append(held, c)
	}
	return held, nil
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		c.Close()
	}
}
