// Package cli holds what the bitcoin programs share: LSP tuning flags, usage errors and the
// process conventions (logs on stderr, exit 2 on bad arguments, clean exit on SIGINT).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"ds440/lsp"
)

// FlagSet returns the flag set of a program whose usage line is usage ("name [flags] ARGS").
func FlagSet(usage string) *flag.FlagSet {
	name, _, _ := strings.Cut(usage, " ")
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage:", usage)
		fs.PrintDefaults()
	}
	return fs
}

// Defaults of the LSP flags. LSP sends a heartbeat every epoch and declares a peer lost after
// EpochLimit epochs without a word from it, so by default a dead miner (or client, or server)
// is noticed within DefaultEpoch*DefaultEpochLimit: a second, which costs a few hundred bytes a
// second per connection on a loopback or LAN cluster.
const (
	DefaultEpoch      = 200 * time.Millisecond
	DefaultEpochLimit = 5
)

// LSPFlags registers the LSP tuning flags on fs (-epoch, -epoch-limit, -window, and -epoch-ms,
// the older form of -epoch) and returns a function that builds the Params once fs is parsed,
// exiting 2 with the usage if they make no sense. Both ends of a connection should use the same
// epoch: a peer that sends its heartbeats less often than the other side's epoch*limit is
// declared lost while it is alive.
func LSPFlags(fs *flag.FlagSet) func() *lsp.Params {
	epoch := fs.Duration("epoch", DefaultEpoch, "LSP epoch: heartbeat and retransmission interval (whole milliseconds)")
	epochMillis := fs.Int("epoch-ms", 0, "LSP epoch in milliseconds; overrides -epoch when set (older form)")
	epochLimit := fs.Int("epoch-limit", DefaultEpochLimit, "LSP epochs of silence before a peer is declared lost")
	window := fs.Int("window", 16, "LSP sliding window size")
	return func() *lsp.Params {
		millis := int(*epoch / time.Millisecond)
		if *epochMillis != 0 {
			millis = *epochMillis
		}
		switch {
		case millis < 1:
			Usagef(fs, "the LSP epoch must be at least 1ms")
		case *epochLimit < 1:
			Usagef(fs, "-epoch-limit must be at least 1")
		case *window < 1:
			Usagef(fs, "-window must be at least 1")
		}
		p := lsp.NewParams()
		p.EpochMillis, p.EpochLimit = millis, *epochLimit
		p.WindowSize, p.MaxUnackedMessages = *window, *window
		p.MaxBackOffInterval = 4
		return p
	}
}

// Parse parses args with fs and checks the number of positional arguments; on a mistake it
// prints the usage and exits 2.
func Parse(fs *flag.FlagSet, args []string, positional int) []string {
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	} else if err != nil {
		os.Exit(2) // fs has printed the error and the usage
	}
	if fs.NArg() != positional {
		Usagef(fs, "expected %d arguments, got %d", positional, fs.NArg())
	}
	return fs.Args()
}

// Usagef prints a message and the usage of fs, then exits 2.
func Usagef(fs *flag.FlagSet, format string, args ...any) {
	fmt.Fprintf(fs.Output(), "%s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fs.Usage()
	os.Exit(2)
}

// Port parses a UDP port number for fs's program, exiting 2 if it is not one.
func Port(fs *flag.FlagSet, s string) int {
	port, err := strconv.Atoi(s)
	if err != nil || port < 0 || port > 65535 {
		Usagef(fs, "bad port %q", s)
	}
	return port
}

// Logger returns the programs' logger: text on stderr.
func Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}

// SignalContext returns a context that ends on SIGINT or SIGTERM.
func SignalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// TransportClosed tells bitcoin.Serve which lsp.Server errors mean the server itself is closed,
// as opposed to one lost connection.
func TransportClosed(err error) bool { return errors.Is(err, lsp.ErrClosed) }
