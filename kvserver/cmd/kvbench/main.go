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
//
// By default each client is a goroutine with a net.Conn, which works everywhere. On Linux,
// -engine epoll and -engine uring drive every client from one thread, over non-blocking sockets
// in one epoll set or through one io_uring (see engine_linux.go): a request costs kvbench less
// than it costs a server with uring, so that the server, not the generator, is the bottleneck.
// -pid NAME=PID adds the server's CPU time per operation to the report, beside kvbench's own:
//
//	kvbench -proto redis -engine uring -value-size 3 -keys 100000 -addr 127.0.0.1:9999 \
//	  -pid kvserver=1234 -compare redis=127.0.0.1:6379 -pid redis=5678 -rounds 4
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
	"strings"
	"text/tabwriter"
	"time"

	"ds440/internal/cli"
)

func main() { cli.Main(program()) }

// run runs the program with args and the given output streams and returns its exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return program().Exec(ctx, args, strings.NewReader(""), stdout, stderr)
}

// target is a server to drive.
type target struct {
	name, addr string
	pid        int // its process, whose CPU time is measured; 0 if not given
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
	*t = append(*t, target{name: name, addr: addr})
	return nil
}

// pidsFlag collects -pid NAME=PID values.
type pidsFlag map[string]int

func (p pidsFlag) String() string { return "" }

func (p pidsFlag) Set(s string) error {
	name, pid, ok := strings.Cut(s, "=")
	n, err := strconv.Atoi(pid)
	if !ok || name == "" || err != nil || n <= 0 {
		return errors.New("want NAME=PID")
	}
	p[name] = n
	return nil
}

// options are kvbench's flags.
type options struct {
	addr, name, proto string
	engine            string
	clients, pipeline int
	keys, valueSize   int
	rounds            int
	idle              int
	duration          time.Duration
	getFrac           float64
	seed              uint64
	compare           targetsFlag
	pids              pidsFlag
}

func program() cli.Command {
	o := options{pids: pidsFlag{}}
	return cli.Command{
		Name: "kvbench",
		Doc: `Kvbench drives kvserver (and, with -compare, other servers such as Redis) with the same
load and prints ops/s and p50/p99 latency, and the ratios between the servers.`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&o.addr, "addr", "127.0.0.1:9999", "`host:port` of the server to drive")
			fs.StringVar(&o.name, "name", "kvserver", "name of the -addr server in the report")
			fs.StringVar(&o.proto, "proto", "text", "protocol: text (kvserver's) or redis (RESP2 SET/GET)")
			cli.IntVar(fs, &o.clients, "clients", 50, "concurrent clients, one connection each")
			cli.DurationVar(fs, &o.duration, "duration", 10*time.Second, "measured time per server")
			fs.Float64Var(&o.getFrac, "get", 0.9, "fraction of operations that are gets; the rest are sets")
			cli.IntVar(fs, &o.pipeline, "pipeline", 1, "operations each client sends before waiting for replies")
			cli.IntVar(fs, &o.keys, "keys", 10000, "number of distinct keys")
			cli.IntVar(fs, &o.valueSize, "value-size", 16, "bytes per value")
			cli.IntVar(fs, &o.rounds, "rounds", 1, "alternate the servers this many times, each run lasting duration/rounds")
			fs.Uint64Var(&o.seed, "seed", 1, "seed of the workload; the same seed gives every server the same requests")
			cli.IntVar(fs, &o.idle, "idle", 0, "idle connections held open to each server while it is driven (a server with many quiet clients)")
			fs.Var(&o.compare, "compare", "also drive `NAME=HOST:PORT` with the same load and print the ratio (repeatable)")
			fs.StringVar(&o.engine, "engine", "goroutines", "how clients are driven: goroutines (one per client, portable), or all on one thread (Linux, -proto redis) with epoll (a read and a write per request) or uring (an io_uring: no system call of a request's own, so the server sets the pace)")
			fs.Var(o.pids, "pid", "the process of the server `NAME=PID` (-name or a -compare name), whose CPU time per operation is reported (Linux; repeatable)")
		},
		Run: func(ctx context.Context, env *cli.Env) error {
			cfg, err := o.config()
			if err != nil {
				return err
			}
			return bench(ctx, o, cfg, env.Stdout, env.Stderr)
		},
	}
}

// config checks the options and returns the workload they describe.
func (o *options) config() (config, error) {
	cfg := config{
		clients: o.clients, getFrac: o.getFrac, pipeline: o.pipeline, keys: o.keys,
		valueSize: o.valueSize, seed: o.seed, grace: 30 * time.Second,
	}
	var problems []string
	switch o.proto {
	case "text":
		cfg.proto = protoText
	case "redis":
		cfg.proto = protoRedis
	default:
		problems = append(problems, "-proto must be text or redis")
	}
	switch o.engine {
	case "goroutines":
		cfg.engine = engineGoroutines
	case "epoll", "uring":
		cfg.engine = engineEpoll
		if o.engine == "uring" {
			cfg.engine = engineUring
		}
		switch {
		case !haveEvents:
			problems = append(problems, "-engine "+o.engine+" needs Linux")
		case cfg.proto != protoRedis:
			problems = append(problems, "-engine "+o.engine+" speaks -proto redis only")
		}
	default:
		problems = append(problems, "-engine must be goroutines, epoll or uring")
	}
	for name := range o.pids {
		if !canReadProc {
			problems = append(problems, "-pid needs Linux's /proc")
			break
		}
		if name != o.name && !slices.ContainsFunc(o.compare, func(t target) bool { return t.name == name }) {
			problems = append(problems, fmt.Sprintf("-pid %s: no server of that name", name))
		}
	}
	if _, _, err := net.SplitHostPort(o.addr); err != nil {
		problems = append(problems, "-addr must be host:port")
	}
	if o.clients < 1 || o.pipeline < 1 || o.keys < 1 || o.rounds < 1 {
		problems = append(problems, "-clients, -pipeline, -keys and -rounds must be at least 1")
	}
	if !(o.getFrac >= 0 && o.getFrac <= 1) {
		problems = append(problems, "-get must be between 0 and 1")
	}
	if o.duration <= 0 {
		problems = append(problems, "-duration must be positive")
	}
	if len(problems) > 0 {
		return cfg, cli.Usagef("%s", strings.Join(problems, "; "))
	}
	cfg.duration = o.duration / time.Duration(o.rounds)
	return cfg, nil
}

// bench loads the keys into every target, drives them in turn and prints the report. An
// interruption (ctx done) ends it early with the results so far and no error.
func bench(ctx context.Context, o options, cfg config, stdout, stderr io.Writer) error {
	targets := append([]target{{name: o.name, addr: o.addr}}, o.compare...)
	for i := range targets {
		targets[i].pid = o.pids[targets[i].name]
	}
	fmt.Fprintf(stdout, "kvbench: %s protocol, %s engine, %d clients, pipeline %d, %.0f%% gets, %d keys, %d-byte values, %v per server",
		o.proto, o.engine, cfg.clients, cfg.pipeline, cfg.getFrac*100, cfg.keys, cfg.valueSize, o.duration)
	if o.rounds > 1 {
		fmt.Fprintf(stdout, " in %d rounds", o.rounds)
	}
	if o.idle > 0 {
		fmt.Fprintf(stdout, ", %d idle connections open", o.idle)
	}
	fmt.Fprintln(stdout)

	for _, t := range targets {
		if err := populate(ctx, t.addr, cfg); err != nil {
			if ctx.Err() != nil {
				fmt.Fprintln(stderr, "kvbench: interrupted while loading the keys")
				return nil
			}
			return fmt.Errorf("%s (%s): loading the keys: %w", t.name, t.addr, err)
		}
	}
	results := make([]result, len(targets))
	for round := range o.rounds {
		for j := range targets {
			i := j
			if round%2 == 1 {
				i = len(targets) - 1 - j // ABBA order, so neither server always goes first
			}
			res, err := turn(ctx, targets[i], o.idle, cfg, stderr)
			if err != nil && ctx.Err() != nil {
				break
			}
			if err != nil {
				return fmt.Errorf("%s (%s): %w", targets[i].name, targets[i].addr, err)
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
			return fmt.Errorf("%s: %d client connection(s) broke during the run, the first: %w", targets[i].name, r.failed, r.broke)
		}
	}
	return nil
}

// turn is one measured run against t: it opens t's idle connections and waits until t has
// accepted them, runs the load, and returns once t has closed every connection of the run,
// so that neither the set-up nor the teardown of one server's connections falls into the
// measured window of the server that comes next.
func turn(ctx context.Context, t target, idle int, cfg config, stderr io.Writer) (*result, error) {
	held, err := holdIdle(ctx, t.addr, cfg, idle)
	if err != nil {
		return nil, fmt.Errorf("opening idle connections: %w", err)
	}
	res, err := runTarget(ctx, t.addr, cfg, &meter{pid: t.pid})
	if open := release(ctx, held); open > 0 && ctx.Err() == nil {
		fmt.Fprintf(stderr, "kvbench: %s (%s) had not closed %d of %d idle connections after a minute\n", t.name, t.addr, open, idle)
	}
	return res, err
}

// report prints one line per target and, for each compared one, the ratio of the first to it.
// Beside throughput and latency it prints the CPU time per operation, and the share of one CPU
// over the measured windows, of the server (with -pid) and of kvbench itself: a generator near
// 100% of a CPU, or above the server, measures itself rather than the server.
func report(w io.Writer, targets []target, results []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "server\taddress\tops/s\tp50\tp99\tmean\terrors\tserver cpu/op\tcpu\tkvbench cpu/op\tcpu")
	for i, t := range targets {
		r := &results[i]
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%s\t%s\t%s\t%d\t%s\t%s\n", t.name, t.addr, r.opsPerSec(),
			ms(r.lat.quantile(0.5)), ms(r.lat.quantile(0.99)), ms(r.lat.mean()), r.errs,
			cpuCols(r, r.cpu.srv, r.cpu.hasSrv), cpuCols(r, r.cpu.gen, r.cpu.hasGen))
	}
	tw.Flush()
	base := &results[0]
	for i := 1; i < len(targets); i++ {
		o := &results[i]
		fmt.Fprintf(w, "ratio %s/%s: %.2fx ops/s, p50 %.2fx, p99 %.2fx", targets[0].name, targets[i].name,
			ratio(base.opsPerSec(), o.opsPerSec()),
			ratio(float64(base.lat.quantile(0.5)), float64(o.lat.quantile(0.5))),
			ratio(float64(base.lat.quantile(0.99)), float64(o.lat.quantile(0.99))))
		if base.cpu.hasSrv && o.cpu.hasSrv {
			fmt.Fprintf(w, ", server cpu/op %.2fx", ratio(perOp(base, base.cpu.srv), perOp(o, o.cpu.srv)))
		}
		fmt.Fprintln(w, " (latency and cpu: below 1 is better)")
	}
}

// cpuCols formats CPU time used over r's windows as time per operation and share of one CPU,
// or dashes if it was not measured.
func cpuCols(r *result, used time.Duration, measured bool) string {
	if !measured || r.ops == 0 || r.elapsed <= 0 {
		return "-\t-"
	}
	return fmt.Sprintf("%.2fus\t%.0f%%", perOp(r, used)/1e3, 100*used.Seconds()/r.elapsed.Seconds())
}

// perOp returns used nanoseconds per operation of r.
func perOp(r *result, used time.Duration) float64 {
	if r.ops == 0 {
		return 0
	}
	return float64(used) / float64(r.ops)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// ms formats a latency in milliseconds with three decimals, the unit redis-benchmark uses.
func ms(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/1e6) }
