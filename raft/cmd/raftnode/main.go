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
	"flag"
	"fmt"
	"net"
	"strings"
	"time"

	"ds440/internal/cli"
	"ds440/raft"
)

func main() { cli.Main(program()) }

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

// program is raftnode's program: its flags fill an options, which run checks and serves.
func program() cli.Command {
	var o options
	var peers, clients string
	return cli.Command{
		Name: "raftnode",
		Doc: `Raftnode runs one server of a replicated key/value store on Raft; -peers lists every
server's Raft address in id order, its own included. Example:

  raftnode -id 0 -peers 127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 -data /tmp/n0 -http 127.0.0.1:8000

The HTTP API (PUT/GET /kv/{key}, GET /status) is described in the package documentation
(go doc ds440/raft/cmd/raftnode).`,
		Flags: func(fs *flag.FlagSet) {
			fs.IntVar(&o.id, "id", -1, "this server's index in -peers (required)")
			fs.StringVar(&peers, "peers", "", "comma-separated Raft addresses (host:port) of all servers, in id order (required)")
			fs.StringVar(&o.dataDir, "data", "", "directory for the durable Raft state and snapshots (required)")
			fs.StringVar(&o.httpAddr, "http", "", "client HTTP address (default: this server's entry in -clients, else 127.0.0.1:0)")
			fs.StringVar(&clients, "clients", "", "comma-separated HTTP addresses of all servers, in id order (to refer clients to the leader)")
			fs.Int64Var(&o.maxValue, "max-value", 1<<20, "largest value a PUT accepts, in bytes")
			cli.DurationVar(fs, &o.commitTimeout, "commit-timeout", 5*time.Second, "how long a write or consistent read waits to be applied before answering 504")
			cli.IntVar(fs, &o.snapshotEvery, "snapshot-every", 1000, "take a snapshot after this many applied commands (0: never)")
			cli.DurationVar(fs, &o.election, "election-timeout", raft.DefaultElectionTimeout, "minimum election timeout")
			cli.DurationVar(fs, &o.heartbeat, "heartbeat", raft.DefaultHeartbeatInterval, "heartbeat interval")
		},
		Run: func(ctx context.Context, env *cli.Env) error {
			if peers != "" {
				o.peers = strings.Split(peers, ",")
			}
			if clients != "" {
				o.clients = strings.Split(clients, ",")
			}
			if err := o.check(); err != nil {
				return err
			}
			return run(ctx, o, env)
		},
	}
}

// check reports the first option that is missing or wrong as a usage error, and fills in the
// HTTP address from -clients.
func (o *options) check() error {
	switch {
	case len(o.peers) == 0:
		return cli.Usagef("-peers is required")
	case o.id < 0 || o.id >= len(o.peers):
		return cli.Usagef("-id must be in [0, %d)", len(o.peers))
	case o.dataDir == "":
		return cli.Usagef("-data is required")
	case o.heartbeat <= 0 || o.election <= o.heartbeat:
		return cli.Usagef("need 0 < -heartbeat < -election-timeout")
	case len(o.clients) > 0 && len(o.clients) != len(o.peers):
		return cli.Usagef("-clients has %d addresses, -peers %d", len(o.clients), len(o.peers))
	case o.maxValue <= 0:
		return cli.Usagef("-max-value must be positive")
	case o.commitTimeout <= 0:
		return cli.Usagef("-commit-timeout must be positive")
	}
	if o.httpAddr == "" {
		o.httpAddr = "127.0.0.1:0"
		if len(o.clients) > 0 {
			o.httpAddr = o.clients[o.id]
		}
	}
	for _, p := range append(append([]string(nil), o.peers...), o.clients...) {
		if _, _, err := net.SplitHostPort(p); err != nil {
			return cli.Usagef("bad address %q: %v", p, err)
		}
	}
	return nil
}

// run serves until ctx ends (exit 0) or the node fails (exit 1).
func run(ctx context.Context, o options, env *cli.Env) error {
	logger := env.Log.With("node", o.id)
	n, err := startNode(o, logger)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	// A Raft that cannot persist stops itself; the process then exits so a supervisor can act.
	check := time.NewTicker(500 * time.Millisecond)
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			logger.Info("raftnode: shutting down")
			n.Close()
			return nil
		case err := <-n.failed:
			n.Close()
			return fmt.Errorf("stopped: %w", err)
		case <-check.C:
			if err := n.rf.Err(); err != nil {
				n.Close()
				return fmt.Errorf("raft stopped: %w", err)
			}
		}
	}
}
