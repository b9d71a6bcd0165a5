package cmud

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Limits on what one command may ask for, so a typo cannot freeze the game.
const (
	MaxLineLen    = 200
	MaxMineRounds = 1_000
	MaxBuyUnits   = 1_000_000
)

// command is one verb of the game.
type command struct {
	name, args, example, help string
	run                       func(s *Session, p *Player, args []string) (Result, error)
}

var commands []command

func init() {
	commands = []command{
		{"help", "", "help", "show this list", (*Session).help},
		{"stats", "", "stats", "your level, place, coins, power and problem", (*Session).stats},
		{"map", "", "map", "who is where on campus", (*Session).showMap},
		{"move", "PLACE", "move gates 3", "walk to the fence, the bridge or a Gates floor (1-9)", (*Session).move},
		{"mine", "[N]", "mine 5", fmt.Sprintf("mine N rounds (1-%d) with all your hardware", MaxMineRounds), (*Session).mine},
		{"shop", "", "shop", "what you can buy at your level", (*Session).shop},
		{"buy", "HW [N]", "buy gpu 2", "buy N units of hardware from the shop", (*Session).buy},
		{"inv", "", "inv", "the hardware you own", (*Session).inv},
		{"solve", "", "solve", "fight your level's shared problem; beat it to rise", (*Session).solve},
		{"quit", "", "quit", "leave the game (your state stays in the world)", (*Session).quit},
	}
}

// Step computes what a command line does for the session's player, reading the store but
// writing nothing: the writes are in the Result. Bad input gets a short hint, never an error;
// the error is for a failing store.
func (s *Session) Step(line string) (Result, error) {
	if len(line) > MaxLineLen {
		return hint("That line is too long; the limit is %d characters.", MaxLineLen), nil
	}
	words := strings.Fields(strings.ToLower(line))
	if len(words) == 0 {
		return Result{}, nil
	}
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == words[0] })
	if i < 0 {
		return hint("Unknown command %q. Type help for the list.", words[0]), nil
	}
	p, err := loadPlayer(s.g.store, s.name)
	if err != nil {
		return Result{}, err
	}
	return commands[i].run(s, p, words[1:])
}

func hint(format string, args ...any) Result { return Result{Text: fmt.Sprintf(format, args...)} }

func usage(c string) Result {
	for _, cmd := range commands {
		if cmd.name == c {
			return hint("Usage: %s %s   (for example: %s)", cmd.name, cmd.args, cmd.example)
		}
	}
	return hint("Type help for the list.")
}

// count parses an optional count argument in [1, limit]; ok is false with a hint otherwise.
func count(args []string, at int, limit int64, what string) (n int64, bad *Result) {
	if len(args) <= at {
		return 1, nil
	}
	n, err := strconv.ParseInt(args[at], 10, 64)
	if err != nil || n < 1 || n > limit {
		r := hint("%s must be a whole number from 1 to %d, not %q.", what, limit, args[at])
		return 0, &r
	}
	return n, nil
}

func (s *Session) help(p *Player, args []string) (Result, error) {
	var b strings.Builder
	b.WriteString("Commands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-12s %-52s e.g. %s\n", strings.TrimSpace(c.name+" "+c.args), c.help, c.example)
	}
	return Result{Text: strings.TrimRight(b.String(), "\n")}, nil
}

func (s *Session) stats(p *Player, args []string) (Result, error) {
	if len(args) > 0 {
		return usage("stats"), nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s the %s, at %s\ncoins %d, power %d\n", p.Name, p.Level, p.Place, p.Coins, p.Power())
	if p.Level == Retired {
		b.WriteString("You are retired: the ladder is behind you.")
		return Result{Text: b.String()}, nil
	}
	total, err := problemDamage(s.g.store, p.Level)
	if err != nil {
		return Result{}, err
	}
	h := problemHealth[p.Level]
	fmt.Fprintf(&b, "problem: %s, %d of %d done", problemNames[p.Level], min(h, h-(p.target()-total)), h)
	return Result{Text: b.String()}, nil
}

func (s *Session) showMap(p *Player, args []string) (Result, error) {
	if len(args) > 0 {
		return usage("map"), nil
	}
	where, err := s.g.store.List(placePrefix)
	if err != nil {
		return Result{}, err
	}
	at := map[Place][]string{}
	for k, v := range where {
		at[Place(v)] = append(at[Place(v)], strings.TrimPrefix(k, placePrefix))
	}
	var b strings.Builder
	for _, pl := range places {
		names := at[pl]
		slices.Sort(names)
		who := strings.Join(names, ", ")
		if who == "" {
			who = "-"
		}
		mark := "  "
		if pl == p.Place {
			mark = "* "
		}
		fmt.Fprintf(&b, "%s%-15s %s\n", mark, pl.String(), who)
	}
	return Result{Text: strings.TrimRight(b.String(), "\n")}, nil
}

func (s *Session) move(p *Player, args []string) (Result, error) {
	if len(args) == 0 {
		return usage("move"), nil
	}
	to, err := parsePlace(args)
	if err != nil {
		return hint("%s.", err), nil
	}
	if to == p.Place {
		return hint("You are already at %s.", to), nil
	}
	return Result{
		Text:   fmt.Sprintf("You walk from %s to %s.", p.Place, to),
		Writes: []Write{{placeKey(s.name), string(to)}},
	}, nil
}

func (s *Session) mine(p *Player, args []string) (Result, error) {
	if len(args) > 1 {
		return usage("mine"), nil
	}
	rounds, bad := count(args, 0, MaxMineRounds, "The number of rounds")
	if bad != nil {
		return *bad, nil
	}
	var earned int64
	broken := map[string]int64{}
	for range rounds {
		earned += s.luck(p.Power())
		if hw, ok := s.breakage(p); ok {
			p.Hardware[hw]--
			broken[hw]++
		}
	}
	r := Result{Delay: s.delay(int(rounds)), Writes: []Write{{s.ledger(), earnEntry(earned)}}}
	r.Text = fmt.Sprintf("You mine for %d round%s and earn %d coin%s (%d in all).", rounds, plural(rounds), earned, plural(earned), p.Coins+earned)
	for _, h := range hardware {
		if n := broken[h.Name]; n > 0 {
			r.Writes = append(r.Writes, Write{s.ledger(), breakEntry(h.Name, n)})
			r.Text += fmt.Sprintf("\nOverheated: %d %s broke.", n, h.Name)
		}
	}
	return r, nil
}

// breakage decides whether a unit breaks this round and which: any unit but the last cpu, each
// equally likely.
func (s *Session) breakage(p *Player) (string, bool) {
	if s.g.cfg.BreakOdds < 0 || s.g.cfg.Rand.IntN(s.g.cfg.BreakOdds) != 0 {
		return "", false
	}
	breakable := p.Hardware["cpu"] - 1
	for _, h := range hardware[1:] {
		breakable += p.Hardware[h.Name]
	}
	if breakable <= 0 {
		return "", false
	}
	pick := int64(s.g.cfg.Rand.IntN(int(min(breakable, 1<<30))))
	for _, h := range hardware {
		n := p.Hardware[h.Name]
		if h.Name == "cpu" {
			n--
		}
		if pick < n {
			return h.Name, true
		}
		pick -= n
	}
	return "", false
}

func (s *Session) shop(p *Player, args []string) (Result, error) {
	if len(args) > 0 {
		return usage("shop"), nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "The shop (you have %d coins):\n", p.Coins)
	for _, h := range hardware {
		if h.Level > p.Level {
			fmt.Fprintf(&b, "  %-12s sold from %s up\n", h.Name, h.Level)
			continue
		}
		fmt.Fprintf(&b, "  %-12s %5d coins  power %-6d you can afford %d\n", h.Name, h.Price, h.Power, max(0, p.Coins/h.Price))
	}
	return Result{Text: strings.TrimRight(b.String(), "\n")}, nil
}

func (s *Session) buy(p *Player, args []string) (Result, error) {
	if len(args) == 0 || len(args) > 2 {
		return usage("buy"), nil
	}
	h, ok := findHardware(args[0])
	if !ok {
		return hint("The shop has no %q. Type shop to see what it sells.", args[0]), nil
	}
	if h.Level > p.Level {
		return hint("The shop sells %s from %s up; you are %s.", h.Name, h.Level, withArticle(p.Level.String())), nil
	}
	units, bad := count(args, 1, MaxBuyUnits, "The number of units")
	if bad != nil {
		return *bad, nil
	}
	cost := units * h.Price
	if cost > p.Coins {
		return hint("%d %s cost %d coins; you have %d. Go mine some more.", units, h.Name, cost, p.Coins), nil
	}
	return Result{
		Text:   fmt.Sprintf("You buy %d %s for %d coin%s. Your power is now %d.", units, h.Name, cost, plural(cost), p.Power()+units*h.Power),
		Writes: []Write{{s.ledger(), buyEntry(h.Name, units, cost)}},
	}, nil
}

func (s *Session) inv(p *Player, args []string) (Result, error) {
	if len(args) > 0 {
		return usage("inv"), nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "You carry %d coins and:\n", p.Coins)
	for _, h := range hardware {
		if n := p.Hardware[h.Name]; n > 0 {
			fmt.Fprintf(&b, "  %-12s x%-8d power %d\n", h.Name, n, n*h.Power)
		}
	}
	fmt.Fprintf(&b, "total power %d", p.Power())
	return Result{Text: b.String()}, nil
}

func (s *Session) solve(p *Player, args []string) (Result, error) {
	if len(args) > 0 {
		return usage("solve"), nil
	}
	if p.Level == Retired {
		return hint("You are retired. Let the young ones solve things."), nil
	}
	before, err := problemDamage(s.g.store, p.Level)
	if err != nil {
		return Result{}, err
	}
	damage := s.luck(p.Power())
	total := before + damage
	r := Result{Delay: s.delay(1), Writes: []Write{{s.problem(p.Level), strconv.FormatInt(damage, 10)}}}
	h := problemHealth[p.Level]
	if total < p.target() {
		r.Text = fmt.Sprintf("You chip away at %s: %d done. It stands at %d of %d.",
			problemNames[p.Level], damage, h-(p.target()-total), h)
		return r, nil
	}
	next := p.Level + 1
	base := int64(0)
	if next < Retired {
		if base, err = problemDamage(s.g.store, next); err != nil {
			return Result{}, err
		}
	}
	r.Writes = append(r.Writes, Write{promotedKey(s.name, next), strconv.FormatInt(base, 10)})
	r.Text = fmt.Sprintf("You deal %d and %s is beaten! You are promoted to %s.", damage, problemNames[p.Level], next)
	if next == Retired {
		r.Text += "\nYou have climbed the whole ladder. Enjoy your retirement."
	}
	return r, nil
}

func (s *Session) quit(p *Player, args []string) (Result, error) {
	return Result{Text: fmt.Sprintf("Goodbye, %s.", s.name), Quit: true}, nil
}

func plural(n int64) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// withArticle puts "a" or "an" before a level's name: "an Undergraduate", "a PhD".
func withArticle(name string) string {
	if name != "" && strings.ContainsRune("AEIOU", rune(name[0])) {
		return "an " + name
	}
	return "a " + name
}
