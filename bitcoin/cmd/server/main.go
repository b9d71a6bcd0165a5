// Command server runs the bitcoin mining server: clients and miners connect to it over LSP on
// one UDP port.
//
//	go run ./bitcoin/cmd/server [flags] PORT
package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"ds440/bitcoin"
	"ds440/bitcoin/internal/lspflag"
	"ds440/internal/cli"
	"ds440/lsp"
)

func main() {
	var (
		lspFlags lspflag.Flags
		every    time.Duration
	)
	cli.Main(cli.Command{
		Name: "server",
		Args: "PORT",
		Doc: `Server accepts bitcoin clients and miners on UDP port PORT (0: any free port), splits each
client's job into chunks over the miners and answers the client with the nonce of smallest
hash. Jobs wait while no miner is connected. Logs go to stderr.`,
		MinArgs: 1, MaxArgs: 1,
		Flags: func(fs *flag.FlagSet) {
			lspFlags.Register(fs)
			cli.DurationVar(fs, &every, "progress", 5*time.Second, "`interval` of the per-job progress log")
		},
		Run: func(ctx context.Context, env *cli.Env) error {
			port, err := cli.Port("PORT", env.Args[0])
			if err != nil {
				return err
			}
			params, err := lspFlags.Params()
			if err != nil {
				return err
			}
			srv, err := lsp.NewServer(port, params)
			if err != nil {
				return fmt.Errorf("cannot listen on UDP port %d: %w", port, err)
			}
			env.Log.Info("server listening", "port", port, "epoch_ms", params.EpochMillis, "epoch_limit", params.EpochLimit)
			err = bitcoin.Serve(ctx, srv, bitcoin.ServerConfig{
				Logger:          env.Log,
				ProgressEvery:   every,
				TransportClosed: lspflag.TransportClosed,
			})
			if err != nil {
				return err
			}
			env.Log.Info("server stopped")
			return nil
		},
	})
}
