package cmud_test

import (
	"fmt"

	"ds440/cmud"
)

// averageLuck makes every roll the middle one, so the example always plays the same way.
type averageLuck struct{}

func (averageLuck) IntN(n int) int { return n / 2 }

// A short session on an in-memory store: mine, buy, solve.
func Example() {
	game := cmud.New(cmud.Config{Store: cmud.NewMemoryStore(), Rand: averageLuck{}})
	s, _, _ := game.Join("ada")
	for _, line := range []string{"mine 4", "buy cpu 3", "solve", "move bridge"} {
		out, _ := s.Exec(line)
		fmt.Println(out)
	}
	// Output:
	// You mine for 4 rounds and earn 4 coins (4 in all).
	// You buy 3 cpu for 3 coins. Your power is now 4.
	// You chip away at the 15-122 linked-list segfault: 4 done. It stands at 4 of 100.
	// You walk from Gates floor 5 to the bridge.
}
