// Command cmud plays CMUD. With no -server it runs a kvstore server inside the process, so one
// player can play at once, and keeps that world in a file (-data) between games; -server joins
// a running kvstore cluster so many players share the world. Commands are read line by line
// from stdin, so a game can be scripted.
//
//	go run ./cmud/cmd/cmud [-name NAME] [-server HOST:PORT[,HOST:PORT...] | -data FILE] [-delay D]
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"ds440/cmud"
	"ds440/internal/cli"
	"ds440/kvstore"
)

// roundRobin spreads calls over the query actors of a cluster.
type roundRobin struct {
	addrs []string
	next  atomic.Uint64
}

func (r *roundRobin) NextAddr() string { return r.addrs[(r.next.Add(1)-1)%uint64(len(r.addrs))] }

func main() { cli.Main(program()) }

// defaultData is where the embedded world is kept unless -data says otherwise: the user's
// configuration directory, or nowhere if there is none.
func defaultData() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "ds440", "cmud-world.json")
}

func program() cli.Command {
	var (
		servers, name, data string
		dataSet             bool
		delay               time.Duration
	)
	return cli.Command{
		Name: "cmud",
		Doc: `Cmud plays CMUD, a text game whose whole state lives in kvstore. Commands are read line
by line from stdin (type help in the game); the prompt is shown only when stdin is a terminal.

With no -server, the world is a kvstore server inside this process, for one player at a time,
loaded from the -data file at the start and saved to it at the end ("" keeps nothing).
-server joins a running kvstore cluster, which keeps the world for every player.`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&servers, "server", "", "query actor addresses of a running kvstore cluster (default: a server inside this process)")
			fs.StringVar(&name, "name", "", "your player's name (default: asked for)")
			data = defaultData()
			fs.Func("data", fmt.Sprintf("`FILE` that keeps the in-process world between games; \"\" keeps nothing (default %q)", data), func(v string) error {
				data, dataSet = v, true
				return nil
			})
			cli.DurationVar(fs, &delay, "delay", 150*time.Millisecond, "average pause per mining or solving round")
		},
		Run: func(ctx context.Context, env *cli.Env) error {
			router := &roundRobin{}
			embedded := servers == ""
			for _, a := range strings.Split(servers, ",") {
				if a = strings.TrimSpace(a); a != "" {
					router.addrs = append(router.addrs, a)
				}
			}
			if !embedded && len(router.addrs) == 0 {
				return cli.Usagef("-server needs at least one HOST:PORT")
			}
			if !embedded && dataSet {
				return cli.Usagef("-data keeps the world of the in-process server; with -server the cluster keeps it")
			}
			if embedded {
				server, err := kvstore.New(kvstore.Config{})
				if err != nil {
					return fmt.Errorf("cannot start the embedded kvstore server: %w", err)
				}
				defer server.Close()
				router.addrs = server.QueryAddrs()
			}
			store := kvstore.NewClient(router)
			defer store.Close()
			if embedded && data != "" {
				if err := load(store, data); err != nil {
					return err
				}
			}
			kept := "The cluster keeps your place."
			switch {
			case embedded && data != "":
				kept = "The world is kept in " + data + "."
			case embedded:
				kept = `This world is not kept (-data ""): it ends with this game.`
			}
			err := play(ctx, cmud.New(cmud.Config{Store: store, RoundDelay: delay}), name, kept, env.Stdin, env.Stdout)
			if embedded && data != "" {
				if serr := save(store, data); serr != nil && err == nil {
					err = serr
				}
			}
			return err
		},
	}
}

// load puts every key of the world file into store; a missing file is a new world.
func load(store *kvstore.Client, file string) error {
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("cannot load the world: %w", err)
	}
	var world map[string]string
	if err := json.Unmarshal(b, &world); err != nil {
		return fmt.Errorf("cannot load the world from %s: %w", file, err)
	}
	for k, v := range world {
		if err := store.Put(k, v); err != nil {
			return fmt.Errorf("cannot load the world: %w", err)
		}
	}
	return nil
}

// save writes every key of store to the world file, atomically: a crash leaves the old file
// or the new one, never half of one.
func save(store *kvstore.Client, file string) error {
	world, err := store.List("")
	if err == nil {
		err = writeAtomic(file, world)
	}
	if err != nil {
		return fmt.Errorf("cannot save the world to %s: %w", file, err)
	}
	return nil
}

func writeAtomic(file string, world map[string]string) error {
	b, err := json.Marshal(world)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), filepath.Base(file)+".tmp*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// isTerminal reports whether r is an interactive terminal: a character device other than
// /dev/null (which is one too, and reads as an empty script).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(fi, null)
}

// play runs one player's session: lines in, the game's answers out, until quit, EOF or ctx;
// a session that ends by quit or EOF ends with kept, which says what keeps the player's place.
func play(ctx context.Context, game *cmud.Game, name, kept string, in io.Reader, out io.Writer) error {
	terminal := isTerminal(in)
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
			if terminal {
				fmt.Fprintln(out) // end the prompt's line
			}
			fmt.Fprintln(out, "Goodbye.")
			fmt.Fprintln(out, kept)
			return nil
		}
		text, quit := s.Exec(l)
		if text != "" {
			fmt.Fprintln(out, text)
		}
		if quit {
			fmt.Fprintln(out, kept)
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
