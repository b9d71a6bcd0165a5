// Command lincheck checks a recorded key/value history for linearizability.
//
// Usage:
//
//	lincheck [-timeout 1m] [-html violation.html] history.jsonl
//
// The history is JSON Lines as linearize.WriteKVHistory writes it ("-" reads standard input),
// checked against linearize.KVModel. lincheck prints the verdict and, for a violation, the
// operations that cannot be placed; -html also writes the timeline. It exits 0 if the history
// is linearizable, 1 if it is not, 3 if the time ran out, and 2 on bad usage or input.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"ds440/internal/cli"
	"ds440/linearize"
)

func main() { cli.Main(command()) }

// Exit statuses beyond cli's 0 (linearizable) and 2 (bad usage).
const (
	exitViolation = 1
	exitBadInput  = 2
	exitUnknown   = 3
)

func command() cli.Command {
	var (
		timeout  time.Duration
		htmlPath string
	)
	return cli.Command{
		Name: "lincheck",
		Args: "history.jsonl",
		Doc: `Lincheck checks a key/value history (JSON Lines as linearize.WriteKVHistory writes it; "-"
reads stdin) for linearizability. It exits 0 if the history is linearizable, 1 if it is not
(printing the operations that cannot be placed), 3 if the time ran out, 2 on bad usage or input.`,
		MinArgs: 1, MaxArgs: 1,
		Flags: func(fs *flag.FlagSet) {
			cli.DurationVar(fs, &timeout, "timeout", time.Minute, "give up with verdict unknown after this long")
			fs.StringVar(&htmlPath, "html", "", "on a violation, write the HTML timeline to this file")
		},
		Run: func(ctx context.Context, env *cli.Env) error {
			if timeout == 0 {
				return cli.Usagef("-timeout must be positive")
			}
			return check(ctx, env, timeout, htmlPath)
		},
	}
}

func check(ctx context.Context, env *cli.Env, timeout time.Duration, htmlPath string) error {
	badInput := func(err error) error { return &cli.StatusError{Status: exitBadInput, Err: err} }
	in := env.Stdin
	if name := env.Args[0]; name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return badInput(err)
		}
		defer f.Close()
		in = f
	}
	history, err := linearize.ReadKVHistory(in)
	if err != nil {
		return badInput(err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	res, err := linearize.Check(ctx, linearize.KVModel(), history)
	if err != nil {
		return badInput(err)
	}
	fmt.Fprintf(env.Stdout, "%d operations: %v (checked in %v)\n", len(history), res.Verdict, time.Since(start).Round(time.Millisecond))
	switch res.Verdict {
	case linearize.Linearizable:
		return nil
	case linearize.Unknown:
		return &cli.StatusError{Status: exitUnknown}
	}
	fmt.Fprint(env.Stdout, res.Counterexample)
	if htmlPath != "" {
		if err := writeHTML(htmlPath, res.Counterexample); err != nil {
			return badInput(err)
		}
		fmt.Fprintf(env.Stdout, "timeline: %s\n", htmlPath)
	}
	return &cli.StatusError{Status: exitViolation}
}

func writeHTML(path string, ce *linearize.Counterexample) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return errors.Join(ce.WriteHTML(f), f.Close())
}
