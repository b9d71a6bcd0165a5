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
	"io"
	"os"
	"time"

	"ds440/linearize"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lincheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", time.Minute, "give up with verdict unknown after this long")
	htmlPath := fs.String("html", "", "on a violation, write the HTML timeline to this file")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: lincheck [-timeout 1m] [-html out.html] history.jsonl")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 || *timeout <= 0 {
		fs.Usage()
		return 2
	}
	in := stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "lincheck: %v\n", err)
			return 2
		}
		defer f.Close()
		in = f
	}
	history, err := linearize.ReadKVHistory(in)
	if err != nil {
		fmt.Fprintf(stderr, "lincheck: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	start := time.Now()
	res, err := linearize.Check(ctx, linearize.KVModel(), history)
	if err != nil {
		fmt.Fprintf(stderr, "lincheck: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdout, "%d operations: %v (checked in %v)\n", len(history), res.Verdict, time.Since(start).Round(time.Millisecond))
	switch res.Verdict {
	case linearize.Linearizable:
		return 0
	case linearize.Unknown:
		return 3
	}
	fmt.Fprint(stdout, res.Counterexample)
	if *htmlPath != "" {
		if err := writeHTML(*htmlPath, res.Counterexample); err != nil {
			fmt.Fprintf(stderr, "lincheck: %v\n", err)
			return 2
		}
		fmt.Fprintf(stdout, "timeline: %s\n", *htmlPath)
	}
	return 1
}

func writeHTML(path string, ce *linearize.Counterexample) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return errors.Join(ce.WriteHTML(f), f.Close())
}
