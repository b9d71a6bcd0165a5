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

// LSPFlags registers the LSP tuning flags on fs and returns a function that builds the Params
// once fs is parsed. The defaults suit a loopback or LAN cluster: a lost peer is noticed within
// a few seconds rather than the protocol's conservative default.
func LSPFlags(fs *flag.FlagSet) func() *lsp.Params {
	p := lsp.NewParams()
	epochMillis := fs.Int("epoch-ms", 500, "LSP epoch length in milliseconds")
	epochLimit := fs.Int("epoch-limit", 10, "LSP epochs of silence before a peer is declared lost")
	window := fs.Int("window", 16, "LSP sliding window size")
	return func() *lsp.Params {
		p.EpochMillis, p.EpochLimit = *epochMillis, *epochLimit
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
