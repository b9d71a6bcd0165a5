// Command lspcat is netcat over LSP: it moves a byte stream reliably over UDP, however lossy
// the network.
//
//	lspcat [flags] -l PORT        receive: accept one client, print what it sends to stdout
//	lspcat [flags] HOST:PORT      send: read stdin, send it, exit once everything is acked
//
// The sender cuts stdin into messages of at most 1,000 bytes. The receiver exits when its
// client's connection ends (LSP has no goodbye: a finished sender falls silent and the
// receiver declares it gone after EpochLimit epochs). Both report the bytes moved and the
// rate on stderr. -drop N makes this process lose N percent of the datagrams it sends and N
// percent of those it receives, through lspnet, to see LSP recover.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

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

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := parseArgs(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lspcat:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, cfg, os.Stdin, os.Stdout, log))
}

// parseArgs reads the command line, printing usage to stderr on a mistake; errors are usage
// errors (exit 2).
func parseArgs(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("lspcat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage:\n  lspcat [flags] -l PORT    receive and print to stdout\n  lspcat [flags] HOST:PORT  send stdin\nflags:\n")
		fs.PrintDefaults()
	}
	var cfg config
	fs.BoolVar(&cfg.listen, "l", false, "listen on PORT (0 picks a free one) and print what one client sends")
	fs.IntVar(&cfg.drop, "drop", 0, "percent of datagrams this process loses in each direction (0-100)")
	fs.IntVar(&cfg.params.WindowSize, "window", 64, "LSP window size; the unacked cap is the same")
	fs.IntVar(&cfg.params.EpochMillis, "epoch-ms", 50, "LSP epoch length in milliseconds")
	fs.IntVar(&cfg.params.EpochLimit, "epoch-limit", 20, "epochs of silence before the peer is declared lost")
	fs.IntVar(&cfg.params.MaxBackOffInterval, "backoff", 4, "cap, in epochs, between retransmissions of a message")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	cfg.params.MaxUnackedMessages = cfg.params.WindowSize
	switch {
	case fs.NArg() != 1:
		fs.Usage()
		return cfg, errors.New("want exactly one of -l PORT or HOST:PORT")
	case cfg.drop < 0 || cfg.drop > 100:
		return cfg, fmt.Errorf("-drop %d: want a percentage 0-100", cfg.drop)
	case cfg.params.WindowSize < 1 || cfg.params.EpochMillis < 1 || cfg.params.EpochLimit < 1 || cfg.params.MaxBackOffInterval < 0:
		return cfg, errors.New("-window, -epoch-ms and -epoch-limit must be positive, -backoff not negative")
	}
	arg := fs.Arg(0)
	if cfg.listen {
		p, err := strconv.Atoi(arg)
		if err != nil || p < 0 || p > 65535 {
			return cfg, fmt.Errorf("bad port %q", arg)
		}
		cfg.port = p
		return cfg, nil
	}
	if _, _, err := lspnet.SplitHostPort(arg); err != nil {
		return cfg, fmt.Errorf("bad address %q: want HOST:PORT", arg)
	}
	cfg.hostport = arg
	return cfg, nil
}

// run does the work and returns the exit status. A signal ends it with status 0.
func run(ctx context.Context, cfg config, stdin io.Reader, stdout io.Writer, log *slog.Logger) int {
	if cfg.drop > 0 {
		lspnet.SetClientReadDropPercent(cfg.drop)
		lspnet.SetClientWriteDropPercent(cfg.drop)
		lspnet.SetServerReadDropPercent(cfg.drop)
		lspnet.SetServerWriteDropPercent(cfg.drop)
	}
	done := make(chan int, 1)
	if cfg.listen {
		s, err := lsp.NewServer(cfg.port, &cfg.params)
		if err != nil {
			log.Error("listen", "err", err)
			return 1
		}
		log.Info("listening", "port", portOf(s, cfg.port), "params", cfg.params.String(), "drop", cfg.drop)
		go func() { done <- receive(s, stdout, log) }()
	} else {
		c, err := lsp.NewClient(cfg.hostport, 0, &cfg.params)
		if err != nil {
			log.Error("connect", "to", cfg.hostport, "err", err)
			return 1
		}
		log.Info("connected", "to", cfg.hostport, "conn", c.ConnID(), "params", cfg.params.String(), "drop", cfg.drop)
		go func() { done <- send(c, stdin, log) }()
	}
	select {
	case status := <-done:
		return status
	case <-ctx.Done():
		// Closing could wait for acks that never come; a user who interrupts wants out now.
		log.Info("interrupted")
		return 0
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

// receive prints what the first client sends until its connection ends. Other clients are
// turned away.
func receive(s lsp.Server, stdout io.Writer, log *slog.Logger) int {
	out := bufio.NewWriterSize(stdout, 64<<10)
	var (
		client   int
		bytes    int64
		msgs     int
		first    time.Time
		last     time.Time
		writeErr error
	)
	for {
		id, payload, err := s.Read()
		switch {
		case err != nil && (client == 0 || id == client):
			if ferr := out.Flush(); writeErr == nil {
				writeErr = ferr
			}
			elapsed := last.Sub(first)
			log.Info("connection ended", "conn", client, "reason", err, "bytes", bytes, "messages", msgs,
				"seconds", fmt.Sprintf("%.2f", elapsed.Seconds()), "rate", rate(bytes, elapsed))
			s.Close()
			if writeErr != nil {
				log.Error("stdout", "err", writeErr)
				return 1
			}
			return 0
		case err != nil:
			continue // some other client we turned away
		case client == 0:
			client, first = id, time.Now()
			log.Info("accepted", "conn", id)
		case id != client:
			log.Info("turning away a second client", "conn", id)
			s.CloseConn(id)
			continue
		}
		bytes += int64(len(payload))
		msgs++
		last = time.Now()
		if _, err := out.Write(payload); err != nil && writeErr == nil {
			writeErr = err
		}
	}
}

// send sends stdin in messages of at most chunk bytes, then closes, which waits for the acks.
func send(c lsp.Client, stdin io.Reader, log *slog.Logger) int {
	start := time.Now()
	buf := make([]byte, chunk)
	var bytes int64
	msgs := 0
	for {
		n, err := stdin.Read(buf)
		if n > 0 {
			if werr := c.Write(buf[:n]); werr != nil {
				log.Error("send", "err", werr)
				c.Close()
				return 1
			}
			bytes += int64(n)
			msgs++
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Error("stdin", "err", err)
			c.Close()
			return 1
		}
	}
	if err := c.Close(); err != nil {
		log.Error("close: not everything was acknowledged", "err", err)
		return 1
	}
	elapsed := time.Since(start)
	log.Info("sent and acknowledged", "bytes", bytes, "messages", msgs,
		"seconds", fmt.Sprintf("%.2f", elapsed.Seconds()), "rate", rate(bytes, elapsed))
	return 0
}

func rate(bytes int64, d time.Duration) string {
	if d <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f MB/s", float64(bytes)/1e6/d.Seconds())
}
