// Command cmud plays CMUD. With no flags it runs a kvstore server inside the process, so one
// player can play at once; -server joins a running kvstore cluster so many players share the
// world. Commands are read line by line from stdin, so a game can be scripted.
//
//	go run ./cmud/cmd/cmud [-name NAME] [-server HOST:PORT[,HOST:PORT...]]
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"ds440/cmud"
	"ds440/kvstore"
)

// roundRobin spreads calls over the query actors of a cluster.
type roundRobin struct {
	addrs []string
	next  atomic.Uint64
}

func (r *roundRobin) NextAddr() string { return r.addrs[(r.next.Add(1)-1)%uint64(len(r.addrs))] }

func main() {
	fs := flag.NewFlagSet("cmud", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: cmud [-name NAME] [-server HOST:PORT[,HOST:PORT...]] [-delay D]")
		fs.PrintDefaults()
	}
	servers := fs.String("server", "", "query actor addresses of a running kvstore cluster (default: a server inside this process)")
	name := fs.String("name", "", "your player's name (default: asked for)")
	delay := fs.Duration("delay", 150*time.Millisecond, "average pause per mining or solving round")
	if err := fs.Parse(os.Args[1:]); errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	} else if err != nil {
		os.Exit(2)
	}
	if fs.NArg() != 0 || *delay < 0 {
		fmt.Fprintln(fs.Output(), "cmud: unexpected arguments")
		fs.Usage()
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	router := &roundRobin{}
	if *servers == "" {
		server, _, err := kvstore.NewServer(0, 1, nil)
		if err != nil {
			log.Error("cannot start the embedded kvstore server", "err", err)
			os.Exit(1)
		}
		defer server.Close()
		router.addrs = server.QueryAddrs()
	} else {
		for _, a := range strings.Split(*servers, ",") {
			if a = strings.TrimSpace(a); a != "" {
				router.addrs = append(router.addrs, a)
			}
		}
		if len(router.addrs) == 0 {
			fmt.Fprintln(fs.Output(), "cmud: -server needs at least one HOST:PORT")
			os.Exit(2)
		}
	}
	store := kvstore.NewClient(router)
	defer store.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := play(ctx, cmud.New(store, cmud.Config{RoundDelay: *delay}), *name, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cmud:", err)
		os.Exit(1)
	}
}

// play runs one player's session: lines in, the game's answers out, until quit, EOF or ctx.
func play(ctx context.Context, game *cmud.Game, name string, in *os.File, out io.Writer) error {
	fi, _ := in.Stat()
	terminal := fi != nil && fi.Mode()&os.ModeCharDevice != 0
	lines := make(chan string)
	go func() {
		defer close(lines)
		r := bufio.NewReader(in)
		for {
			l, err := readLine(r, cmud.MaxLineLen+1)
			if err != nil {
				return
			}
			select {
			case lines <- l:
			case <-ctx.Done():
				return
			}
		}
	}()
	prompt := func(p string) {
		if terminal {
			fmt.Fprint(out, p)
		}
	}
	next := func() (string, bool) {
		select {
		case l, ok := <-lines:
			return l, ok
		case <-ctx.Done():
			return "", false
		}
	}

	var s *cmud.Session
	for s == nil {
		if name == "" {
			prompt("What is your name? ")
			l, ok := next()
			if !ok {
				return nil
			}
			name = strings.TrimSpace(l)
		}
		var greeting string
		var err error
		s, greeting, err = game.Join(name)
		switch {
		case errors.Is(err, cmud.ErrBadName):
			fmt.Fprintln(out, strings.TrimPrefix(err.Error(), "cmud: "))
			name = ""
		case err != nil:
			return fmt.Errorf("cannot reach the world: %w", err)
		default:
			fmt.Fprintln(out, greeting)
		}
	}
	for {
		prompt("> ")
		l, ok := next()
		if !ok {
			fmt.Fprintln(out, "\nGoodbye.")
			return nil
		}
		text, quit := s.Exec(l)
		if text != "" {
			fmt.Fprintln(out, text)
		}
		if quit {
			return nil
		}
	}
}

// readLine returns the next line of r without its line end, cut to at most limit bytes: the
// rest of a longer line is read and dropped, so any line, however long, gets the game's
// "too long" hint instead of ending the session. It returns io.EOF once r has no more lines.
func readLine(r *bufio.Reader, limit int) (string, error) {
	var line []byte
	read := 0
	for {
		chunk, err := r.ReadSlice('\n')
		read += len(chunk)
		line = append(line, chunk[:min(len(chunk), limit-len(line))]...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && read == 0 {
			return "", err
		}
		return strings.TrimRight(string(line), "\r\n"), nil
	}
}
