package chaos

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// reach reports whether a message from i gets to j's echo server and back through the Net.
func reach(t *testing.T, n *Net, i, j int) bool {
	t.Helper()
	c, err := tryDial(t, n.PeerAddrs(i)[j])
	if err != nil {
		return false
	}
	_, err = c.ask("ping", 300*time.Millisecond)
	return err == nil
}

func newNet(t *testing.T, size int, hang bool) *Net {
	t.Helper()
	addrs := make([]string, size)
	for i := range addrs {
		addrs[i] = echoServer(t)
	}
	n, err := NewNet(addrs, hang, 7)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	return n
}

func TestNetPartitionAndHeal(t *testing.T) {
	t.Parallel()
	n := newNet(t, 5, false)
	if got := n.PeerAddrs(2)[2]; got != n.addrs[2] {
		t.Fatalf("a server's own address is %s, want its real one %s", got, n.addrs[2])
	}
	n.Partition([]int{0, 1, 2}, []int{3, 4})
	for _, tc := range []struct {
		i, j int
		want bool
	}{{0, 1, true}, {1, 2, true}, {3, 4, true}, {0, 3, false}, {4, 2, false}} {
		if got := reach(t, n, tc.i, tc.j); got != tc.want {
			t.Errorf("%d reaches %d: %v, want %v\n%s", tc.i, tc.j, got, tc.want, n.Describe())
		}
	}
	n.Heal()
	if !reach(t, n, 0, 4) || !reach(t, n, 3, 1) {
		t.Errorf("not healed:\n%s", n.Describe())
	}
}

func TestNetRandomPartitions(t *testing.T) {
	t.Parallel()
	n := newNet(t, 5, true)
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	for range 30 {
		desc := n.RandomPartition(rng)
		kind, _, _ := strings.Cut(desc, " ")
		seen[kind] = true
		// Whatever the shape, the links are symmetric and some server still reaches a majority.
		best := 0
		for i := range 5 {
			count := 1
			for j := range 5 {
				if i == j {
					continue
				}
				if (n.Link(i, j).Fault() == Fault{}) != (n.Link(j, i).Fault() == Fault{}) {
					t.Fatalf("%s: link %d-%d is one-way", desc, i, j)
				}
				if n.Link(i, j).Fault() == (Fault{}) {
					count++
				}
			}
			best = max(best, count)
		}
		if kind != "bridge" && best > 3 && kind == "majority" {
			t.Fatalf("%s: a server reaches %d of 5 across a majority/minority split", desc, best)
		}
		if kind == "bridge" && best != 5 {
			t.Fatalf("%s: the bridge server reaches %d of 5, want all", desc, best)
		}
	}
	for _, kind := range []string{"majority", "isolate", "bridge"} {
		if !seen[kind] {
			t.Errorf("30 random partitions never made a %s", kind)
		}
	}
}
