package chaos

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Net is the Links of a cluster of n servers that dial each other: Link(i, j) carries the
// connections server i makes to server j. Server i is told PeerAddrs(i) as its peers'
// addresses, so every message between two servers crosses a Link the Net controls.
type Net struct {
	addrs []string  // the servers' real addresses
	links [][]*Link // links[i][j], nil on the diagonal
	mode  Fault     // what a partition does to the links it breaks: Cut or Hang
}

// NewNet makes the Links of a cluster whose servers listen on addrs. hang chooses how a
// partition breaks a link: by hanging its traffic (packets dropped) rather than resetting it.
func NewNet(addrs []string, hang bool, seed uint64) (*Net, error) {
	n := &Net{addrs: slices.Clone(addrs), mode: Fault{Cut: !hang, Hang: hang}}
	n.links = make([][]*Link, len(addrs))
	for i := range addrs {
		n.links[i] = make([]*Link, len(addrs))
		for j := range addrs {
			if i == j {
				continue
			}
			l, err := NewLink(addrs[j], seed+uint64(i*len(addrs)+j))
			if err != nil {
				n.Close()
				return nil, err
			}
			n.links[i][j] = l
		}
	}
	return n, nil
}

// Size returns the number of servers.
func (n *Net) Size() int { return len(n.addrs) }

// PeerAddrs returns the addresses server i must dial to reach each server, in server order:
// its own real address at i, the Link to every other.
func (n *Net) PeerAddrs(i int) []string {
	out := make([]string, len(n.addrs))
	for j := range n.addrs {
		if j == i {
			out[j] = n.addrs[i]
		} else {
			out[j] = n.links[i][j].Addr()
		}
	}
	return out
}

// Link returns the link that carries server i's connections to server j.
func (n *Net) Link(i, j int) *Link { return n.links[i][j] }

// Heal lifts every fault.
func (n *Net) Heal() { n.each(func(i, j int, l *Link) { l.SetFault(Fault{}) }) }

// SetDelay makes every link pass traffic after d, and lifts partitions.
func (n *Net) SetDelay(d time.Duration) {
	n.each(func(i, j int, l *Link) { l.SetFault(Fault{Delay: d}) })
}

// Partition splits the servers into groups that can talk within but not across. A server in
// no group is cut off from everyone.
func (n *Net) Partition(groups ...[]int) {
	group := make([]int, len(n.addrs))
	for i := range group {
		group[i] = -1 - i // alone unless listed
	}
	for g, members := range groups {
		for _, m := range members {
			group[m] = g
		}
	}
	n.each(func(i, j int, l *Link) {
		if group[i] == group[j] {
			l.SetFault(Fault{})
		} else {
			l.SetFault(n.mode)
		}
	})
}

// Connectivity sets the links from an explicit matrix: ok(i, j) says whether i and j may talk.
// Bridges (two halves that both reach one server in the middle) are made with it.
func (n *Net) Connectivity(ok func(i, j int) bool) {
	n.each(func(i, j int, l *Link) {
		if ok(i, j) && ok(j, i) {
			l.SetFault(Fault{})
		} else {
			l.SetFault(n.mode)
		}
	})
}

// RandomPartition applies one of the classic partitions, chosen with rng, and describes it:
// a random majority/minority split, one server isolated, or a bridge (two halves that both
// reach one server in the middle, which can therefore see a majority on each side).
func (n *Net) RandomPartition(rng *rand.Rand) string {
	size := len(n.addrs)
	perm := rng.Perm(size)
	switch k := rng.IntN(3); {
	case k == 0 || size < 3:
		minority := perm[:(size-1)/2]
		n.Partition(perm[(size-1)/2:], minority)
		return fmt.Sprintf("majority %v | minority %v", sorted(perm[(size-1)/2:]), sorted(minority))
	case k == 1:
		n.Partition(perm[1:])
		return fmt.Sprintf("isolate %d", perm[0])
	default:
		mid, half := perm[0], (size-1)/2
		left, right := perm[1:1+half], perm[1+half:]
		side := make([]int, size)
		for _, s := range left {
			side[s] = 1
		}
		for _, s := range right {
			side[s] = 2
		}
		n.Connectivity(func(i, j int) bool { return side[i] == side[j] || i == mid || j == mid })
		return fmt.Sprintf("bridge %v - %d - %v", sorted(left), mid, sorted(right))
	}
}

// Describe returns one line per server: whom it can reach.
func (n *Net) Describe() string {
	var b strings.Builder
	for i := range n.addrs {
		var reach []string
		for j := range n.addrs {
			if i != j && n.links[i][j].Fault() == (Fault{}) {
				reach = append(reach, fmt.Sprint(j))
			}
		}
		fmt.Fprintf(&b, "%d -> [%s]\n", i, strings.Join(reach, " "))
	}
	return b.String()
}

// Close stops every link.
func (n *Net) Close() {
	n.each(func(i, j int, l *Link) { l.Close() })
}

func (n *Net) each(f func(i, j int, l *Link)) {
	for i, row := range n.links {
		for j, l := range row {
			if l != nil {
				f(i, j, l)
			}
		}
	}
}

func sorted(s []int) []int {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
