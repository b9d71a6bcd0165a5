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
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"time"

	"ds440/actor"
	"ds440/actor/internal/actorbench"
	"ds440/internal/cli"
)

func main() { cli.Main(program()) }

type options struct {
	serve       bool
	port        int
	connect     string
	n, rounds   int
	timeout     time.Duration
	dialTimeout time.Duration
}

func program() cli.Command {
	var o options
	return cli.Command{
		Name: "actorbench",
		Doc: `Actorbench measures the actor system. Start a checker with -serve, then point a driver
at the address it prints with -connect HOST:PORT: the driver streams -n messages to a local
checker and to the remote one, times -pings round trips, and exits 1 if a stream is lost,
incomplete or out of order.`,
		Flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&o.serve, "serve", false, "serve a checker actor until SIGINT/SIGTERM")
			cli.IntVar(fs, &o.port, "port", 0, "port of this process's actor system (0: any free one)")
			fs.StringVar(&o.connect, "connect", "", "address (host:port) of an actorbench -serve")
			cli.IntVar(fs, &o.n, "n", 1000000, "messages per stream (at least 1)")
			cli.IntVar(fs, &o.rounds, "pings", 2000, "round trips for the latency figure (at least 1)")
			cli.DurationVar(fs, &o.timeout, "timeout", 5*time.Minute, "give up on a stream after this long")
			cli.DurationVar(fs, &o.dialTimeout, "dial-timeout", 5*time.Second, "give up on reaching -connect's address after this long")
		},
		Run: func(ctx context.Context, env *cli.Env) error {
			if err := o.check(); err != nil {
				return err
			}
			return run(ctx, o, env)
		},
	}
}

func (o *options) check() error {
	switch {
	case o.serve == (o.connect != ""):
		return cli.Usagef("give either -serve or -connect HOST:PORT")
	case o.port > 65535:
		return cli.Usagef("-port %d is not a port number (0 to 65535)", o.port)
	case o.n < 1:
		return cli.Usagef("-n must be at least 1")
	case o.rounds < 1:
		return cli.Usagef("-pings must be at least 1")
	case o.timeout == 0 || o.dialTimeout == 0:
		return cli.Usagef("-timeout and -dial-timeout must be positive")
	}
	if o.connect != "" {
		if _, _, err := net.SplitHostPort(o.connect); err != nil {
			return cli.Usagef("-connect %q is not HOST:PORT: %v", o.connect, err)
		}
	}
	return nil
}

func run(ctx context.Context, o options, env *cli.Env) error {
	log := env.Log
	sys, err := actor.New(actor.Config{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(o.port)), Logger: log})
	if err != nil {
		return fmt.Errorf("starting the actor system: %w", err)
	}
	defer sys.Close()
	sys.OnError(func(err error) {
		if !errors.Is(err, actor.ErrRemoteUnreachable) { // the system's logger has said so
			log.Warn("actor system", "err", err)
		}
	})

	if o.serve {
		checker := sys.StartActor(actorbench.NewChecker)
		fmt.Fprintf(env.Stdout, "actorbench: serving on %s (checker %s)\n", sys.Addr(), checker.Uid())
		<-ctx.Done()
		return nil
	}
	// The actor system redials an unreachable peer with back-off for as long as messages wait;
	// one dial first turns a wrong or dead address into an error at once.
	var d net.Dialer
	dialCtx, cancel := context.WithTimeout(ctx, o.dialTimeout)
	conn, err := d.DialContext(dialCtx, "tcp", o.connect)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("cannot reach %s: %w", o.connect, err)
	}
	conn.Close()

	done := make(chan error, 1)
	go func() { done <- drive(sys, o, env.Stdout) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		sys.Close() // ends the drive's waits
		<-done
		return nil
	}
}

func drive(sys *actor.ActorSystem, o options, out io.Writer) error {
	var wrong []string
	stream := func(where string, to actor.ActorRef) error {
		r, d, err := actorbench.Stream(sys, to, where, o.n, o.timeout)
		if err != nil {
			return fmt.Errorf("%s stream: %w", where, err)
		}
		order := "in order"
		if r.Count != o.n || r.OutOfOrder != 0 {
			order = fmt.Sprintf("WRONG: %d received, %d out of order", r.Count, r.OutOfOrder)
			wrong = append(wrong, where)
		}
		fmt.Fprintf(out, "%-6s %9d messages in %8.3fs = %10.0f msgs/s, %s\n", where+":", o.n, d.Seconds(), float64(o.n)/d.Seconds(), order)
		return nil
	}
	if err := stream("local", *sys.StartActor(actorbench.NewChecker)); err != nil {
		return err
	}
	checker := actor.ActorRef{Address: o.connect, Counter: 1}
	if err := stream("remote", checker); err != nil {
		return err
	}
	if len(wrong) > 0 && wrong[len(wrong)-1] == "remote" {
		return fmt.Errorf("the remote stream arrived incomplete or out of order")
	}

	rtts, err := pingPong(sys, checker, o.rounds)
	if err != nil {
		return fmt.Errorf("round trips: %w", err)
	}
	fmt.Fprintf(out, "remote round trip over %d pings: p50 %v, p99 %v\n", o.rounds, rtts[len(rtts)/2], rtts[len(rtts)*99/100])
	st := sys.Stats()
	fmt.Fprintf(out, "stats: %d messages sent (%d bytes), %d bytes received from the peer, %d undelivered\n",
		st.MessagesSent, st.BytesSent, st.RemoteBytesReceived, st.MessagesUndelivered)
	if len(wrong) > 0 {
		return fmt.Errorf("the %s stream arrived incomplete or out of order", wrong[0])
	}
	return nil
}

// pingPong times round trips to the checker: a Report and its Result.
func pingPong(sys *actor.ActorSystem, checker actor.ActorRef, rounds int) ([]time.Duration, error) {
	rtts := make([]time.Duration, 0, rounds)
	for range rounds {
		reply, answer := sys.NewChannelRef()
		start := time.Now()
		sys.Tell(&checker, actorbench.Report{ReplyTo: *reply, Stream: "ping"})
		select {
		case _, ok := <-answer:
			if !ok {
				return nil, actor.ErrClosed
			}
			rtts = append(rtts, time.Since(start))
		case <-time.After(10 * time.Second):
			return nil, errors.New("no answer within 10s")
		}
	}
	slices.Sort(rtts)
	return rtts, nil
}
