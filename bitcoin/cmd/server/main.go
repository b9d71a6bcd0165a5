// Command server runs the bitcoin mining server: clients and miners connect to it over LSP on
// one UDP port.
//
//	go run ./bitcoin/cmd/server [flags] PORT
package main

import (
	"os"
	"time"

	"ds440/bitcoin"
	"ds440/bitcoin/internal/cli"
	"ds440/lsp"
)

func main() {
	fs := cli.FlagSet("server [flags] PORT")
	params := cli.LSPFlags(fs)
	every := fs.Duration("progress", 5*time.Second, "interval of the per-job progress log")
	args := cli.Parse(fs, os.Args[1:], 1)
	port := cli.Port(fs, args[0])
	log := cli.Logger()
	// Signals are caught from here on, so a SIGINT at any point ends the program cleanly.
	ctx, stop := cli.SignalContext()
	defer stop()

	p := params()
	srv, err := lsp.NewServer(port, p)
	if err != nil {
		log.Error("cannot start server", "port", port, "err", err)
		os.Exit(1)
	}
	log.Info("server listening", "port", port, "epoch_ms", p.EpochMillis, "epoch_limit", p.EpochLimit)
	err = bitcoin.Serve(ctx, srv, bitcoin.ServerConfig{
		Logger:          log,
		ProgressEvery:   *every,
		TransportClosed: cli.TransportClosed,
	})
	if err != nil {
		log.Error("server stopped", "err", err)
		os.Exit(1)
	}
	log.Info("server stopped")
}
