// Command client asks a bitcoin server for the nonce in [0, MAXNONCE] with the smallest hash of
// MESSAGE, and prints "Result HASH NONCE", or "Disconnected" if the server is lost first. With
// -verify it re-scans the range itself and fails on a wrong answer.
//
//	go run ./bitcoin/cmd/client [flags] HOST:PORT MESSAGE MAXNONCE
package main

import (
	"context"
	"errors"
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

// stillWaiting is how long the client waits for its answer before it says, once, why an answer
// can take long: the server answers only once miners have scanned the whole range, and a job
// waits there while no miner is connected. The protocol has no message that says so.
const stillWaiting = 3 * time.Second

func main() {
	var (
		lspFlags lspflag.Flags
		verify   bool
	)
	cli.Main(cli.Command{
		Name: "client",
		Args: "HOST:PORT MESSAGE MAXNONCE",
		Doc: `Client asks the bitcoin server at HOST:PORT for the nonce in [0, MAXNONCE] with the smallest
hash of MESSAGE and prints "Result HASH NONCE", or "Disconnected" (exit 1) if the server is lost
first. The job waits at the server until miners have scanned every nonce.`,
		MinArgs: 3, MaxArgs: 3,
		Flags: func(fs *flag.FlagSet) {
			lspFlags.Register(fs)
			fs.BoolVar(&verify, "verify", false, "re-check the answer with a local scan of every nonce (slow for big jobs)")
		},
		Run: func(ctx context.Context, env *cli.Env) error {
			server, data := env.Args[0], env.Args[1]
			maxNonce, err := cli.Uint("MAXNONCE", env.Args[2])
			if err != nil {
				return err
			}
			params, err := lspFlags.Params()
			if err != nil {
				return err
			}
			conn, err := lsp.NewClient(server, rand.IntN(1<<16), params)
			if err != nil {
				fmt.Fprintln(env.Stdout, "Disconnected")
				return fmt.Errorf("cannot reach server %s: %w", server, err)
			}
			defer conn.Close()
			start := time.Now()
			env.Log.Info("job sent, waiting for the answer", "server", server, "data", data, "max_nonce", maxNonce)
			note := time.AfterFunc(stillWaiting, func() {
				env.Log.Info("no answer yet: the server answers once miners have scanned every nonce, and the job waits there while no miner is connected",
					"waited", stillWaiting)
			})
			hash, nonce, err := bitcoin.Submit(ctx, conn, data, 0, maxNonce)
			note.Stop()
			switch {
			case errors.Is(err, bitcoin.ErrDisconnected):
				fmt.Fprintln(env.Stdout, "Disconnected")
				return err
			case err != nil:
				return errors.New("interrupted before the answer")
			}
			env.Log.Info("answered", "elapsed", time.Since(start).Round(time.Millisecond), "max_nonce", maxNonce)
			fmt.Fprintln(env.Stdout, "Result", hash, nonce)
			if !verify {
				return nil
			}
			wantHash, wantNonce, _ := bitcoin.ScanParallel(data, 0, maxNonce, runtime.GOMAXPROCS(0), nil)
			if wantHash != hash || wantNonce != nonce {
				fmt.Fprintf(env.Stdout, "MISMATCH: a local scan finds Result %d %d\n", wantHash, wantNonce)
				return errors.New("the server's answer differs from a local scan")
			}
			fmt.Fprintf(env.Stdout, "Verified by a local scan of the nonces 0 to %d\n", maxNonce)
			return nil
		},
	})
}
