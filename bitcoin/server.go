package bitcoin

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"ds440/bitcoin/internal/sched"
)

// ServerTransport is what the server needs from the network: the method set of lsp.Server, so
// an LSP server is used as it is and tests can substitute an in-memory one.
type ServerTransport interface {
	// Read returns the next payload from any connection, or an error with the connID of a
	// connection that was lost or closed.
	Read() (connID int, payload []byte, err error)
	Write(connID int, payload []byte) error
	CloseConn(connID int) error
	Close() error
}

// ServerConfig tunes Serve. The zero value is ready to use.
type ServerConfig struct {
	// ChunkTarget is how long one chunk should take a miner; default 1s. Each miner's chunks are
	// sized from its measured speed to last about this long: shorter means less work lost with a
	// dead miner and a quicker turn for small jobs, longer means fewer messages.
	ChunkTarget time.Duration
	// InitialChunk is the number of nonces in a new miner's first chunk, before its speed is
	// known; default 250,000.
	InitialChunk uint64
	// MinChunk and MaxChunk bound the size of a chunk in nonces; default 10,000 and 1<<32.
	MinChunk, MaxChunk uint64
	// Logger receives per-job progress and connection events; nil discards them.
	Logger *slog.Logger
	// ProgressEvery is the interval of the per-job progress log; default 5s.
	ProgressEvery time.Duration
	// Now is the clock the scheduler measures miner speed with; default time.Now.
	Now func() time.Time
	// TransportClosed reports whether an error from Read means the transport itself is gone
	// (rather than one connection), so Serve must stop. Default: never; Serve then stops only
	// when its context ends.
	TransportClosed func(error) bool
}

// ErrTransportClosed is returned by Serve when the transport fails while the server is running.
var ErrTransportClosed = errors.New("bitcoin: server transport closed")

// inbound is one result of ServerTransport.Read, handed from the reader goroutine to the loop.
type inbound struct {
	conn    int
	payload []byte
	err     error
}

// server is the state owned by Serve's event loop.
type server struct {
	t     ServerTransport
	cfg   ServerConfig
	log   *slog.Logger
	sched *sched.Scheduler
	// rejected counts connections closed for breaking the protocol, for logs and tests.
	rejected int
	// lastHashed and lastLog are the cluster's work at the previous progress log.
	lastHashed uint64
	lastLog    time.Time
}

// Serve runs the mining server on t until ctx ends, then closes t and returns nil. Clients send
// a Request and get one Result; miners send Join and then answer each Request with a Result.
// A connection that breaks the protocol (malformed JSON, an unknown type, a Result from a
// non-miner, a Request from a miner, a second Request while one is pending, a Join from a
// client) is closed and treated as lost; nothing a peer sends can crash or stall the server.
func Serve(ctx context.Context, t ServerTransport, cfg ServerConfig) error {
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TransportClosed == nil {
		cfg.TransportClosed = func(error) bool { return false }
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &server{t: t, cfg: cfg, log: log, sched: sched.New(sched.Config{
		ChunkTarget: cfg.ChunkTarget, InitialChunk: cfg.InitialChunk, MinChunk: cfg.MinChunk, MaxChunk: cfg.MaxChunk,
	}), lastLog: cfg.Now()}

	incoming := make(chan inbound)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			conn, payload, err := t.Read()
			select {
			case incoming <- inbound{conn, payload, err}:
			case <-ctx.Done():
				return
			}
			if err != nil && cfg.TransportClosed(err) {
				return
			}
		}
	}()
	defer func() {
		// Closing the transport unblocks the reader's Read; ctx (or the reader's own exit)
		// unblocks its send.
		t.Close()
		<-readerDone
	}()

	progress := time.NewTicker(cfg.ProgressEvery)
	defer progress.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case in := <-incoming:
			if in.err != nil && cfg.TransportClosed(in.err) {
				return errors.Join(ErrTransportClosed, in.err)
			}
			s.handle(in)
		case <-progress.C:
			s.logProgress()
		}
	}
}

// handle applies one inbound event to the scheduler and carries out the resulting actions.
func (s *server) handle(in inbound) {
	now := s.cfg.Now()
	if in.err != nil {
		miner := s.sched.IsMiner(in.conn)
		if miner {
			s.log.Info("miner lost", "conn", in.conn)
		} else if s.sched.HasJob(in.conn) {
			s.log.Info("client lost, job abandoned", "conn", in.conn)
		}
		acts := s.sched.Lost(in.conn, now)
		if miner {
			// The lost miner's chunk went back to the front of its job: these include it.
			for _, a := range acts.Assign {
				s.log.Info("work handed on", "lost", in.conn, "to", a.Miner, "data", a.Data, "lower", a.Lower, "upper", a.Upper)
			}
		}
		s.do(acts)
		return
	}
	msg, err := unmarshal(in.payload)
	if err != nil {
		s.reject(in.conn, "malformed message", err)
		return
	}
	var acts sched.Actions
	var ok bool
	switch msg.Type {
	case Join:
		acts, ok = s.sched.AddMiner(in.conn, now)
		if ok {
			total, _ := s.sched.Miners()
			s.log.Info("miner joined", "conn", in.conn, "miners", total)
		}
	case Request:
		acts, ok = s.sched.AddJob(in.conn, msg.Data, msg.Lower, msg.Upper, now)
		if ok {
			s.log.Info("job queued", "client", in.conn, "data", msg.Data, "lower", msg.Lower, "upper", msg.Upper)
			if total, _ := s.sched.Miners(); total == 0 {
				s.log.Warn("no miner connected: the job waits until one joins", "client", in.conn, "jobs_waiting", s.sched.Jobs())
			}
		}
	case Result:
		acts, ok = s.sched.MinerResult(in.conn, msg.Hash, msg.Nonce, now)
	}
	if !ok {
		s.reject(in.conn, "unexpected "+msg.String(), nil)
		return
	}
	s.do(acts)
}

// reject closes a connection that broke the protocol and forgets it.
func (s *server) reject(conn int, why string, err error) {
	s.rejected++
	s.log.Warn("closing connection that broke the protocol", "conn", conn, "why", why, "err", err)
	acts := s.sched.Lost(conn, s.cfg.Now())
	s.t.CloseConn(conn)
	s.do(acts)
}

// do sends the requests and answers the scheduler asked for. A write error means that
// connection is gone; the transport reports it through Read, which is where it is handled.
func (s *server) do(acts sched.Actions) {
	for _, a := range acts.Assign {
		s.t.Write(a.Miner, NewRequest(a.Data, a.Lower, a.Upper).marshal())
	}
	for _, a := range acts.Answers {
		s.log.Info("job answered", "client", a.Client, "hash", a.Hash, "nonce", a.Nonce)
		s.t.Write(a.Client, NewResult(a.Hash, a.Nonce).marshal())
		// The client's exchange is over; the client closes its side once it has read the answer.
	}
}

func (s *server) logProgress() {
	now := s.cfg.Now()
	total, busy := s.sched.Miners()
	if hashed := s.sched.Hashed(); hashed > s.lastHashed {
		rate := float64(hashed-s.lastHashed) / now.Sub(s.lastLog).Seconds()
		s.log.Info("cluster", "hashes_per_s", int64(rate), "miners_busy", busy, "miners", total, "jobs", s.sched.Jobs())
		s.lastHashed = hashed
	}
	s.lastLog = now
	for _, p := range s.sched.Progress() {
		elapsed := now.Sub(p.Start).Seconds()
		rate := 0.0
		if elapsed > 0 {
			rate = float64(p.Done) / elapsed
		}
		pct := 100.0
		if p.Total > 0 {
			pct = 100 * float64(p.Done) / float64(p.Total)
		}
		s.log.Info("job progress", "client", p.Client, "data", p.Data,
			"chunks_done", p.ChunksDone, "chunks_out", p.ChunksOut,
			"percent", int(pct), "hashes_per_s", int64(rate),
			"miners_busy", busy, "miners", total)
	}
}
