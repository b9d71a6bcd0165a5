// Command kvcli runs get, put and list against a kvstore query actor, from its arguments or,
// with none, one command per line from stdin.
//
//	go run ./kvstore/cmd/kvcli HOST:PORT put greeting hello
//	go run ./kvstore/cmd/kvcli HOST:PORT get greeting
//	go run ./kvstore/cmd/kvcli HOST:PORT list [PREFIX]
package main

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"

	"ds440/kvstore"
)

type addr string

func (a addr) NextAddr() string { return string(a) }

func usage() {
	fmt.Fprintln(os.Stderr, "usage: kvcli HOST:PORT [get KEY | put KEY VALUE | list [PREFIX]]\n"+
		"With no command, kvcli reads commands from stdin, one per line.")
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 || strings.HasPrefix(os.Args[1], "-") {
		usage()
	}
	c := kvstore.NewClient(addr(os.Args[1]))
	defer c.Close()
	if len(os.Args) > 2 {
		if !run(c, os.Args[2:]) {
			os.Exit(1)
		}
		return
	}
	ok := true
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 0 {
			ok = run(c, fields) && ok
		}
	}
	if !ok {
		os.Exit(1)
	}
}

// run executes one command and prints its result; false on failure.
func run(c *kvstore.Client, args []string) bool {
	var err error
	switch {
	case args[0] == "get" && len(args) == 2:
		var v string
		var found bool
		if v, found, err = c.Get(args[1]); err == nil {
			if !found {
				fmt.Println("(absent)")
			} else {
				fmt.Println(v)
			}
		}
	case args[0] == "put" && len(args) >= 3:
		if err = c.Put(args[1], strings.Join(args[2:], " ")); err == nil {
			fmt.Println("OK")
		}
	case args[0] == "list" && len(args) <= 2:
		prefix := ""
		if len(args) == 2 {
			prefix = args[1]
		}
		var m map[string]string
		if m, err = c.List(prefix); err == nil {
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				fmt.Printf("%s=%s\n", k, m[k])
			}
		}
	default:
		fmt.Fprintf(os.Stderr, "kvcli: bad command %q: want get KEY, put KEY VALUE or list [PREFIX]\n", strings.Join(args, " "))
		return false
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kvcli:", err)
		return false
	}
	return true
}
