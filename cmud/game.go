package cmud

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"time"
)

// Rand is the source of the game's luck; *math/rand/v2.Rand satisfies it. Tests inject a
// fixed one so every command has one outcome.
type Rand interface {
	IntN(n int) int
}

// Config tunes a Game. The zero value plays the real game.
type Config struct {
	// Store holds every piece of the game's state; default a fresh MemoryStore, a world that
	// lasts as long as the Game.
	Store Store
	// Rand decides mining and solving luck and which hardware breaks; default math/rand/v2.
	Rand Rand
	// RoundDelay is the average pause per mining or solving round, so the game has a pace;
	// zero (the default) means none, as in tests.
	RoundDelay time.Duration
	// Sleep waits out a delay; default time.Sleep.
	Sleep func(time.Duration)
	// SessionID names this game process in ledger keys; default 8 random bytes in hex.
	SessionID string
	// BreakOdds: on average one unit of hardware breaks every BreakOdds mining rounds
	// (never the last cpu); default 50, negative means nothing ever breaks.
	BreakOdds int
}

// Game is CMUD over a Store. It keeps no game state of its own: every command reads the store
// and writes its effects back, so a player can quit and resume on any server of the cluster.
// On an eventually consistent store it still reads its own writes (see ownWrites).
type Game struct {
	store Store
	cfg   Config
}

// globalRand is math/rand/v2's shared source, safe for concurrent use.
type globalRand struct{}

func (globalRand) IntN(n int) int { return mrand.IntN(n) }

// New returns a game over cfg.Store.
func New(cfg Config) *Game {
	if cfg.Store == nil {
		cfg.Store = NewMemoryStore()
	}
	if cfg.Rand == nil {
		cfg.Rand = globalRand{}
	}
	if cfg.Sleep == nil {
		cfg.Sleep = time.Sleep
	}
	if cfg.SessionID == "" {
		var b [8]byte
		rand.Read(b[:])
		cfg.SessionID = hex.EncodeToString(b[:])
	}
	if cfg.BreakOdds == 0 {
		cfg.BreakOdds = 50
	}
	return &Game{store: newOwnWrites(cfg.Store, time.Now), cfg: cfg}
}

// ErrBadName is returned by Join for a name that cannot be a player's.
var ErrBadName = errors.New("cmud: bad player name")

// Session is one player playing in this process.
type Session struct {
	g    *Game
	name string
	seq  int // next ledger sequence number of this session
}

// Write is one key the store must take.
type Write struct{ Key, Value string }

// Result is what one command does: the text to show, the writes to make, how long the action
// takes, and whether the player has left.
type Result struct {
	Text   string
	Writes []Write
	Delay  time.Duration
	Quit   bool
}

// Join starts a session for name, creating the player at StartPlace if they are new, and
// returns the greeting.
func (g *Game) Join(name string) (*Session, string, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if err := checkName(name); err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrBadName, err)
	}
	s := &Session{g: g, name: name}
	p, err := loadPlayer(g.store, name)
	if err != nil {
		return nil, "", err
	}
	if p.Exists {
		return s, fmt.Sprintf("Welcome back, %s the %s. You are at %s with %d coins.\nType help for the commands.", name, p.Level, p.Place, p.Coins), nil
	}
	base, err := problemDamage(g.store, Undergraduate)
	if err != nil {
		return nil, "", err
	}
	if err := s.apply([]Write{
		{promotedKey(name, Undergraduate), fmt.Sprint(base)},
		{placeKey(name), string(StartPlace)},
	}); err != nil {
		return nil, "", err
	}
	return s, fmt.Sprintf("Welcome to CMUD, %s. You are a fresh Undergraduate on %s, with one trusty cpu\n"+
		"and big dreams. Mine coins, buy hardware, and solve your way up the ladder.\nType help for the commands.", name, StartPlace), nil
}

// Name is the session's player.
func (s *Session) Name() string { return s.name }

// Exec runs one command line: it computes the result, waits out its delay, makes its writes and
// returns the text. A store failure is reported in the text; the player can try again.
func (s *Session) Exec(line string) (text string, quit bool) {
	r, err := s.Step(line)
	if err != nil {
		return "The campus network is down (" + err.Error() + "). Try again.", false
	}
	if r.Delay > 0 {
		s.g.cfg.Sleep(r.Delay)
	}
	if err := s.apply(r.Writes); err != nil {
		return "The campus network is down (" + err.Error() + "); that did not happen. Try again.", false
	}
	return r.Text, r.Quit
}

func (s *Session) apply(ws []Write) error {
	for _, w := range ws {
		if err := s.g.store.Put(w.Key, w.Value); err != nil {
			return err
		}
	}
	return nil
}

// ledger returns the key of this session's next ledger entry.
func (s *Session) ledger() string {
	s.seq++
	return ledgerKey(s.name, s.g.cfg.SessionID, s.seq)
}

func (s *Session) problem(l Level) string {
	s.seq++
	return problemKey(l, s.name, s.g.cfg.SessionID, s.seq)
}

// luck scales an amount by 80% to 120%, never below 1.
func (s *Session) luck(n int64) int64 {
	return max(1, n*int64(80+s.g.cfg.Rand.IntN(41))/100)
}

// delay is the pause for rounds of work: on average RoundDelay each.
func (s *Session) delay(rounds int) time.Duration {
	if s.g.cfg.RoundDelay <= 0 {
		return 0
	}
	return time.Duration(rounds) * s.g.cfg.RoundDelay * time.Duration(50+s.g.cfg.Rand.IntN(101)) / 100
}
