// Command chaos runs ds440's systems as real processes, breaks them while clients work, and
// checks what the clients saw: the black-box test of `make chaos`.
//
//	go run ./chaos/cmd/chaos [-time 10m] [-systems kvserver,raftnode,kvstore] [-seed N]
//
// For each system it prints a verdict line, "PASS system: ..." or "FAIL system: ...", and it
// exits 1 if any system failed. The work directory (server logs, data, histories and, on a
// violation, an HTML timeline) is kept when something failed or -keep is given.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"ds440/internal/cli"
)

// system is one target of the harness.
type system struct {
	name string
	bins []string // packages of the programs it runs
	run  func(ctx context.Context, r *run) (summary string, err error)
}

var systems = []system{
	{name: "raftnode", bins: []string{"ds440/raft/cmd/raftnode"}, run: runRaftnode},
	{name: "kvserver", bins: []string{"ds440/kvserver/cmd/kvserver"}, run: runKVServer},
	{name: "kvstore", bins: []string{"ds440/kvstore/cmd/kvstored"}, run: runKVStore},
}

// options are the flags that tune one system or another.
type options struct {
	raftnodeServers int
	staleReads      bool

	kvstoreDropAfter     time.Duration // kvstored -drop-after; 0 leaves its default
	kvstoreConvergeLimit time.Duration // a heal after which replicas still differ this long fails
	kvstoreBroken        string        // a deliberately broken check: "first-wins", "drop-key" or "no-resume"
	kvstoreOverlap       bool          // a kvstored may be killed or paused while another is down
	kvstoreCrashLoss     bool          // accept an acknowledged Put lost with its kvstored's SIGKILL
	kvstorePeerAcks      int           // kvstored -peer-acks
	kvstoreKills         bool          // the nemesis kills kvstored servers, not only pauses them
	kvstorePartitions    bool          // the nemesis partitions the links between kvstored servers
	kvstoreHang          bool          // a partition blackholes the links rather than resetting them
}

// run is what a system's driver gets: where to work, how long, its randomness and options.
type run struct {
	opts     options
	dir      string
	bin      map[string]string // package -> built binary
	duration time.Duration
	rng      *rand.Rand
	log      func(format string, args ...any)
}

func main() { cli.Main(command()) }

// command is the chaos program; a test runs it with Exec.
func command() cli.Command {
	var (
		duration time.Duration
		names    string
		seed     uint64
		keep     bool
		opts     options
	)
	return cli.Command{
		Name: "chaos",
		Doc: `Runs each system as real processes on loopback, injects faults (SIGKILL and restart,
SIGSTOP/SIGCONT, network partitions, delays) while clients work, and checks the history of
what the clients saw. -time is split evenly between the systems. The default of -time is
$CHAOS_TIME if set, else 10m.`,
		Flags: func(fs *flag.FlagSet) {
			def := 10 * time.Minute
			if env, err := time.ParseDuration(os.Getenv("CHAOS_TIME")); err == nil && env > 0 {
				def = env
			}
			cli.DurationVar(fs, &duration, "time", def, "total time of the run")
			var all []string
			for _, s := range systems {
				all = append(all, s.name)
			}
			fs.StringVar(&names, "systems", strings.Join(all, ","), "comma-separated systems to test")
			fs.Uint64Var(&seed, "seed", uint64(time.Now().UnixNano()), "seed of the fault schedule and workload")
			fs.BoolVar(&keep, "keep", false, "keep the work directory even when every system passes")
			fs.IntVar(&opts.raftnodeServers, "raftnode-servers", 5, "raftnode cluster size")
			cli.DurationVar(fs, &opts.kvstoreDropAfter, "kvstore-drop-after", 0, "kvstored -drop-after (0: its default)")
			cli.DurationVar(fs, &opts.kvstoreConvergeLimit, "kvstore-converge-limit", 15*time.Second, "kvstore fails if its replicas still differ this long after a heal")
			fs.BoolVar(&opts.kvstoreOverlap, "kvstore-overlap", true, "let kvstore faults overlap (a server killed while another is paused)")
			fs.BoolVar(&opts.kvstoreKills, "kvstore-kills", true, "let the kvstore nemesis SIGKILL and restart servers")
			fs.BoolVar(&opts.kvstorePartitions, "kvstore-partitions", true, "let the kvstore nemesis partition the links between servers (majority/minority, isolate, bridge)")
			fs.BoolVar(&opts.kvstoreHang, "kvstore-hang", false, "kvstore partitions blackhole the links (connections stay open, nothing crosses) instead of resetting them")
			cli.IntVar(fs, &opts.kvstorePeerAcks, "kvstore-peer-acks", 1, "kvstored -peer-acks: other servers that hold a Put before it is acknowledged (0: acknowledged from memory, lost if its server is SIGKILLed before passing it on)")
			fs.BoolVar(&opts.kvstoreCrashLoss, "kvstore-crash-loss", false, "accept an acknowledged kvstore Put lost with its server's SIGKILL (what -kvstore-peer-acks 0 needs to pass)")
			fs.StringVar(&opts.kvstoreBroken, "kvstore-broken", "", `break the kvstore check on purpose, to see it fail: "first-wins" (checks against the wrong rule), "drop-key" (removes a key from the converged state) or "no-resume" (leaves a server paused at the heal)`)
			fs.BoolVar(&opts.staleReads, "stale-reads", false, "raftnode clients read without ?consistent=1 (not linearizable: shows the checker catching it)")
		},
		Run: func(ctx context.Context, env *cli.Env) error {
			chosen, err := pick(names)
			if err != nil {
				return err
			}
			switch opts.kvstoreBroken {
			case "", "first-wins", "drop-key", "no-resume":
			default:
				return cli.Usagef("unknown -kvstore-broken %q", opts.kvstoreBroken)
			}
			dir, err := os.MkdirTemp("", "ds440-chaos-")
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "chaos: seed %d, work directory %s\n", seed, dir)
			failed := 0
			for i, s := range chosen {
				r := &run{
					opts:     opts,
					dir:      filepath.Join(dir, s.name),
					bin:      map[string]string{},
					duration: duration / time.Duration(len(chosen)),
					rng:      rand.New(rand.NewPCG(seed, uint64(i))),
					log: func(format string, args ...any) {
						fmt.Fprintf(env.Stdout, "  %s %s: %s\n", time.Now().Format("15:04:05.000"), s.name, fmt.Sprintf(format, args...))
					},
				}
				summary, err := r.start(ctx, s)
				switch {
				case ctx.Err() != nil:
					return errors.New("interrupted")
				case err != nil:
					failed++
					fmt.Fprintf(env.Stdout, "FAIL %s: %v\n", s.name, err)
				default:
					fmt.Fprintf(env.Stdout, "PASS %s: %s\n", s.name, summary)
				}
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d systems failed; evidence in %s", failed, len(chosen), dir)
			}
			if !keep {
				os.RemoveAll(dir)
			}
			return nil
		},
	}
}

func pick(names string) ([]system, error) {
	var out []system
	for _, n := range strings.Split(names, ",") {
		found := false
		for _, s := range systems {
			if s.name == strings.TrimSpace(n) {
				out, found = append(out, s), true
			}
		}
		if !found {
			return nil, cli.Usagef("unknown system %q", n)
		}
	}
	return out, nil
}

// start builds the system's programs into its work directory and runs its driver.
func (r *run) start(ctx context.Context, s system) (string, error) {
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return "", err
	}
	for _, pkg := range s.bins {
		bin := filepath.Join(r.dir, filepath.Base(pkg))
		out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
		r.bin[pkg] = bin
	}
	return s.run(ctx, r)
}

// jitter returns d scaled by a random factor in [0.5, 1.5).
func (r *run) jitter(d time.Duration) time.Duration {
	return d/2 + time.Duration(r.rng.Int64N(int64(d)))
}
