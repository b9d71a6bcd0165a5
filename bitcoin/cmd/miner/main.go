// Command miner joins a bitcoin server and mines the chunks it is given, on every core.
//
//	go run ./bitcoin/cmd/miner [flags] HOST:PORT
package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"time"

	"ds440/bitcoin"
	"ds440/bitcoin/internal/cli"
	"ds440/lsp"
)

func main() {
	fs := cli.FlagSet("miner [flags] HOST:PORT")
	params := cli.LSPFlags(fs)
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "goroutines scanning each chunk")
	every := fs.Duration("report", 5*time.Second, "interval of the hash-rate report on stderr")
	args := cli.Parse(fs, os.Args[1:], 1)
	if *workers < 1 {
		cli.Usagef(fs, "-workers must be at least 1")
	}
	log := cli.Logger()
	// Signals are caught from here on, so a SIGINT at any point ends the program cleanly.
	ctx, stop := cli.SignalContext()
	defer stop()

	conn, err := lsp.NewClient(args[0], rand.IntN(1<<16), params())
	if err != nil {
		log.Error("cannot join server", "server", args[0], "err", err)
		fmt.Println("Disconnected")
		os.Exit(1)
	}
	log.Info("joined server", "server", args[0], "workers", *workers)
	if err := bitcoin.Mine(ctx, conn, bitcoin.MinerConfig{Workers: *workers, Logger: log, ReportEvery: *every}); err != nil {
		log.Error("miner stopped", "err", err)
		fmt.Println("Disconnected")
		os.Exit(1)
	}
}
