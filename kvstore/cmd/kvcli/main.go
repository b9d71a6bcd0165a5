// Command kvcli runs get, put and list against a kvstore query actor, from its arguments or,
// with none, one command per line from stdin.
//
//	go run ./kvstore/cmd/kvcli HOST:PORT put greeting hello
//	go run ./kvstore/cmd/kvcli HOST:PORT get greeting
//	go run ./kvstore/cmd/kvcli HOST:PORT list [PREFIX]
//
// See kvcli -h for how values are read and what the exit statuses mean.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"ds440/internal/cli"
	"ds440/kvstore"
)

func main() { cli.Main(program()) }

// Exit statuses beyond cli's 0 (done), 1 (failure) and 2 (usage).
const statusAbsent = 3 // a get found no value for its key

type addr string

func (a addr) NextAddr() string { return string(a) }

func program() cli.Command {
	return cli.Command{
		Name: "kvcli",
		Args: "HOST:PORT [get KEY | put KEY VALUE... | list [PREFIX]]",
		Doc: `Kvcli runs one command against the kvstore query actor at HOST:PORT or, with none, reads
commands from stdin, one per line (blank lines are skipped).

get KEY prints the value and a newline on stdout. If KEY is absent it prints nothing on
stdout and "kvcli: KEY is absent" on stderr, so a stored value never looks like a missing one.
put KEY VALUE stores VALUE and prints OK; list [PREFIX] prints KEY=VALUE lines, sorted.

Values: on the command line, VALUE is the arguments after KEY joined by single spaces (quote
a value to keep its spaces: put k "a  b"). On stdin, VALUE is the rest of the line after the
one space or tab that follows KEY, kept exactly, spaces included.

Exit status: 0 if every command succeeded; 1 if one failed (e.g. the server is unreachable);
2 if one was malformed; 3 if none failed or was malformed but a get found its key absent.`,
		MinArgs: 1, MaxArgs: -1,
		Run: run,
	}
}

func run(ctx context.Context, env *cli.Env) error {
	c := kvstore.NewClient(addr(env.Args[0]))
	defer c.Close()
	if len(env.Args) > 1 {
		args := env.Args[1:]
		if len(args) >= 3 && args[0] == "put" {
			args = []string{"put", args[1], strings.Join(args[2:], " ")}
		}
		err := do(c, env, args)
		var bad *badCommand
		if errors.As(err, &bad) {
			return cli.Usagef("%v", err)
		}
		return err
	}
	// Stdin: go on after a bad line, and exit with the worst status met. Lines are read on
	// their own goroutine so that SIGINT ends a kvcli waiting for its terminal.
	var failed, malformed, absent bool
	lines, readErr := readLines(env.Stdin)
	for n := 1; ; n++ {
		var line string
		var ok bool
		select {
		case line, ok = <-lines:
		case <-ctx.Done():
			return nil
		}
		if !ok {
			break
		}
		args := splitLine(strings.TrimSuffix(line, "\r"))
		if len(args) == 0 {
			continue
		}
		err := do(c, env, args)
		var bad *badCommand
		var status *cli.StatusError
		switch {
		case err == nil:
		case errors.As(err, &bad):
			malformed = true
			fmt.Fprintf(env.Stderr, "kvcli: line %d: %v\n", n, err)
		case errors.As(err, &status):
			absent = true
			fmt.Fprintf(env.Stderr, "kvcli: %v\n", status.Err)
		default:
			failed = true
			fmt.Fprintf(env.Stderr, "kvcli: line %d: %v\n", n, err)
		}
	}
	if err := <-readErr; err != nil {
		return fmt.Errorf("reading stdin: %w", err)
	}
	switch {
	case failed:
		return &cli.StatusError{Status: 1}
	case malformed:
		return &cli.StatusError{Status: 2}
	case absent:
		return &cli.StatusError{Status: statusAbsent}
	}
	return nil
}

// readLines sends the lines of r on lines, closed at the end of r; then the read error, if
// any, on errc.
func readLines(r io.Reader) (lines <-chan string, errc <-chan error) {
	out, errs := make(chan string), make(chan error, 1)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 16<<20)
		for sc.Scan() {
			out <- sc.Text()
		}
		errs <- sc.Err()
	}()
	return out, errs
}

// splitLine splits a stdin line into a command and its arguments: fields separated by spaces
// or tabs, except that a put's value is the rest of the line after the one space or tab that
// follows its key, so "put k  a  b" stores " a  b".
func splitLine(line string) []string {
	var args []string
	rest := line
	for {
		if len(args) == 2 && args[0] == "put" {
			return append(args, rest)
		}
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" {
			return args
		}
		i := strings.IndexAny(rest, " \t")
		if i < 0 {
			return append(args, rest)
		}
		args = append(args, rest[:i])
		rest = rest[i+1:]
	}
}

// badCommand is a command kvcli does not know, or one with the wrong arguments.
type badCommand struct{ args []string }

func (e *badCommand) Error() string {
	return fmt.Sprintf("bad command %q: want get KEY, put KEY VALUE or list [PREFIX]", strings.Join(e.args, " "))
}

// do runs one command and prints its result. A get of an absent key returns a *cli.StatusError
// with statusAbsent.
func do(c *kvstore.Client, env *cli.Env, args []string) error {
	switch {
	case args[0] == "get" && len(args) == 2:
		v, found, err := c.Get(args[1])
		if err != nil {
			return err
		}
		if !found {
			return &cli.StatusError{Status: statusAbsent, Err: fmt.Errorf("%s is absent", args[1])}
		}
		fmt.Fprintln(env.Stdout, v)
	case args[0] == "put" && len(args) == 3:
		if err := c.Put(args[1], args[2]); err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, "OK")
	case args[0] == "list" && len(args) <= 2:
		prefix := ""
		if len(args) == 2 {
			prefix = args[1]
		}
		m, err := c.List(prefix)
		if err != nil {
			return err
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			fmt.Fprintf(env.Stdout, "%s=%s\n", k, m[k])
		}
	default:
		return &badCommand{args: args}
	}
	return nil
}
