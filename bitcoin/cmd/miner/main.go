// Command miner joins a bitcoin server and mines the chunks it is given, on every core, until it
// is interrupted (exit 0) or loses the server (it prints "Disconnected", exit 1).
//
//	go run ./bitcoin/cmd/miner [flags] HOST:PORT
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"ds440/bitcoin"
	"ds440/bitcoin/internal/lspflag"
	"ds440/internal/cli"
	"ds440/lsp"
)

func main() {
	var (
		lspFlags lspflag.Flags
		workers  int
		every    time.Duration
	)
	cli.Main(cli.Command{
		Name: "miner",
		Args: "HOST:PORT",
		Doc: `Miner joins the bitcoin server at HOST:PORT and mines the chunks it is given, on every core,
logging its hash rate on stderr. Interrupted (SIGINT or SIGTERM), it leaves the server and
exits 0; if it loses the server, it prints "Disconnected" and exits 1.`,
		MinArgs: 1, MaxArgs: 1,
		Flags: func(fs *flag.FlagSet) {
			lspFlags.Register(fs)
			cli.IntVar(fs, &workers, "workers", runtime.GOMAXPROCS(0), "`goroutines` scanning each chunk")
			cli.DurationVar(fs, &every, "report", 5*time.Second, "`interval` of the hash-rate report on stderr")
		},
		Run: func(ctx context.Context, env *cli.Env) error {
			if workers < 1 {
				return cli.Usagef("-workers must be at least 1")
			}
			params, err := lspFlags.Params()
			if err != nil {
				return err
			}
			server := env.Args[0]
			conn, err := lsp.NewClient(server, rand.IntN(1<<16), params)
			if err != nil {
				fmt.Fprintln(env.Stdout, "Disconnected")
				return fmt.Errorf("cannot join server %s: %w", server, err)
			}
			env.Log.Info("joined server", "server", server, "workers", workers)
			err = bitcoin.Mine(ctx, conn, bitcoin.MinerConfig{Workers: workers, Logger: env.Log, ReportEvery: every})
			if err != nil {
				fmt.Fprintln(env.Stdout, "Disconnected")
				return err
			}
			// Mine returns nil only when ctx ended: the user asked the miner to stop. Its
			// unfinished chunk, if any, goes to another miner once the server notices it left.
			env.Log.Info("interrupted: left the server", "server", server)
			return nil
		},
	})
}
