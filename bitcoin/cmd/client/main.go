// Command client asks a bitcoin server for the nonce in [0, MAXNONCE] with the smallest hash of
// MESSAGE, and prints "Result HASH NONCE", or "Disconnected" if the server is lost first. With
// -verify it re-scans the range itself and fails on a wrong answer.
//
//	go run ./bitcoin/cmd/client [flags] HOST:PORT MESSAGE MAXNONCE
package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"time"

	"ds440/bitcoin"
	"ds440/bitcoin/internal/cli"
	"ds440/lsp"
)

func main() {
	fs := cli.FlagSet("client [flags] HOST:PORT MESSAGE MAXNONCE")
	params := cli.LSPFlags(fs)
	verify := fs.Bool("verify", false, "re-check the answer with a local scan of every nonce (slow for big jobs)")
	args := cli.Parse(fs, os.Args[1:], 3)
	maxNonce, err := strconv.ParseUint(args[2], 10, 64)
	if err != nil {
		cli.Usagef(fs, "bad MAXNONCE %q: want an unsigned integer", args[2])
	}
	log := cli.Logger()
	// Signals are caught from here on, so a SIGINT at any point ends the program cleanly.
	ctx, stop := cli.SignalContext()
	defer stop()

	conn, err := lsp.NewClient(args[0], rand.IntN(1<<16), params())
	if err != nil {
		log.Error("cannot reach server", "server", args[0], "err", err)
		fmt.Println("Disconnected")
		os.Exit(1)
	}
	start := time.Now()
	hash, nonce, err := bitcoin.Submit(ctx, conn, args[1], 0, maxNonce)
	switch {
	case errors.Is(err, bitcoin.ErrDisconnected):
		fmt.Println("Disconnected")
		os.Exit(1)
	case err != nil: // interrupted
		os.Exit(130)
	}
	log.Info("answered", "elapsed", time.Since(start).Round(time.Millisecond), "nonces", maxNonce+1)
	conn.Close()
	fmt.Println("Result", hash, nonce)
	if *verify {
		wantHash, wantNonce, _ := bitcoin.ScanParallel(args[1], 0, maxNonce, runtime.GOMAXPROCS(0), nil)
		if wantHash != hash || wantNonce != nonce {
			fmt.Printf("MISMATCH: a local scan finds Result %d %d\n", wantHash, wantNonce)
			os.Exit(1)
		}
		fmt.Println("Verified by a local scan of", maxNonce+1, "nonces")
	}
}
