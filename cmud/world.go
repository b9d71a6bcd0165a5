package cmud

import (
	"fmt"
	"strconv"
	"strings"
)

// Level is a rung of the CS ladder.
type Level int

// The ladder, bottom to top. Beating the shared problem of a level promotes a player to the next.
const (
	Undergraduate Level = iota
	Masters
	PhD
	PostDoc
	Professor
	Retired
)

var levelNames = [...]string{"Undergraduate", "Masters", "PhD", "PostDoc", "Professor", "Retired"}

// String returns the level's title, such as "PhD".
func (l Level) String() string {
	if l < 0 || int(l) >= len(levelNames) {
		return "Level(" + strconv.Itoa(int(l)) + ")"
	}
	return levelNames[l]
}

// problemHealth is the work needed to beat each level's problem; Retired has none.
var problemHealth = [...]int64{100, 1_000, 10_000, 500_000, 10_000_000}

// problemNames are the shared problems, one per level below Retired.
var problemNames = [...]string{
	"the 15-122 linked-list segfault",
	"a consensus bug that only shows under partitions",
	"the thesis proof that will not close",
	"a grant proposal due at midnight",
	"tenure",
}

// Hardware is something a player buys to mine and solve faster.
type Hardware struct {
	Name  string
	Price int64 // coins
	Power int64 // coins per mining round, damage per solving round
	Level Level // the shop sells it from this level up
}

// hardware lists every kind, cheapest first.
var hardware = []Hardware{
	{"cpu", 1, 1, Undergraduate},
	{"gpu", 5, 10, Masters},
	{"asic", 25, 100, PhD},
	{"quantum", 125, 1_000, PostDoc},
	{"dark_matter", 625, 10_000, Professor},
}

func findHardware(name string) (Hardware, bool) {
	for _, h := range hardware {
		if h.Name == name {
			return h, true
		}
	}
	return Hardware{}, false
}

// Place is where a player stands: the Fence, the bridge, or a floor of Gates.
type Place string

// StartPlace is where a new player appears.
const StartPlace Place = "gates5"

// places in map order.
var places = []Place{"fence", "bridge", "gates1", "gates2", "gates3", "gates4", "gates5", "gates6", "gates7", "gates8", "gates9"}

// String returns the place as players see it.
func (p Place) String() string {
	switch {
	case p == "fence":
		return "the Fence"
	case p == "bridge":
		return "the bridge"
	case strings.HasPrefix(string(p), "gates"):
		return "Gates floor " + strings.TrimPrefix(string(p), "gates")
	}
	return string(p)
}

// parsePlace accepts the ways a player names a place: "fence", "the fence", "bridge",
// "gates5", "gates 5", "floor 5", "5".
func parsePlace(words []string) (Place, error) {
	s := strings.ToLower(strings.Join(words, ""))
	s = strings.TrimPrefix(s, "the")
	for _, pre := range []string{"gatesfloor", "gates", "floor"} {
		if rest, ok := strings.CutPrefix(s, pre); ok && rest != "" {
			s = rest
			break
		}
	}
	if len(s) == 1 && s[0] >= '1' && s[0] <= '9' {
		s = "gates" + s
	}
	for _, p := range places {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("no such place %q; try fence, bridge or gates 1-9", strings.Join(words, " "))
}
