// Command kvserver serves a key-value store over TCP, speaking the kvserver text protocol and
// Redis's RESP2 on the same port.
//
//	kvserver [-port 9999] [-bind 127.0.0.1] [-v] [-aof FILE [-fsync always|everysec]]
//	kvserver -aof-check FILE     reports the intact records and damage of an append-only log
//	kvserver -aof-repair FILE    also writes FILE.repaired, a log of its intact records
//
// It prints "kvserver listening on HOST:PORT" to stderr once it accepts connections (-port 0
// picks a free port, so scripts wait for that line) and exits 0 on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"ds440/internal/cli"
	"ds440/kvserver"
)

// storeFlags, when another file of this program sets it (in an init function), registers the
// flags that choose a different store and returns a function that opens that store once the
// flags are parsed; a nil store from it means the default in-memory one. A store that is an
// io.Closer is closed after the server.
var storeFlags func(fs *flag.FlagSet) func(log *slog.Logger) (kvserver.KVStore, error)

// toolFlags, when another file of this program sets it, registers flags that run a one-off
// task instead of the server, and returns the function that runs it once the flags are parsed:
// it reports whether a task was asked for and, if so, the exit code.
var toolFlags func(fs *flag.FlagSet) func(out io.Writer) (code int, ran bool)

func main() { cli.Main(program()) }

// run is the program for tests: it parses args, serves until ctx is done and returns the exit
// status, writing everything (the usage of -h too) to stderr.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	return program().Exec(ctx, args, strings.NewReader(""), stderr, stderr)
}

func program() cli.Command {
	var (
		port      int
		bind      string
		verbose   bool
		cfg       kvserver.Config
		openStore func(*slog.Logger) (kvserver.KVStore, error)
		runTool   func(io.Writer) (int, bool)
	)
	return cli.Command{
		Name: "kvserver",
		Doc: `Kvserver serves a key-value store over TCP, speaking the kvserver text protocol and Redis's
RESP2 on the same port. It prints "kvserver listening on HOST:PORT" to stderr once it accepts
connections (-port 0 picks a free port) and exits 0 on SIGINT or SIGTERM.`,
		Flags: func(fs *flag.FlagSet) {
			cli.IntVar(fs, &port, "port", 9999, "TCP `port` to listen on (0 picks a free one)")
			fs.StringVar(&bind, "bind", "127.0.0.1", "address to listen on (0.0.0.0 serves other machines; there is no authentication)")
			fs.BoolVar(&verbose, "v", false, "log every connection")
			fs.Func("output-soft-limit", "`bytes` of unsent replies per client (k, m, g suffixes) above which the server stops reading a RESP client and drops text replies; 0 = no limit (default 2m)", sizeFlag(&cfg.OutputSoftLimit))
			fs.Func("output-hard-limit", "`bytes` of unsent replies per client (k, m, g suffixes) above which the client is disconnected; 0 = no limit (default 1g)", sizeFlag(&cfg.OutputHardLimit))
			fs.BoolVar(&cfg.PortableLoop, "portable", false, "serve each client with its own goroutines (the path of platforms without epoll) instead of Linux's event loop")
			if storeFlags != nil {
				openStore = storeFlags(fs)
			}
			if toolFlags != nil {
				runTool = toolFlags(fs)
			}
		},
		Run: func(ctx context.Context, env *cli.Env) error {
			if port > 65535 {
				return cli.Usagef("-port %d is not a port number (0 to 65535)", port)
			}
			if runTool != nil {
				if code, ran := runTool(env.Stderr); ran {
					return exitStatus(code)
				}
			}
			level := slog.LevelInfo
			if verbose {
				level = slog.LevelDebug
			}
			log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
			cfg.Host, cfg.Logger = bind, log
			return serve(ctx, env.Stderr, port, cfg, openStore)
		},
	}
}

// exitStatus ends the program with code, whose reason has been printed already.
func exitStatus(code int) error {
	if code == 0 {
		return nil
	}
	return &cli.StatusError{Status: code}
}

// serve opens the store, serves on port until ctx is done and closes both.
func serve(ctx context.Context, stderr io.Writer, port int, cfg kvserver.Config, openStore func(*slog.Logger) (kvserver.KVStore, error)) (err error) {
	log := cfg.Logger
	var store kvserver.KVStore
	if openStore != nil {
		if store, err = openStore(log); err != nil {
			return fmt.Errorf("cannot open the store: %w", err)
		}
	}
	if store == nil {
		store = kvserver.NewMemoryStore()
	}
	defer func() {
		if c, ok := store.(io.Closer); ok {
			if cerr := c.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("closing the store: %w", cerr)
			}
		}
	}()

	srv := kvserver.NewServer(store, cfg)
	if err := srv.Start(port); err != nil {
		return fmt.Errorf("cannot start: %w", err)
	}
	fmt.Fprintf(stderr, "kvserver listening on %s\n", srv.Addr())
	released := make(chan struct{})
	go func() {
		defer close(released)
		releaseMemory(ctx, srv, time.Second)
	}()
	<-ctx.Done()
	<-released
	log.Info("kvserver: shutting down", "clients", srv.CountActive())
	srv.Close()
	return nil
}

// sizeFlag parses a byte count with an optional k, m or g suffix (powers of 1024, as Redis's
// configuration reads "8mb") into *dst; 0 is stored as -1, the Config's "no limit".
func sizeFlag(dst *int) func(string) error {
	return func(s string) error {
		t := strings.TrimSuffix(strings.ToLower(s), "b")
		mult := 1
		if n := len(t); n > 0 {
			switch t[n-1] {
			case 'k':
				mult, t = 1<<10, t[:n-1]
			case 'm':
				mult, t = 1<<20, t[:n-1]
			case 'g':
				mult, t = 1<<30, t[:n-1]
			}
		}
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 || n > math.MaxInt/mult {
			return fmt.Errorf("want a byte count such as 65536, 64k, 8m or 1g, not %q", s)
		}
		*dst = n * mult
		if *dst == 0 {
			*dst = -1
		}
		return nil
	}
}

// releaseMemory gives the operating system back the memory of reply buffers once they have
// drained, checking every interval until ctx is done. The Go runtime returns freed memory only
// after a collection, which an idle server may not run for minutes; so when the bytes of unsent
// replies have fallen well below their peak since the last release, and that peak was large
// (clients that pipelined big replies and left, say), it collects and releases at once.
func releaseMemory(ctx context.Context, srv *kvserver.Server, interval time.Duration) {
	const worthIt = 8 << 20
	tick := time.NewTicker(interval)
	defer tick.Stop()
	peak := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			out := srv.Stats().OutputBytes
			peak = max(peak, out)
			if peak >= worthIt && out < peak/4 {
				debug.FreeOSMemory()
				peak = out
			}
		}
	}
}
