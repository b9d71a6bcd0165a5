// Package cli is the one program main of ds440's commands, so that every program behaves
// alike:
//
//   - `-h` prints the usage on stdout and exits 0;
//   - a bad flag or argument prints the reason and the usage on stderr and exits 2;
//   - a failure the program reports exits 1 with one line "NAME: error" on stderr (never a Go
//     stack trace); a *StatusError chooses its own status;
//   - SIGINT and SIGTERM cancel the context the program runs with; a program that then returns
//     nil exits 0, and a second signal ends the process at once (exit 1);
//   - logs go to stderr through the Env's slog.Logger.
//
// A program declares its flags and its Run function in a Command and calls Main from main.
// Exec runs the same Command with given arguments and streams, for tests.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Command is one program.
type Command struct {
	// Name is the program's name, as its user types it.
	Name string
	// Args is the synopsis of the positional arguments, e.g. "HOST:PORT MESSAGE MAXNONCE".
	Args string
	// Doc is printed under the usage line: what the program does, in a few lines.
	Doc string
	// MinArgs and MaxArgs bound the number of positional arguments; MaxArgs < 0 means no limit.
	// Both zero means none are taken.
	MinArgs, MaxArgs int
	// Flags registers the program's flags on fs. May be nil.
	Flags func(fs *flag.FlagSet)
	// Run does the work once the arguments are parsed. ctx ends on SIGINT or SIGTERM. A
	// *StatusError exits with its status; a *UsageError (see Usagef) exits 2 with the usage;
	// any other error exits 1.
	Run func(ctx context.Context, env *Env) error
}

// Env is what a running program reads and writes.
type Env struct {
	Args           []string // positional arguments, after the flags
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Log            *slog.Logger // text on Stderr
}

// UsageError is a mistake in the command line: the program prints it with its usage and exits 2.
type UsageError struct{ msg string }

// Error returns the reason, as printed before the usage.
func (e *UsageError) Error() string { return e.msg }

// Usagef returns a *UsageError with the formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{msg: fmt.Sprintf(format, args...)}
}

// StatusError ends a program with an exit status of its own, for programs whose statuses carry
// an answer (as grep's 1 says "no match"). Err, if not nil, is printed as a failure is.
type StatusError struct {
	Status int
	Err    error
}

// Error returns the wrapped error's message, or "exit status N" if there is none.
func (e *StatusError) Error() string {
	if e.Err == nil {
		return "exit status " + strconv.Itoa(e.Status)
	}
	return e.Err.Error()
}

// Unwrap returns the wrapped error, for errors.Is and errors.As.
func (e *StatusError) Unwrap() error { return e.Err }

// Main runs c as the process's program with os.Args, the standard streams and the process's
// signals, and exits with its status.
func Main(c Command) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal now takes the default action: the process ends at once
	}()
	os.Exit(c.Exec(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exec runs c with args (not including the program name) and the given streams, and returns
// the exit status.
func (c Command) Exec(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // printed below: on stdout for -h, on stderr after a mistake
	if c.Flags != nil {
		c.Flags(fs)
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		c.usage(fs, stdout)
		return 0
	} else if err != nil {
		c.usage(fs, stderr) // the flag package has printed the reason
		return 2
	}
	if err := c.checkArgs(fs.Args()); err != nil {
		return c.usageError(fs, stderr, err)
	}
	env := &Env{
		Args:   fs.Args(),
		Stdin:  stdin,
		Stdout: stdout,
		Stderr: stderr,
		Log:    slog.New(slog.NewTextHandler(stderr, nil)),
	}
	err := c.Run(ctx, env)
	var usage *UsageError
	var status *StatusError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &status):
		if status.Err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", c.Name, status.Err)
		}
		return status.Status
	case errors.As(err, &usage):
		return c.usageError(fs, stderr, err)
	default:
		fmt.Fprintf(stderr, "%s: %v\n", c.Name, err)
		return 1
	}
}

func (c Command) checkArgs(args []string) error {
	n, min, max := len(args), c.MinArgs, c.MaxArgs
	switch {
	case n != min && min == max && max > 0:
		return Usagef("expected %s, got %d", count(min, "argument"), n)
	case n < min:
		return Usagef("expected at least %s, got %d", count(min, "argument"), n)
	case max == 0 && n > 0:
		return Usagef("unexpected arguments %q (flags go before arguments, as -name value)", args)
	case max >= 0 && n > max:
		return Usagef("expected at most %s, got %d", count(max, "argument"), n)
	}
	return nil
}

func (c Command) usageError(fs *flag.FlagSet, w io.Writer, err error) int {
	fmt.Fprintf(w, "%s: %v\n", c.Name, err)
	c.usage(fs, w)
	return 2
}

func (c Command) usage(fs *flag.FlagSet, w io.Writer) {
	line := c.Name
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		line += " [flags]"
	}
	if c.Args != "" {
		line += " " + c.Args
	}
	fmt.Fprintf(w, "usage: %s\n", line)
	if c.Doc != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.Doc))
	}
	if hasFlags {
		fmt.Fprintln(w, "\nflags:")
		out := fs.Output()
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(out)
	}
}

// count says "1 argument" or "3 arguments".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// Uint parses s as what names (e.g. "MAXNONCE"), an unsigned decimal integer of 64 bits,
// returning a *UsageError that says which rule s breaks.
func Uint(what, s string) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	var numErr *strconv.NumError
	switch {
	case err == nil:
		return v, nil
	case errors.As(err, &numErr) && errors.Is(numErr.Err, strconv.ErrRange):
		return 0, Usagef("%s %q is too large: at most %d", what, s, uint64(math.MaxUint64))
	default:
		return 0, Usagef("%s %q is not a whole number >= 0", what, s)
	}
}

// Port parses s as a port number (0 = any free port).
func Port(what, s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 0 || p > 65535 {
		return 0, Usagef("%s %q is not a port number (0 to 65535)", what, s)
	}
	return p, nil
}

// DurationVar defines a time.Duration flag stored in p that rejects negative values at parse
// time, as flag.DurationVar does otherwise.
func DurationVar(fs *flag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var((*nonNegDuration)(p), name, usage)
}

// IntVar defines an int flag stored in p that rejects negative values at parse time.
func IntVar(fs *flag.FlagSet, p *int, name string, value int, usage string) {
	*p = value
	fs.Var((*nonNegInt)(p), name, usage)
}

var errNegative = errors.New("must not be negative")

type nonNegDuration time.Duration

func (d *nonNegDuration) String() string { return time.Duration(*d).String() }
func (d *nonNegDuration) Get() any       { return time.Duration(*d) }
func (d *nonNegDuration) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("want a duration such as 250ms or 2s")
	}
	if v < 0 {
		return errNegative
	}
	*d = nonNegDuration(v)
	return nil
}

type nonNegInt int

func (n *nonNegInt) String() string { return strconv.Itoa(int(*n)) }
func (n *nonNegInt) Get() any       { return int(*n) }
func (n *nonNegInt) Set(s string) error {
	v, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("want a whole number")
	}
	if v < 0 {
		return errNegative
	}
	*n = nonNegInt(v)
	return nil
}

// Capture runs c in process as Exec does, reading stdin from r (nil: empty), and returns the
// exit status and everything c wrote to stdout and stderr. Programs' tests use it.
func (c Command) Capture(ctx context.Context, r io.Reader, args ...string) (status int, stdout, stderr string) {
	if r == nil {
		r = strings.NewReader("")
	}
	var out, errOut strings.Builder
	status = c.Exec(ctx, args, r, &out, &errOut)
	return status, out.String(), errOut.String()
}
