package kvstore

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"ds440/actor"
)

// ErrBadDesc is returned by NewServer for a remote desc it cannot parse.
var ErrBadDesc = errors.New("kvstore: malformed server desc")

// serverDesc names a server's query actors: its actor system's address and their counters.
// Its text form, the desc NewServer returns, is "host:port/c1,c2,...".
type serverDesc struct {
	Addr     string
	Counters []int
}

func (d serverDesc) String() string {
	cs := make([]string, len(d.Counters))
	for i, c := range d.Counters {
		cs[i] = strconv.Itoa(c)
	}
	return d.Addr + "/" + strings.Join(cs, ",")
}

// ref is the ActorRef of the server's i-th query actor.
func (d serverDesc) ref(i int) *actor.ActorRef {
	return &actor.ActorRef{Address: d.Addr, Counter: d.Counters[i]}
}

// parseDesc reads a desc made by serverDesc.String.
func parseDesc(s string) (serverDesc, error) {
	addr, list, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok || list == "" {
		return serverDesc{}, fmt.Errorf("%w %q: want host:port/counter,...", ErrBadDesc, s)
	}
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		return serverDesc{}, fmt.Errorf("%w %q: bad address: %v", ErrBadDesc, s, err)
	}
	d := serverDesc{Addr: addr}
	for _, f := range strings.Split(list, ",") {
		c, err := strconv.Atoi(f)
		if err != nil || c < 0 {
			return serverDesc{}, fmt.Errorf("%w %q: bad actor counter %q", ErrBadDesc, s, f)
		}
		d.Counters = append(d.Counters, c)
	}
	return d, nil
}
