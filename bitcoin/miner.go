package bitcoin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"ds440/bitcoin/internal/sched"
)

// Conn is one side of a connection to the server: the method set of lsp.Client.
type Conn interface {
	Read() ([]byte, error)
	Write(payload []byte) error
	Close() error
}

// ErrDisconnected is returned when the connection to the server is lost.
var ErrDisconnected = errors.New("bitcoin: disconnected from server")

// MinerConfig tunes Mine. The zero value is ready to use.
type MinerConfig struct {
	// Workers is how many goroutines scan each chunk; default runtime.GOMAXPROCS(0).
	Workers int
	// Logger receives the hash rate every ReportEvery; nil discards it.
	Logger *slog.Logger
	// ReportEvery is the interval of the hash-rate log; default 5s.
	ReportEvery time.Duration
}

// Mine joins the server on conn and answers every Request with the Result of scanning it, until
// ctx ends (it then closes conn and returns nil) or the server is lost (ErrDisconnected). A chunk
// is split over the workers, so one miner uses every core. The protocol has no way to take a
// chunk back, so a chunk that has started is finished unless ctx ends; chunks last about a
// second.
func Mine(ctx context.Context, conn Conn, cfg MinerConfig) error {
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.ReportEvery <= 0 {
		cfg.ReportEvery = 5 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Closing conn is how ctx unblocks a pending Read.
	stopClose := context.AfterFunc(ctx, func() { conn.Close() })
	defer func() {
		if stopClose() {
			conn.Close()
		}
	}()

	var hashes atomic.Uint64
	reportDone := make(chan struct{})
	reportCtx, stopReport := context.WithCancel(ctx)
	go func() {
		defer close(reportDone)
		reportRate(reportCtx, &hashes, cfg.ReportEvery, log)
	}()
	defer func() { stopReport(); <-reportDone }()

	if err := conn.Write(NewJoin().marshal()); err != nil {
		return orCanceled(ctx, fmt.Errorf("%w: %v", ErrDisconnected, err))
	}
	for {
		payload, err := conn.Read()
		if err != nil {
			return orCanceled(ctx, fmt.Errorf("%w: %v", ErrDisconnected, err))
		}
		msg, err := unmarshal(payload)
		if err != nil || msg.Type != Request {
			log.Warn("ignoring unexpected message from server", "err", err, "msg", msg)
			continue
		}
		hash, nonce, ok := ScanParallel(msg.Data, msg.Lower, msg.Upper, cfg.Workers, func() bool { return ctx.Err() != nil })
		if !ok {
			return nil
		}
		hashes.Add(msg.Upper - msg.Lower + 1)
		if err := conn.Write(NewResult(hash, nonce).marshal()); err != nil {
			return orCanceled(ctx, fmt.Errorf("%w: %v", ErrDisconnected, err))
		}
	}
}

// orCanceled turns err into nil when ctx has ended: a requested stop is not a failure.
func orCanceled(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func reportRate(ctx context.Context, hashes *atomic.Uint64, every time.Duration, log *slog.Logger) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	last, lastAt := uint64(0), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			n := hashes.Load()
			if rate := float64(n-last) / now.Sub(lastAt).Seconds(); n > last {
				log.Info("mining", "hashes_per_s", int64(rate), "total_hashes", n)
			}
			last, lastAt = n, now
		}
	}
}

// ScanParallel is Scan split over workers goroutines, each taking an equal share of [lower,
// upper]. Ranges too small to be worth a goroutine are scanned on the caller's.
func ScanParallel(msg string, lower, upper uint64, workers int, stop func() bool) (hash, nonce uint64, ok bool) {
	const minShare = 4096
	span := upper - lower // nonces minus one, so the full uint64 range does not overflow
	if workers < 1 {
		workers = 1
	}
	if span/minShare < uint64(workers) {
		workers = max(1, int(span/minShare))
	}
	if workers == 1 {
		return Scan(msg, lower, upper, stop)
	}
	type part struct {
		hash, nonce uint64
		ok          bool
	}
	parts := make([]part, workers)
	share := span/uint64(workers) + 1
	var wg sync.WaitGroup
	for i := range workers {
		lo := lower + uint64(i)*share
		hi := upper
		if i < workers-1 {
			hi = lo + share - 1
		}
		wg.Go(func() {
			h, n, ok := Scan(msg, lo, hi, stop)
			parts[i] = part{h, n, ok}
		})
	}
	wg.Wait()
	hash, nonce, ok = ^uint64(0), ^uint64(0), true
	for _, p := range parts {
		ok = ok && p.ok
		if sched.Better(p.hash, p.nonce, hash, nonce) {
			hash, nonce = p.hash, p.nonce
		}
	}
	return hash, nonce, ok
}

// Submit sends one job to the server on conn and waits for its answer. It returns
// ErrDisconnected if the server is lost first, and ctx's error if ctx ends first.
func Submit(ctx context.Context, conn Conn, data string, lower, upper uint64) (hash, nonce uint64, err error) {
	if lower > upper {
		return 0, 0, fmt.Errorf("bitcoin: empty nonce range [%d, %d]", lower, upper)
	}
	stopClose := context.AfterFunc(ctx, func() { conn.Close() })
	defer stopClose()
	if err := conn.Write(NewRequest(data, lower, upper).marshal()); err != nil {
		return 0, 0, submitErr(ctx, err)
	}
	for {
		payload, err := conn.Read()
		if err != nil {
			return 0, 0, submitErr(ctx, err)
		}
		msg, err := unmarshal(payload)
		if err != nil || msg.Type != Result {
			continue // not an answer: a misbehaving server, keep waiting for the real one
		}
		return msg.Hash, msg.Nonce, nil
	}
}

func submitErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%w: %v", ErrDisconnected, err)
}
