// Command kvstored runs one kvstore server and prints its desc, which later servers take as
// arguments to join the cluster.
//
//	go run ./kvstore/cmd/kvstored -port 6000 -actors 4 [-peer-acks 1] [DESC...]
//
// By default a Put is answered at once from memory, so one acknowledged less than a sync
// interval before the server is killed dies with it; -peer-acks 1 answers it only once another
// server holds it (kvstore.Config.PeerAcks).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"strconv"
	"time"

	"ds440/actor"
	"ds440/internal/cli"
	"ds440/kvstore"
)

func main() { cli.Main(program()) }

// program is kvstored: it serves until its context ends (SIGINT, SIGTERM).
func program() cli.Command {
	var (
		port, actors, peerAcks         int
		latency, dropAfter, putTimeout time.Duration
	)
	return cli.Command{
		Name: "kvstored",
		Args: "[DESC...]",
		Doc: `Kvstored runs one kvstore server until SIGINT or SIGTERM and prints its desc on stdout.
Give the descs of servers already running as arguments to join their cluster.`,
		MaxArgs: -1,
		Flags: func(fs *flag.FlagSet) {
			cli.IntVar(fs, &port, "port", 6000, "actor system port; query actor i serves RPCs on port+i (0 = free ports)")
			cli.IntVar(fs, &actors, "actors", 4, "number of query actors")
			cli.DurationVar(fs, &latency, "latency", 0, "artificial one-way latency of remote tells, to model a WAN")
			cli.DurationVar(fs, &dropAfter, "drop-after", kvstore.DefaultDropAfter, "drop a server that acknowledges nothing for this long (it rejoins when it answers again)")
			cli.IntVar(fs, &peerAcks, "peer-acks", 0, "answer a Put only once this many other servers hold it, so it survives this server's crash (0: at once, from memory)")
			cli.DurationVar(fs, &putTimeout, "put-timeout", kvstore.DefaultPutTimeout, "with -peer-acks, fail a Put that not enough servers hold within this time")
		},
		Run: func(ctx context.Context, env *cli.Env) error {
			switch {
			case actors < 1:
				return cli.Usagef("-actors must be at least 1")
			case port+actors > 65535:
				return cli.Usagef("ports %d..%d are out of range (at most 65535)", port, port+actors)
			case dropAfter == 0:
				return cli.Usagef("-drop-after must be positive")
			case putTimeout == 0:
				return cli.Usagef("-put-timeout must be positive")
			}
			log := env.Log
			cfg := kvstore.Config{
				Addr:        net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
				Faults:      actor.Faults{Latency: latency},
				QueryActors: actors,
				Remotes:     env.Args,
				DropAfter:   dropAfter,
				PeerAcks:    peerAcks,
				PutTimeout:  putTimeout,
				OnError:     func(err error) { log.Warn("kvstored", "err", err) },
			}
			if port != 0 {
				cfg.QueryPort = port + 1
			}
			server, err := kvstore.New(cfg)
			if errors.Is(err, kvstore.ErrBadDesc) {
				return cli.Usagef("%v", err)
			} else if err != nil {
				return err
			}
			desc := server.Desc()
			fmt.Fprintln(env.Stdout, desc)
			log.Info("kvstored serving", "desc", desc, "query_addrs", server.QueryAddrs())
			<-ctx.Done()
			st := server.ActorSystem().Stats()
			server.Close()
			log.Info("kvstored stopped", "messages_sent", st.MessagesSent, "bytes_sent", st.BytesSent,
				"remote_bytes_received", st.RemoteBytesReceived, "max_message_rate", fmt.Sprintf("%.2f", st.MaxMessageRate))
			return nil
		},
	}
}
