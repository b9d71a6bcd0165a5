// Command kvbench is a load generator for kvserver and Redis. It runs the same seeded mix of
// gets and sets from many clients against one server or, with -compare, against several in
// the same run, and prints each one's throughput and latency percentiles and their ratios.
//
//	kvbench -addr 127.0.0.1:9999 -clients 50 -duration 10s -get 0.9
//	kvbench -proto redis -addr 127.0.0.1:9999 -compare redis=127.0.0.1:6379 -pipeline 16
//
// With -proto redis it speaks RESP2 (SET/GET), which both kvserver and Redis answer; with
// -proto text it speaks kvserver's line protocol (a set is Delete then Put, and each batch ends
// with a Get of a per-client fence key, because text writes have no reply). Every key is
// given a value before the clock starts. Targets are run one after another, never at once, so
// they do not compete for the machine; -rounds N alternates them N times to even out drift.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// target is a server to drive.
type target struct {
	name, addr string
}

// targetsFlag collects -compare NAME=HOST:PORT values.
type targetsFlag []target

func (t *targetsFlag) String() string { return "" }

func (t *targetsFlag) Set(s string) error {
	name, addr, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return errors.New("want NAME=HOST:PORT")
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("want NAME=HOST:PORT: %v", err)
	}
	*t = append(*t, target{name, addr})
	return nil
}

// run is the program: it parses args, drives the targets and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kvbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9999", "`host:port` of the server to drive")
	name := fs.String("name", "kvserver", "name of the -addr server in the report")
	protoName := fs.String("proto", "text", "protocol: text (kvserver's) or redis (RESP2 SET/GET)")
	clients := fs.Int("clients", 50, "concurrent clients, one connection each")
	duration := fs.Duration("duration", 10*time.Second, "measured time per server")
	getFrac := fs.Float64("get", 0.9, "fraction of operations that are gets; the rest are sets")
	pipeline := fs.Int("pipeline", 1, "operations each client sends before waiting for replies")
	keys := fs.Int("keys", 10000, "number of distinct keys")
	valueSize := fs.Int("value-size", 16, "bytes per value")
	rounds := fs.Int("rounds", 1, "alternate the servers this many times, each run lasting duration/rounds")
	seed := fs.Uint64("seed", 1, "seed of the workload; the same seed gives every server the same requests")
	idle := fs.Int("idle", 0, "idle connections held open to each server while it is driven (a server with many quiet clients)")
	var compare targetsFlag
	fs.Var(&compare, "compare", "also drive `NAME=HOST:PORT` with the same load and print the ratio (repeatable)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: kvbench [flags]\n\nDrives kvserver (and, with -compare, other servers such as Redis) with the same load\nand prints ops/s and p50/p99 latency.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	cfg := config{
		clients: *clients, getFrac: *getFrac, pipeline: *pipeline, keys: *keys,
		valueSize: *valueSize, seed: *seed,
	}
	var problems []string
	switch *protoName {
	case "text":
		cfg.proto = protoText
	case "redis":
		cfg.proto = protoRedis
	default:
		problems = append(problems, "-proto must be text or redis")
	}
	if _, _, err := net.SplitHostPort(*addr); err != nil {
		problems = append(problems, "-addr must be host:port")
	}
	if *clients < 1 || *pipeline < 1 || *keys < 1 || *valueSize < 0 || *rounds < 1 || *idle < 0 {
		problems = append(problems, "-clients, -pipeline, -keys and -rounds must be at least 1, -value-size and -idle at least 0")
	}
	if !(*getFrac >= 0 && *getFrac <= 1) {
		problems = append(problems, "-get must be between 0 and 1")
	}
	if *duration <= 0 {
		problems = append(problems, "-duration must be positive")
	}
	if fs.NArg() > 0 {
		problems = append(problems, "no positional arguments are taken")
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "kvbench: %s\n", strings.Join(problems, "; "))
		fs.Usage()
		return 2
	}
	cfg.duration = *duration / time.Duration(*rounds)

	targets := append([]target{{*name, *addr}}, compare...)
	fmt.Fprintf(stdout, "kvbench: %s protocol, %d clients, pipeline %d, %.0f%% gets, %d keys, %d-byte values, %v per server",
		*protoName, cfg.clients, cfg.pipeline, cfg.getFrac*100, cfg.keys, cfg.valueSize, *duration)
	if *rounds > 1 {
		fmt.Fprintf(stdout, " in %d rounds", *rounds)
	}
	if *idle > 0 {
		fmt.Fprintf(stdout, ", %d idle connections open", *idle)
	}
	fmt.Fprintln(stdout)

	for _, t := range targets {
		if err := populate(ctx, t.addr, cfg); err != nil {
			if ctx.Err() != nil {
				fmt.Fprintln(stderr, "kvbench: interrupted while loading the keys")
				return 0
			}
			fmt.Fprintf(stderr, "kvbench: %s (%s): loading the keys: %v\n", t.name, t.addr, err)
			return 1
		}
	}
	results := make([]result, len(targets))
	for round := range *rounds {
		for j := range targets {
			i := j
			if round%2 == 1 {
				i = len(targets) - 1 - j // ABBA order, so neither server always goes first
			}
			held, err := holdIdle(ctx, targets[i].addr, *idle)
			if err != nil {
				fmt.Fprintf(stderr, "kvbench: %s (%s): opening idle connections: %v\n", targets[i].name, targets[i].addr, err)
				return 1
			}
			res, err := runTarget(ctx, targets[i].addr, cfg)
			closeAll(held)
			if err != nil && ctx.Err() != nil {
				break
			}
			if err != nil {
				fmt.Fprintf(stderr, "kvbench: %s (%s): %v\n", targets[i].name, targets[i].addr, err)
				return 1
			}
			results[i].add(res)
			if ctx.Err() != nil {
				break
			}
		}
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "kvbench: interrupted; partial results follow")
			break
		}
	}
	report(stdout, targets, results)
	for i, r := range results {
		if r.failed > 0 {
			fmt.Fprintf(stderr, "kvbench: %s: %d client connection(s) broke during the run\n", targets[i].name, r.failed)
			return 1
		}
	}
	return 0
}

// report prints one line per target and, for each compared one, the ratio of the first to it.
func report(w io.Writer, targets []target, results []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "server\taddress\tops/s\tp50\tp99\tmean\terrors")
	for i, t := range targets {
		r := &results[i]
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%s\t%s\t%s\t%d\n", t.name, t.addr, r.opsPerSec(),
			ms(r.lat.quantile(0.5)), ms(r.lat.quantile(0.99)), ms(r.lat.mean()), r.errs)
	}
	tw.Flush()
	base := &results[0]
	for i := 1; i < len(targets); i++ {
		o := &results[i]
		fmt.Fprintf(w, "ratio %s/%s: %.2fx ops/s, p50 %.2fx, p99 %.2fx (latency: below 1 is faster)\n",
			targets[0].name, targets[i].name, ratio(base.opsPerSec(), o.opsPerSec()),
			ratio(float64(base.lat.quantile(0.5)), float64(o.lat.quantile(0.5))),
			ratio(float64(base.lat.quantile(0.99)), float64(o.lat.quantile(0.99))))
	}
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// ms formats a latency in milliseconds with three decimals, the unit redis-benchmark uses.
func ms(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/1e6) }
