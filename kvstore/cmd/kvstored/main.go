// Command kvstored runs one kvstore server and prints its desc, which later servers take as
// arguments to join the cluster.
//
//	go run ./kvstore/cmd/kvstored -port 6000 -actors 4 [DESC...]
package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"ds440/actor"
	"ds440/kvstore"
)

func main() {
	fs := flag.NewFlagSet("kvstored", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: kvstored [-port P] [-actors N] [-latency D] [-drop-after D] [DESC...]")
		fs.PrintDefaults()
	}
	port := fs.Int("port", 6000, "actor system port; query actor i serves RPCs on port+i (0 = free ports)")
	actors := fs.Int("actors", 4, "number of query actors")
	latency := fs.Duration("latency", 0, "artificial one-way latency of remote tells, to model a WAN")
	dropAfter := fs.Duration("drop-after", kvstore.DefaultDropAfter, "drop a server that acknowledges nothing for this long (it rejoins when it answers again)")
	if err := fs.Parse(os.Args[1:]); errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	} else if err != nil {
		os.Exit(2)
	}
	if *actors < 1 || *port < 0 || *port+*actors > 65535 || *latency < 0 || *dropAfter <= 0 {
		fmt.Fprintln(fs.Output(), "kvstored: need -actors >= 1, ports within 0..65535, -latency >= 0 and -drop-after > 0")
		fs.Usage()
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg := kvstore.Config{
		Addr:        net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)),
		Faults:      actor.Faults{Latency: *latency},
		QueryActors: *actors,
		Remotes:     fs.Args(),
		DropAfter:   *dropAfter,
		OnError:     func(err error) { log.Warn("kvstored", "err", err) },
	}
	if *port != 0 {
		cfg.QueryPort = *port + 1
	}
	server, err := kvstore.New(cfg)
	if err != nil {
		log.Error("cannot start", "err", err)
		os.Exit(1)
	}
	desc := server.Desc()
	fmt.Println(desc)
	log.Info("kvstored serving", "desc", desc, "query_addrs", server.QueryAddrs())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	st := server.ActorSystem().Stats()
	server.Close()
	log.Info("kvstored stopped", "messages_sent", st.MessagesSent, "bytes_sent", st.BytesSent,
		"remote_bytes_received", st.RemoteBytesReceived, "max_message_rate", fmt.Sprintf("%.2f", st.MaxMessageRate))
}
