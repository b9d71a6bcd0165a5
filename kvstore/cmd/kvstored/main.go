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
	"slices"
	"strconv"
	"strings"
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
		via                            = routes{}
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
			fs.Var(via, "route", "reach the server whose actor system is at ADDR by dialling VIA, e.g. a proxy on the link (`ADDR=VIA`, repeatable)")
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
				Logger:      log,
				OnError: func(err error) {
					if !errors.Is(err, actor.ErrRemoteUnreachable) { // the Logger has said so
						log.Warn("kvstored", "err", err)
					}
				},
			}
			if port != 0 {
				cfg.QueryPort = port + 1
			}
			if len(via) > 0 {
				cfg.Transport = routedTransport{via: via}
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

// routes maps the actor-system addresses of other servers to the addresses this one dials to
// reach them (-route ADDR=VIA). Servers learn each other's real addresses from descs and syncs,
// so a proxy on a link is only crossed if the dialling side knows to use it.
type routes map[string]string

func (r routes) String() string {
	var parts []string
	for from, to := range r {
		parts = append(parts, from+"="+to)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

func (r routes) Set(s string) error {
	from, to, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want ADDR=VIA, got %q", s)
	}
	for _, a := range []string{from, to} {
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
			return fmt.Errorf("%q is not host:port", a)
		}
	}
	r[from] = to
	return nil
}

// routedTransport is TCP, with the dials to a routed address sent to its VIA instead.
type routedTransport struct {
	actor.TCPTransport
	via routes
}

// Dial implements actor.Transport.
func (t routedTransport) Dial(ctx context.Context, addr string) (net.Conn, error) {
	if v, ok := t.via[addr]; ok {
		addr = v
	}
	return t.TCPTransport.Dial(ctx, addr)
}
