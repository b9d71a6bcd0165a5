// Command actorbench measures the actor system: local and remote message throughput and the
// remote round trip, with every message copied through gob.
//
//	actorbench -serve [-port P]            run a checker actor for a driver; prints its address
//	actorbench -connect HOST:PORT [-n N]   stream N messages locally and to that checker
//
// The checker is the first actor of the serving system (counter 1). Both sides check that
// every stream arrives complete and in order, and the driver exits 1 if one does not.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"ds440/actor"
	"ds440/actor/internal/actorbench"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("actorbench", flag.ContinueOnError)
	serve := fs.Bool("serve", false, "serve a checker actor until SIGINT/SIGTERM")
	port := fs.Int("port", 0, "port of this process's actor system (0: any free one)")
	connect := fs.String("connect", "", "address (host:port) of an actorbench -serve")
	n := fs.Int("n", 1000000, "messages per stream")
	rounds := fs.Int("pings", 2000, "round trips for the latency figure")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up on a stream after this long")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: actorbench -serve [-port P]\n       actorbench -connect HOST:PORT [-n N] [-pings R] [-port P]\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 || *serve == (*connect != "") || *n < 1 || *rounds < 1 {
		fs.Usage()
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	sys, err := actor.NewActorSystem(*port)
	if err != nil {
		log.Error("starting the actor system", "err", err)
		return 1
	}
	defer sys.Close()
	sys.SetLogger(log)
	sys.OnError(func(err error) {
		if !errors.Is(err, actor.ErrRemoteUnreachable) { // the system's logger has said so
			log.Warn("actor system", "err", err)
		}
	})

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	if *serve {
		checker := sys.StartActor(actorbench.NewChecker)
		fmt.Printf("actorbench: serving on %s (checker %s)\n", sys.Addr(), checker.Uid())
		<-sigs
		return 0
	}
	code := make(chan int, 1)
	go func() { code <- drive(sys, *connect, *n, *rounds, *timeout, log) }()
	select {
	case c := <-code:
		return c
	case <-sigs:
		return 0
	}
}

func drive(sys *actor.ActorSystem, peer string, n, rounds int, timeout time.Duration, log *slog.Logger) int {
	stream := func(where string, to actor.ActorRef) bool {
		r, d, err := actorbench.Stream(sys, to, where, n, timeout)
		if err != nil {
			log.Error("stream failed", "where", where, "err", err)
			return false
		}
		order, ok := "in order", r.Count == n && r.OutOfOrder == 0
		if !ok {
			order = fmt.Sprintf("WRONG: %d received, %d out of order", r.Count, r.OutOfOrder)
		}
		fmt.Printf("%-6s %9d messages in %8.3fs = %10.0f msgs/s, %s\n", where+":", n, d.Seconds(), float64(n)/d.Seconds(), order)
		return ok
	}
	ok := stream("local", *sys.StartActor(actorbench.NewChecker))
	if !stream("remote", actor.ActorRef{Address: peer, Counter: 1}) {
		return 1
	}

	rtts, err := pingPong(sys, actor.ActorRef{Address: peer, Counter: 1}, rounds)
	if err != nil {
		log.Error("round trips failed", "err", err)
		return 1
	}
	fmt.Printf("remote round trip over %d pings: p50 %v, p99 %v\n", rounds, rtts[len(rtts)/2], rtts[len(rtts)*99/100])
	st := sys.Stats()
	fmt.Printf("stats: %d messages sent (%d bytes), %d bytes received from the peer, %d undelivered\n",
		st.MessagesSent, st.BytesSent, st.RemoteBytesReceived, st.MessagesUndelivered)
	if !ok {
		return 1
	}
	return 0
}

// pingPong times round trips to the checker: a Report and its Result.
func pingPong(sys *actor.ActorSystem, checker actor.ActorRef, rounds int) ([]time.Duration, error) {
	rtts := make([]time.Duration, 0, rounds)
	for range rounds {
		reply, answer := sys.NewChannelRef()
		start := time.Now()
		sys.Tell(&checker, actorbench.Report{ReplyTo: *reply, Stream: "ping"})
		select {
		case <-answer:
			rtts = append(rtts, time.Since(start))
		case <-time.After(10 * time.Second):
			return nil, errors.New("no answer within 10s")
		}
	}
	slices.Sort(rtts)
	return rtts, nil
}
