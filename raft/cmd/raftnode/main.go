// Command raftnode runs one server of a replicated key/value store on Raft, talking to its
// peers over TCP and keeping its state in a data directory (FilePersister), so a cluster of
// separate processes survives crashes and restarts.
//
// Usage:
//
//	raftnode -id 0 -peers 127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 -data /tmp/n0 -http 127.0.0.1:8000
//
// -peers lists every server's Raft address in id order, its own included; -clients, if given,
// lists their HTTP addresses in the same order, so a follower can name the leader's. The HTTP
// port is the client interface (values are raw bytes, any content):
//
//	PUT /kv/{key}   body is the value; replies once committed and applied (only on the
//	                leader) with JSON {"index","term","swapped","duplicate"}: 200, or 413 if
//	                the body is over -max-value.
//	                ?expect=V (V URL-encoded): compare-and-set, written only if the key holds V;
//	                ?expect-absent=1: only if the key does not exist. 412 if not swapped.
//	                ?client=C&seq=S (positive integers): a client numbers its requests and
//	                retries one with the same S until answered; it is applied once, and a retry
//	                gets the first answer with "duplicate":true.
//	GET /kv/{key}   the value's bytes (application/octet-stream; 404 if absent) as this server
//	                has applied them, possibly stale; with ?consistent=1 the leader answers
//	                after a read entry commits, so the value reflects every write committed
//	                before the request. The X-Raft-Applied header is the log index read at.
//	GET /status     JSON: id, term, role, leader (id) and leaderAddr, commit and apply indexes
//
// A write or consistent read on a follower gets 421 with JSON {"error","leader","leaderId"},
// leader being the leader's HTTP address ("" if unknown). 504 means the outcome is unknown
// (not committed in time): the write may still take effect, so retry it with the same seq.
// 409 means it was definitely not applied.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"ds440/raft"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

type options struct {
	id            int
	peers         []string
	dataDir       string
	httpAddr      string
	snapshotEvery int
	election      time.Duration
	heartbeat     time.Duration
	clients       []string // HTTP addresses of all servers, in id order; may be empty
	maxValue      int64
	commitTimeout time.Duration
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("raftnode", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	var o options
	var peers, clients string
	fs.IntVar(&o.id, "id", -1, "this server's index in -peers")
	fs.StringVar(&peers, "peers", "", "comma-separated Raft addresses (host:port) of all servers, in id order")
	fs.StringVar(&o.dataDir, "data", "", "directory for the durable Raft state and snapshots")
	fs.StringVar(&o.httpAddr, "http", "", "client HTTP address (default: this server's entry in -clients, else 127.0.0.1:0)")
	fs.StringVar(&clients, "clients", "", "comma-separated HTTP addresses of all servers, in id order (to refer clients to the leader)")
	fs.Int64Var(&o.maxValue, "max-value", 1<<20, "largest value a PUT accepts, in bytes")
	fs.DurationVar(&o.commitTimeout, "commit-timeout", 5*time.Second, "how long a write or consistent read waits to be applied before answering 504")
	fs.IntVar(&o.snapshotEvery, "snapshot-every", 1000, "take a snapshot after this many applied commands (0: never)")
	fs.DurationVar(&o.election, "election-timeout", raft.DefaultElectionTimeout, "minimum election timeout")
	fs.DurationVar(&o.heartbeat, "heartbeat", raft.DefaultHeartbeatInterval, "heartbeat interval")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: raftnode -id N -peers host:port,host:port,... -data DIR [-http host:port] [-clients host:port,...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if peers != "" {
		o.peers = strings.Split(peers, ",")
	}
	if clients != "" {
		o.clients = strings.Split(clients, ",")
	}
	switch {
	case len(o.peers) == 0:
		return o, errors.New("-peers is required")
	case o.id < 0 || o.id >= len(o.peers):
		return o, fmt.Errorf("-id must be in [0, %d)", len(o.peers))
	case o.dataDir == "":
		return o, errors.New("-data is required")
	case o.snapshotEvery < 0:
		return o, errors.New("-snapshot-every must not be negative")
	case o.heartbeat <= 0 || o.election <= o.heartbeat:
		return o, errors.New("need 0 < -heartbeat < -election-timeout")
	case len(o.clients) > 0 && len(o.clients) != len(o.peers):
		return o, fmt.Errorf("-clients has %d addresses, -peers %d", len(o.clients), len(o.peers))
	case o.maxValue <= 0:
		return o, errors.New("-max-value must be positive")
	case o.commitTimeout <= 0:
		return o, errors.New("-commit-timeout must be positive")
	}
	if o.httpAddr == "" {
		o.httpAddr = "127.0.0.1:0"
		if len(o.clients) > 0 {
			o.httpAddr = o.clients[o.id]
		}
	}
	for _, p := range append(append([]string(nil), o.peers...), o.clients...) {
		if _, _, err := net.SplitHostPort(p); err != nil {
			return o, fmt.Errorf("bad address %q: %v", p, err)
		}
	}
	return o, nil
}

func run(args []string) int {
	o, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "raftnode: %v\n", err)
		fmt.Fprintln(os.Stderr, "usage: raftnode -id N -peers host:port,host:port,... -data DIR [-http host:port] [-clients host:port,...]")
		return 2
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("node", o.id)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := startNode(o, logger)
	if err != nil {
		logger.Error("raftnode: start", "err", err)
		return 1
	}
	// A Raft that cannot persist stops itself; the process then exits so a supervisor can act.
	check := time.NewTicker(500 * time.Millisecond)
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			logger.Info("raftnode: shutting down")
			n.Close()
			return 0
		case err := <-n.failed:
			logger.Error("raftnode: stopped", "err", err)
			n.Close()
			return 1
		case <-check.C:
			if err := n.rf.Err(); err != nil {
				logger.Error("raftnode: raft stopped", "err", err)
				n.Close()
				return 1
			}
		}
	}
}
