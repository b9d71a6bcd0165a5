package cmud

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// steadyRand is average luck every time: 100% mining and solving, and nothing ever breaks
// (IntN(n) is never 0 for n > 1).
type steadyRand struct{}

func (steadyRand) IntN(n int) int { return n / 2 }

// scriptRand returns its values in order, then steady luck.
type scriptRand struct{ vals []int }

func (r *scriptRand) IntN(n int) int {
	if len(r.vals) == 0 {
		return n / 2
	}
	v := r.vals[0]
	r.vals = r.vals[1:]
	return v % n
}

func newGame(t *testing.T, store Store, session string) *Game {
	t.Helper()
	return New(Config{Store: store, Rand: steadyRand{}, SessionID: session})
}

func join(t *testing.T, g *Game, name string) *Session {
	t.Helper()
	s, _, err := g.Join(name)
	if err != nil {
		t.Fatalf("Join(%q): %v", name, err)
	}
	return s
}

func player(t *testing.T, store Store, name string) *Player {
	t.Helper()
	p, err := loadPlayer(store, name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// exec runs a command and fails the test if its text lacks want.
func exec(t *testing.T, s *Session, line, want string) string {
	t.Helper()
	out, _ := s.Exec(line)
	if !strings.Contains(out, want) {
		t.Fatalf("%q printed:\n%s\nwant it to contain %q", line, out, want)
	}
	return out
}

// seeded numbers the ledger entries give makes, unique across the parallel tests.
var seeded atomic.Int64

// give seeds a player's ledger directly, as if earned or bought in an earlier session.
func give(t *testing.T, store Store, name, entry string) {
	t.Helper()
	store.Put(ledgerKey(name, "seed", int(seeded.Add(1))), entry)
}

func TestJoinCreatesAndResumes(t *testing.T) {
	t.Parallel()
	store := NewMemoryStore()
	s, greeting, err := newGame(t, store, "a").Join("Ada")
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "ada" || !strings.Contains(greeting, "Welcome to CMUD") {
		t.Fatalf("Join = %q, %q", s.Name(), greeting)
	}
	p := player(t, store, "ada")
	if !p.Exists || p.Place != StartPlace || p.Level != Undergraduate || p.Coins != 0 || p.Power() != 1 {
		t.Fatalf("new player = %+v", p)
	}
	exec(t, s, "mine 3", "earn 3 coins")
	exec(t, s, "move fence", "to the Fence")
	exec(t, s, "quit", "Goodbye")

	// A later process (say, on another server of the cluster) finds everything in the store.
	s2, greeting, err := newGame(t, store, "b").Join("ada")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(greeting, "Welcome back") || !strings.Contains(greeting, "the Fence with 3 coins") {
		t.Fatalf("resume greeting = %q", greeting)
	}
	exec(t, s2, "stats", "coins 3, power 1")
}

func TestJoinRejectsBadNames(t *testing.T) {
	t.Parallel()
	g := newGame(t, NewMemoryStore(), "a")
	for _, name := range []string{"", "   ", "bob smith", "a/b", "problem", "ledger", "place", "fence",
		"gates5", "9lives", "-x", strings.Repeat("n", MaxNameLen+1), "ünï"} {
		if _, _, err := g.Join(name); !errors.Is(err, ErrBadName) {
			t.Errorf("Join(%q) = %v, want ErrBadName", name, err)
		}
	}
}

func TestMoveToEveryPlace(t *testing.T) {
	t.Parallel()
	store := NewMemoryStore()
	s := join(t, newGame(t, store, "a"), "mover")
	cases := []struct {
		input string
		want  Place
	}{
		{"move fence", "fence"}, {"move bridge", "bridge"}, {"move the fence", "fence"},
		{"move The Bridge", "bridge"}, {"move gates 1", "gates1"}, {"move gates2", "gates2"},
		{"move floor 3", "gates3"}, {"move 4", "gates4"}, {"move gates floor 6", "gates6"},
		{"move gates 7", "gates7"}, {"move gates 8", "gates8"}, {"move 9", "gates9"}, {"move 5", "gates5"},
	}
	for _, tc := range cases {
		exec(t, s, tc.input, "You walk")
		if got := player(t, store, "mover").Place; got != tc.want {
			t.Errorf("%q: place = %q, want %q", tc.input, got, tc.want)
		}
	}
	for _, bad := range []string{"move mars", "move gates 10", "move 0", "move floor", "move"} {
		before := store.Snapshot()
		out, _ := s.Exec(bad)
		if !strings.Contains(out, "no such place") && !strings.Contains(out, "Usage: move") {
			t.Errorf("%q printed %q, want a hint", bad, out)
		}
		if len(store.Snapshot()) != len(before) || player(t, store, "mover").Place != "gates5" {
			t.Errorf("%q changed the store", bad)
		}
	}
	exec(t, s, "move 5", "already at Gates floor 5")
}

func TestMineAndBuy(t *testing.T) {
	t.Parallel()
	store := NewMemoryStore()
	s := join(t, newGame(t, store, "a"), "miner")
	cases := []struct {
		line       string
		want       string
		coins, pow int64
		wantWrites bool
	}{
		{"mine", "earn 1 coin (1 in all)", 1, 1, true},
		{"mine 9", "earn 9 coins (10 in all)", 10, 1, true},
		{"buy cpu 11", "cost 11 coins; you have 10", 10, 1, false},
		{"buy gpu", "from Masters up", 10, 1, false},
		{"buy cpu 4", "buy 4 cpu for 4 coins. Your power is now 5", 6, 5, true},
		{"mine 2", "earn 10 coins (16 in all)", 16, 5, true},
		{"buy cpu", "buy 1 cpu for 1 coin.", 15, 6, true},
		{"buy laptop", `no "laptop"`, 15, 6, false},
	}
	for _, tc := range cases {
		r, err := s.Step(tc.line)
		if err != nil {
			t.Fatal(err)
		}
		if (len(r.Writes) > 0) != tc.wantWrites {
			t.Errorf("%q writes = %v, want writes: %v", tc.line, r.Writes, tc.wantWrites)
		}
		exec(t, s, tc.line, tc.want)
		p := player(t, store, "miner")
		if p.Coins != tc.coins || p.Power() != tc.pow {
			t.Errorf("after %q: coins %d power %d, want %d and %d", tc.line, p.Coins, p.Power(), tc.coins, tc.pow)
		}
	}
	exec(t, s, "inv", "cpu          x6")
}

func TestShopTiersFollowLevel(t *testing.T) {
	t.Parallel()
	for l := Undergraduate; l <= Retired; l++ {
		store := NewMemoryStore()
		s := join(t, newGame(t, store, "a"), "shopper")
		store.Put(promotedKey("shopper", l), "0")
		out, _ := s.Exec("shop")
		for _, h := range hardware {
			sells := strings.Contains(out, h.Name+strings.Repeat(" ", 12-len(h.Name))+" ") && !strings.Contains(out, h.Name+strings.Repeat(" ", 13-len(h.Name))+"sold from")
			if want := h.Level <= l; sells != want {
				t.Errorf("%s shop sells %s: %v, want %v\n%s", l, h.Name, sells, want, out)
			}
		}
	}
}

// A player with enormous power beats one problem per solve, all the way to Retired.
func TestSolveClimbsTheWholeLadder(t *testing.T) {
	t.Parallel()
	store := NewMemoryStore()
	s := join(t, newGame(t, store, "a"), "climber")
	give(t, store, "climber", "buy dark_matter 2000 0") // power 20,000,000
	for l := Undergraduate; l < Retired; l++ {
		exec(t, s, "solve", "promoted to "+(l+1).String())
		if got := player(t, store, "climber").Level; got != l+1 {
			t.Fatalf("level = %s, want %s", got, l+1)
		}
	}
	exec(t, s, "solve", "You are retired")
	exec(t, s, "stats", "climber the Retired")
}

// Solving chips at the problem until its health is used up; then the solver is promoted.
func TestSolveUntilPromotion(t *testing.T) {
	t.Parallel()
	store := NewMemoryStore()
	s := join(t, newGame(t, store, "a"), "grinder")
	give(t, store, "grinder", "buy cpu 29 0") // power 30
	exec(t, s, "solve", "It stands at 30 of 100")
	exec(t, s, "solve", "It stands at 60 of 100")
	exec(t, s, "solve", "It stands at 90 of 100")
	exec(t, s, "stats", "90 of 100 done")
	exec(t, s, "solve", "promoted to Masters")
	exec(t, s, "stats", "grinder the Masters")
	exec(t, s, "stats", "0 of 1000 done")
	exec(t, s, "solve", "It stands at 30 of 1000")
}

// Two players at one level share the problem: its progress is the sum of their work, and the
// beating promotes both (the second on their next solve).
func TestSharedProblemProgressIsTheSum(t *testing.T) {
	t.Parallel()
	store := NewMemoryStore()
	a := join(t, newGame(t, store, "a"), "alice")
	b := join(t, newGame(t, store, "b"), "bob")
	give(t, store, "alice", "buy cpu 39 0") // power 40
	give(t, store, "bob", "buy cpu 19 0")   // power 20
	exec(t, a, "solve", "40 of 100")
	exec(t, b, "solve", "60 of 100")
	exec(t, b, "solve", "80 of 100")
	exec(t, a, "solve", "promoted to Masters")
	exec(t, b, "solve", "promoted to Masters")
	if d, _ := problemDamage(store, Undergraduate); d != 140 {
		t.Errorf("undergraduate problem damage = %d, want 140", d)
	}
	// A newcomer does not ride on the old beating: their problem starts where it stands.
	c := join(t, newGame(t, store, "c"), "carol")
	exec(t, c, "stats", "40 of 100 done")
}

func TestHardwareBreaksButOneCPUIsLeft(t *testing.T) {
	t.Parallel()
	store := NewMemoryStore()
	// Luck 100% (20 of 41), then a break (0 of 50) choosing unit 2: with 1 spare cpu and 3 gpus
	// the units are cpu, gpu, gpu, gpu, so unit 2 is a gpu.
	rnd := &scriptRand{vals: []int{20, 0, 2}}
	s := join(t, New(Config{Store: store, Rand: rnd, SessionID: "a"}), "breaker")
	give(t, store, "breaker", "buy cpu 1 0")
	give(t, store, "breaker", "buy gpu 3 0")
	exec(t, s, "mine", "1 gpu broke")
	if p := player(t, store, "breaker"); p.Hardware["gpu"] != 2 || p.Hardware["cpu"] != 2 {
		t.Errorf("hardware after break = %v", p.Hardware)
	}

	// Every round breaks something, but the last cpu never goes.
	store = NewMemoryStore()
	always := &scriptRand{}
	for range 100 {
		always.vals = append(always.vals, 20, 0, 0)
	}
	s = join(t, New(Config{Store: store, Rand: always, SessionID: "a"}), "unlucky")
	give(t, store, "unlucky", "buy cpu 2 0")
	exec(t, s, "mine 10", "2 cpu broke")
	if p := player(t, store, "unlucky"); p.Hardware["cpu"] != 1 || p.Power() != 1 {
		t.Errorf("hardware after many breaks = %v, want the single cpu", p.Hardware)
	}
	exec(t, s, "mine 5", "earn 5 coins")
}

func TestBadInputGetsAHint(t *testing.T) {
	t.Parallel()
	store := NewMemoryStore()
	s := join(t, newGame(t, store, "a"), "tester")
	cases := []struct{ line, want string }{
		{"dance", `Unknown command "dance"`},
		{"mine -3", "from 1 to 1000"},
		{"mine 0", "from 1 to 1000"},
		{"mine 99999999999999999999", "from 1 to 1000"},
		{"mine 1001", "from 1 to 1000"},
		{"mine lots", "from 1 to 1000"},
		{"mine 1 2", "Usage: mine"},
		{"buy", "Usage: buy"},
		{"buy cpu -1", "from 1 to 1000000"},
		{"buy cpu 1 2", "Usage: buy"},
		{"stats now", "Usage: stats"},
		{"solve harder", "Usage: solve"},
		{"move", "Usage: move"},
		{strings.Repeat("x", MaxLineLen+1), "too long"},
		{"mine " + strings.Repeat("9", 150), "from 1 to 1000"},
	}
	for _, tc := range cases {
		before := store.Snapshot()
		exec(t, s, tc.line, tc.want)
		if len(store.Snapshot()) != len(before) {
			t.Errorf("%q wrote to the store", tc.line)
		}
	}
	if out, quit := s.Exec("   "); out != "" || quit {
		t.Errorf("blank line = %q, %v", out, quit)
	}
}

func TestHelpListsEveryCommandWithAnExample(t *testing.T) {
	t.Parallel()
	s := join(t, newGame(t, NewMemoryStore(), "a"), "reader")
	out := exec(t, s, "help", "Commands:")
	col := -1
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		if c := strings.Index(line, "e.g. "); col < 0 {
			col = c
		} else if c != col {
			t.Errorf("help example out of line at column %d, want %d: %q", c, col, line)
		}
	}
	for _, c := range commands {
		if !strings.Contains(out, c.name) || !strings.Contains(out, "e.g. "+c.example) {
			t.Errorf("help lacks %s with its example:\n%s", c.name, out)
		}
	}
}

func TestMapShowsEveryone(t *testing.T) {
	t.Parallel()
	store := NewMemoryStore()
	a := join(t, newGame(t, store, "a"), "ann")
	b := join(t, newGame(t, store, "b"), "ben")
	exec(t, b, "move bridge", "walk")
	out := exec(t, a, "map", "Gates floor 5")
	for _, want := range []string{"* Gates floor 5   ann", "  the bridge      ben", "  the Fence       -"} {
		if !strings.Contains(out, want) {
			t.Errorf("map lacks %q:\n%s", want, out)
		}
	}
}

func TestQuit(t *testing.T) {
	t.Parallel()
	s := join(t, newGame(t, NewMemoryStore(), "a"), "leaver")
	out, quit := s.Exec("quit")
	if !quit || !strings.Contains(out, "Goodbye") {
		t.Fatalf("quit = %q, %v", out, quit)
	}
}

// failingStore fails every operation, like an unreachable cluster.
type failingStore struct{}

func (failingStore) Get(string) (string, bool, error)       { return "", false, errors.New("down") }
func (failingStore) Put(string, string) error               { return errors.New("down") }
func (failingStore) List(string) (map[string]string, error) { return nil, errors.New("down") }

func TestStoreFailureIsReportedNotFatal(t *testing.T) {
	t.Parallel()
	if _, _, err := newGame(t, failingStore{}, "a").Join("x"); err == nil {
		t.Error("Join on a failing store succeeded")
	}
	s := &Session{g: newGame(t, failingStore{}, "a"), name: "x"}
	for _, line := range []string{"stats", "mine", "solve", "map"} {
		exec(t, s, line, "network is down")
	}
}

func TestDelayComesFromConfig(t *testing.T) {
	t.Parallel()
	var slept []time.Duration
	store := NewMemoryStore()
	g := New(Config{Store: store, Rand: steadyRand{}, SessionID: "a", RoundDelay: 100 * time.Millisecond,
		Sleep: func(d time.Duration) { slept = append(slept, d) }})
	s := join(t, g, "waiter")
	exec(t, s, "mine 3", "earn 3")
	exec(t, s, "solve", "It stands at 1 of 100")
	exec(t, s, "stats", "waiter")
	if want := []time.Duration{300 * time.Millisecond, 100 * time.Millisecond}; fmt.Sprint(slept) != fmt.Sprint(want) {
		t.Errorf("slept %v, want %v", slept, want)
	}
}

func TestShopHintAgreesWithTheLevel(t *testing.T) {
	t.Parallel()
	s := join(t, newGame(t, NewMemoryStore(), "a"), "uma")
	exec(t, s, "buy gpu", "you are an Undergraduate.")
	for level, want := range map[string]string{"Masters": "a Masters", "PhD": "a PhD", "PostDoc": "a PostDoc", "Professor": "a Professor"} {
		if got := withArticle(level); got != want {
			t.Errorf("withArticle(%q) = %q, want %q", level, got, want)
		}
	}
}
