// Package lspflag holds the LSP tuning flags the bitcoin programs share (-epoch, -epoch-ms,
// -epoch-limit, -window). Everything else a program needs (usage, exit statuses, signals,
// logging) comes from the module's program main, ds440/internal/cli.
package lspflag

import (
	"errors"
	"flag"
	"time"

	"ds440/internal/cli"
	"ds440/lsp"
)

// Defaults of the flags. LSP sends a heartbeat every epoch and declares a peer lost after
// EpochLimit epochs without a word from it, so by default a dead miner (or client, or server)
// is noticed within DefaultEpoch*DefaultEpochLimit: a second, which costs a few hundred bytes a
// second per connection on a loopback or LAN cluster.
const (
	DefaultEpoch      = 200 * time.Millisecond
	DefaultEpochLimit = 5
	DefaultWindow     = 16
)

// Flags are the LSP tuning flags of one program. Both ends of a connection should use the same
// epoch: a peer that sends its heartbeats less often than the other side's epoch*limit is
// declared lost while it is alive.
type Flags struct {
	epoch       time.Duration
	epochMillis int
	epochLimit  int
	window      int
}

// Register defines the flags on fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	cli.DurationVar(fs, &f.epoch, "epoch", DefaultEpoch, "LSP epoch, the heartbeat and retransmission `interval` (whole milliseconds)")
	cli.IntVar(fs, &f.epochMillis, "epoch-ms", 0, "LSP epoch in `milliseconds`; overrides -epoch when set (older form)")
	cli.IntVar(fs, &f.epochLimit, "epoch-limit", DefaultEpochLimit, "`epochs` of silence before LSP declares a peer lost")
	cli.IntVar(fs, &f.window, "window", DefaultWindow, "LSP sliding window size, in `messages`")
}

// Params builds the LSP parameters once the flags are parsed, or returns a usage error
// (cli.Usagef) if they make no sense.
func (f *Flags) Params() (*lsp.Params, error) {
	millis := int(f.epoch / time.Millisecond)
	if f.epochMillis != 0 {
		millis = f.epochMillis
	}
	switch {
	case millis < 1:
		return nil, cli.Usagef("the LSP epoch must be at least 1ms")
	case f.epochLimit < 1:
		return nil, cli.Usagef("-epoch-limit must be at least 1")
	case f.window < 1:
		return nil, cli.Usagef("-window must be at least 1")
	}
	p := lsp.NewParams()
	p.EpochMillis, p.EpochLimit = millis, f.epochLimit
	p.WindowSize, p.MaxUnackedMessages = f.window, f.window
	p.MaxBackOffInterval = 4
	return p, nil
}

// TransportClosed tells bitcoin.Serve which lsp.Server errors mean the server itself is closed,
// as opposed to one lost connection.
func TransportClosed(err error) bool { return errors.Is(err, lsp.ErrClosed) }
