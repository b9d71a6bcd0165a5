// Command lspcat is netcat over LSP: it moves a byte stream reliably over UDP, however lossy
// the network.
//
//	lspcat [flags] -l PORT        receive: accept one client, print what it sends to stdout
//	lspcat [flags] HOST:PORT      send: read stdin, send it, exit once the receiver has it all
//
// The sender cuts stdin into messages of 1 to 1,000 bytes and, at the end of stdin, sends an
// empty message: the end of the stream. The receiver, on reading it, writes everything to
// stdout and answers with an empty message of its own; the sender exits once that answer
// arrives, and the receiver once its answer is acked (or after a few epochs). So both exit as
// soon as the transfer is done, without waiting out EpochLimit epochs of silence.
//
// Exit status 0 means the whole stream arrived: the receiver read the end of the stream and
// wrote everything to stdout; the sender saw the receiver's answer. Anything else (the peer
// lost before the end of the stream, a signal, a write error) exits 1, and the receiver still
// writes to stdout everything it received before exiting, signals included; usage errors exit
// 2. Both report the bytes moved and the rate on stderr. -drop N makes this process lose N
// percent of the datagrams it sends and N percent of those it receives, to see LSP recover.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"ds440/internal/cli"
	"ds440/lsp"
	"ds440/lsp/lspnet"
)

// chunk is the largest message the sender makes from stdin.
const chunk = 1000

type config struct {
	listen   bool
	port     int
	hostport string
	params   lsp.Params
	drop     int
}

func main() { cli.Main(program()) }

const doc = `Receive one client's stream and print it to stdout (-l PORT), or send stdin to a
receiver (HOST:PORT).

End of stream: after stdin's end the sender sends an empty message; the receiver, once it
has written everything to stdout, answers with an empty message. Both exit as soon as the
transfer is done: status 0 if the whole stream arrived, 1 if not (peer lost before the end of
the stream, a signal, an I/O error; a receiver still writes out everything it received),
2 for bad usage.`

// program is lspcat as a command: its flags fill a config, checked with its one argument.
func program() cli.Command {
	var cfg config
	return cli.Command{
		Name:    "lspcat",
		Args:    "-l PORT | HOST:PORT",
		Doc:     doc,
		MinArgs: 1,
		MaxArgs: 1,
		Flags:   cfg.flags,
		Run: func(ctx context.Context, env *cli.Env) error {
			if err := cfg.check(env.Args); err != nil {
				return err
			}
			if status := run(ctx, cfg, env.Stdin, env.Stdout, env.Log); status != exitComplete {
				return &cli.StatusError{Status: status}
			}
			return nil
		},
	}
}

// flags registers lspcat's flags on fs, to fill cfg.
func (cfg *config) flags(fs *flag.FlagSet) {
	fs.BoolVar(&cfg.listen, "l", false, "listen on PORT (0 picks a free one) and print what one client sends")
	cli.IntVar(fs, &cfg.drop, "drop", 0, "percent of datagrams this process loses in each direction (0-100)")
	cli.IntVar(fs, &cfg.params.WindowSize, "window", 64, "LSP window size; the unacked cap is the same")
	cli.IntVar(fs, &cfg.params.EpochMillis, "epoch-ms", 50, "LSP epoch length in milliseconds")
	cli.IntVar(fs, &cfg.params.EpochLimit, "epoch-limit", 20, "epochs of silence before the peer is declared lost")
	cli.IntVar(fs, &cfg.params.MaxBackOffInterval, "backoff", 4, "cap, in epochs, between retransmissions of a message")
}

// check completes cfg from the command's one argument, a port to listen on or the address to
// send to, and checks the flags; its errors are usage errors (exit 2).
func (cfg *config) check(args []string) error {
	cfg.params.MaxUnackedMessages = cfg.params.WindowSize
	switch {
	case len(args) != 1:
		return cli.Usagef("want exactly one of -l PORT or HOST:PORT")
	case cfg.drop > 100:
		return cli.Usagef("-drop %d: want a percentage 0-100", cfg.drop)
	case cfg.params.WindowSize < 1 || cfg.params.EpochMillis < 1 || cfg.params.EpochLimit < 1:
		return cli.Usagef("-window, -epoch-ms and -epoch-limit must be positive")
	}
	arg := args[0]
	if cfg.listen {
		p, err := cli.Port("port", arg)
		if err != nil {
			return err
		}
		cfg.port = p
		return nil
	}
	if _, _, err := lspnet.SplitHostPort(arg); err != nil {
		return cli.Usagef("bad address %q: want HOST:PORT", arg)
	}
	cfg.hostport = arg
	return nil
}

// Exit statuses.
const (
	exitComplete   = 0 // the whole stream arrived
	exitIncomplete = 1 // it did not, or an error
	exitUsage      = 2
)

// lingerEpochs bounds how long a receiver that has the whole stream waits for its answer to
// be acked (and never more than EpochLimit epochs, after which LSP gives the sender up): the
// sender exits once it has the answer, so a lost ack is never repaired, but leaving too soon
// leaves the answer unrepaired if every copy sent so far was lost. With backoff, 20 epochs
// give the answer about five tries (4 epochs gave two: with 30% loss, one sender in 12 never
// heard it and failed).
const lingerEpochs = 20

// drainQuiet is how long an interrupted receiver keeps reading, once its socket hears nothing
// more, for payloads LSP had already acked: they are queued in memory and come out at once.
const drainQuiet = 100 * time.Millisecond

// run does the work and returns the exit status.
func run(ctx context.Context, cfg config, stdin io.Reader, stdout io.Writer, log *slog.Logger) int {
	// The faults are this process's own network's, not process-wide settings.
	nw := lspnet.NewNetwork()
	nw.SetDropPercent(cfg.drop)
	if cfg.listen {
		s, err := lsp.NewServerWith(cfg.port, &cfg.params, lsp.WithListen(nw.ListenUDP))
		if err != nil {
			log.Error("listen", "err", err)
			return exitIncomplete
		}
		log.Info("listening", "port", portOf(s, cfg.port), "params", cfg.params.String(), "drop", cfg.drop)
		r := &receiver{s: s, nw: nw, out: bufio.NewWriterSize(stdout, 64<<10), log: log,
			epoch: time.Duration(cfg.params.EpochMillis) * time.Millisecond, epochLimit: cfg.params.EpochLimit}
		return r.run(ctx)
	}
	c, err := lsp.NewClientWith(cfg.hostport, 0, &cfg.params, lsp.WithDial(nw.DialUDP))
	if err != nil {
		log.Error("connect", "to", cfg.hostport, "err", err)
		return exitIncomplete
	}
	log.Info("connected", "to", cfg.hostport, "conn", c.ConnID(), "params", cfg.params.String(), "drop", cfg.drop)
	done := make(chan int, 1)
	go func() { done <- send(c, stdin, log) }()
	select {
	case status := <-done:
		return status
	case <-ctx.Done():
		// Closing could wait for acks that never come; a user who interrupts wants out now.
		log.Info("interrupted before the end of the stream")
		return exitIncomplete
	}
}

// portOf reports the port a server listens on, which the caller needs when it asked for 0.
func portOf(s lsp.Server, asked int) string {
	if a, ok := s.(interface{ Addr() string }); ok {
		if _, p, err := lspnet.SplitHostPort(a.Addr()); err == nil {
			return p
		}
	}
	return strconv.Itoa(asked)
}

type readResult struct {
	id      int
	payload []byte
	err     error
}

// receiver prints what the first client sends until the end of its stream. Other clients are
// turned away.
type receiver struct {
	s          lsp.Server
	nw         *lspnet.Network
	out        *bufio.Writer
	log        *slog.Logger
	epoch      time.Duration
	epochLimit int // the connection's EpochLimit

	client      int
	bytes       int64
	msgs        int
	first, last time.Time
	writeErr    error
	abandoned   bool // linger gave up waiting for Close
}

func (r *receiver) run(ctx context.Context) int {
	reads := make(chan readResult)
	stop := make(chan struct{})
	readerDone := make(chan struct{})
	go func() { // owned by run, which closes the server and then waits for it
		defer close(readerDone)
		for {
			id, p, err := r.s.Read()
			if errors.Is(err, lsp.ErrClosed) {
				return
			}
			select {
			case reads <- readResult{id, p, err}:
			case <-stop:
				return
			}
		}
	}()
	defer func() {
		close(stop)
		if r.abandoned {
			return // Close is still waiting out the sender; the process is about to exit
		}
		r.s.Close()
		<-readerDone
	}()
	for {
		select {
		case res := <-reads:
			if status, end := r.handle(res); end {
				return status
			}
		case <-ctx.Done():
			return r.interrupted(reads)
		}
	}
}

// handle takes one Read result and reports whether the run is over, with its status.
func (r *receiver) handle(res readResult) (int, bool) {
	switch {
	case res.err != nil && (r.client == 0 || res.id == r.client):
		r.log.Error("connection ended before the end of the stream", "conn", r.client, "reason", res.err)
		r.flush()
		r.report("transfer incomplete")
		return exitIncomplete, true
	case res.err != nil:
		return 0, false // some other client we turned away
	case r.client == 0:
		r.client, r.first = res.id, time.Now()
		r.log.Info("accepted", "conn", res.id)
	case res.id != r.client:
		r.log.Info("turning away a second client", "conn", res.id)
		r.s.CloseConn(res.id)
		return 0, false
	}
	if len(res.payload) == 0 { // the end of the stream
		if !r.flush() {
			return exitIncomplete, true
		}
		r.s.Write(r.client, nil) // the answer: everything is on stdout
		r.s.CloseConn(r.client)
		r.report("transfer complete")
		r.linger()
		return exitComplete, true
	}
	r.bytes += int64(len(res.payload))
	r.msgs++
	r.last = time.Now()
	if _, err := r.out.Write(res.payload); err != nil && r.writeErr == nil {
		r.writeErr = err
	}
	return 0, false
}

// interrupted handles a signal: the socket stops hearing the network, so that LSP acks
// nothing more, and every payload it already acked is read and written out before exiting.
func (r *receiver) interrupted(reads <-chan readResult) int {
	r.nw.SetReadDropPercent(100)
	quiet := time.NewTimer(drainQuiet)
	defer quiet.Stop()
drain:
	for {
		select {
		case res := <-reads:
			if status, end := r.handle(res); end {
				return status
			}
			quiet.Reset(drainQuiet)
		case <-quiet.C:
			break drain
		}
	}
	r.log.Info("interrupted before the end of the stream")
	r.flush()
	r.report("transfer incomplete")
	return exitIncomplete
}

// linger waits a few epochs for the answer to the end of the stream to be acked, so that the
// sender can exit 0; the stream is complete whether or not it is.
func (r *receiver) linger() {
	closed := make(chan struct{})
	go func() {
		r.s.Close()
		close(closed)
	}()
	t := time.NewTimer(time.Duration(min(lingerEpochs, r.epochLimit)) * r.epoch)
	defer t.Stop()
	select {
	case <-closed:
	case <-t.C:
		r.log.Info("the sender did not ack the answer to the end of the stream; exiting anyway")
		r.abandoned = true
	}
}

// flush writes out what is buffered and reports whether all of stdout was written.
func (r *receiver) flush() bool {
	if err := r.out.Flush(); r.writeErr == nil {
		r.writeErr = err
	}
	if r.writeErr != nil {
		r.log.Error("stdout", "err", r.writeErr)
		return false
	}
	return true
}

func (r *receiver) report(msg string) {
	elapsed := r.last.Sub(r.first)
	r.log.Info(msg, "conn", r.client, "bytes", r.bytes, "messages", r.msgs,
		"seconds", fmt.Sprintf("%.2f", elapsed.Seconds()), "rate", rate(r.bytes, elapsed))
}

// send sends stdin in messages of 1 to chunk bytes, then the end of the stream, and waits for
// the receiver's answer to it.
func send(c lsp.Client, stdin io.Reader, log *slog.Logger) int {
	defer c.Close()
	start := time.Now()
	buf := make([]byte, chunk)
	var bytes int64
	msgs := 0
	for {
		n, err := stdin.Read(buf)
		if n > 0 {
			if werr := c.Write(buf[:n]); werr != nil {
				log.Error("send", "err", werr)
				return exitIncomplete
			}
			bytes += int64(n)
			msgs++
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Error("stdin", "err", err)
			return exitIncomplete
		}
	}
	if err := c.Write(nil); err != nil {
		log.Error("send the end of the stream", "err", err)
		return exitIncomplete
	}
	answer, err := c.Read()
	switch {
	case err != nil:
		log.Error("the receiver did not confirm the end of the stream", "err", err)
		return exitIncomplete
	case len(answer) != 0:
		log.Error("the receiver answered with data, not the end of the stream", "bytes", len(answer))
		return exitIncomplete
	}
	elapsed := time.Since(start)
	log.Info("sent and acknowledged", "bytes", bytes, "messages", msgs,
		"seconds", fmt.Sprintf("%.2f", elapsed.Seconds()), "rate", rate(bytes, elapsed))
	return exitComplete
}

func rate(bytes int64, d time.Duration) string {
	if d <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f MB/s", float64(bytes)/1e6/d.Seconds())
}
