package cmud

import (
	"strconv"
	"strings"
)

// Player is a player's state as folded from the store: nothing of it lives anywhere else.
type Player struct {
	Name     string
	Exists   bool
	Place    Place
	Level    Level
	Baseline int64            // the damage on this level's problem when the player reached it
	Coins    int64            // earned minus spent, over every session
	Hardware map[string]int64 // units owned, by hardware name
}

// Power is the player's total hardware power: coins per mining round, damage per solve.
func (p *Player) Power() int64 {
	var total int64
	for _, h := range hardware {
		total += p.Hardware[h.Name] * h.Power
	}
	return total
}

// loadPlayer folds everything the store holds about name into a Player.
func loadPlayer(s Store, name string) (*Player, error) {
	p := &Player{Name: name, Hardware: map[string]int64{"cpu": 1}}
	place, ok, err := s.Get(placeKey(name))
	if err != nil {
		return nil, err
	}
	if !ok {
		return p, nil
	}
	p.Exists, p.Place = true, Place(place)

	promos, err := s.List(promotedPrefix + name + "/")
	if err != nil {
		return nil, err
	}
	p.Level = -1
	for k, v := range promos {
		l, err := strconv.Atoi(k[strings.LastIndexByte(k, '/')+1:])
		if err != nil || l < int(Undergraduate) || l > int(Retired) {
			continue // not a key this game wrote
		}
		if Level(l) > p.Level {
			p.Level = Level(l)
			p.Baseline, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	p.Level = max(p.Level, Undergraduate)

	entries, err := s.List(ledgerPrefix + name + "/")
	if err != nil {
		return nil, err
	}
	for _, v := range entries {
		p.apply(v)
	}
	// The single-cpu floor: hardware breaks, but a player always keeps one cpu.
	p.Hardware["cpu"] = max(p.Hardware["cpu"], 1)
	return p, nil
}

// apply folds one ledger entry into p; entries it does not understand are skipped.
func (p *Player) apply(entry string) {
	f := strings.Fields(entry)
	n := func(i int) (int64, bool) {
		if i >= len(f) {
			return 0, false
		}
		v, err := strconv.ParseInt(f[i], 10, 64)
		return v, err == nil && v >= 0
	}
	switch {
	case len(f) == 2 && f[0] == "earn":
		if v, ok := n(1); ok {
			p.Coins += v
		}
	case len(f) == 4 && f[0] == "buy":
		units, ok1 := n(2)
		cost, ok2 := n(3)
		if ok1 && ok2 {
			p.Hardware[f[1]] += units
			p.Coins -= cost
		}
	case len(f) == 3 && f[0] == "break":
		if v, ok := n(2); ok {
			p.Hardware[f[1]] -= v
		}
	}
}

func earnEntry(n int64) string { return "earn " + strconv.FormatInt(n, 10) }

// buyEntry records a purchase as one entry, units and price together, so a crash can never
// leave coins spent without the hardware or the other way round.
func buyEntry(hw string, units, cost int64) string {
	return "buy " + hw + " " + strconv.FormatInt(units, 10) + " " + strconv.FormatInt(cost, 10)
}

func breakEntry(hw string, n int64) string {
	return "break " + hw + " " + strconv.FormatInt(n, 10)
}

// problemDamage is the total damage ever dealt to level l's shared problem, by everyone.
func problemDamage(s Store, l Level) (int64, error) {
	entries, err := s.List(problemLevelPrefix(l))
	if err != nil {
		return 0, err
	}
	var total int64
	for _, v := range entries {
		if d, err := strconv.ParseInt(v, 10, 64); err == nil && d > 0 {
			total += d
		}
	}
	return total, nil
}

// target is the total damage at which the problem of the player's level is next beaten for
// them: the first multiple of the problem's health above their baseline. The problem is beaten
// over and over as players keep solving; each beating promotes everyone who was at the level.
func (p *Player) target() int64 {
	h := problemHealth[p.Level]
	return (p.Baseline/h + 1) * h
}
