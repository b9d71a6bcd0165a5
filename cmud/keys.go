package cmud

import (
	"fmt"
	"strconv"
	"strings"
)

// The key layout. kvstore is last-writer-wins, so a key that two writers update concurrently
// keeps only one of the two values. Everything that accumulates (coins, hardware, damage) is
// therefore written as a ledger: each action puts a new key that nobody else ever writes,
// named by the player, the session (a random id per game process) and a sequence number within
// the session, and totals are sums over a List of the prefix. Concurrent solves by two players
// on two servers, or two devices of one player mining at once, add keys side by side and lose
// nothing, whatever the servers' clocks say.
//
//	place/<name>                          where the player stands (the last move wins)
//	promoted/<name>/<level>               the player reached <level>; value: the problem's
//	                                      total damage at that moment (the promotion baseline)
//	ledger/<name>/<session>/<seq>         one action: "earn N", "buy HW UNITS COST", "break HW N"
//	problem/<level>/<name>/<session>/<seq> damage dealt to <level>'s shared problem by one solve
//
// A level is only ever added, never rewritten, so promotions cannot be undone by a stale write.
const (
	placePrefix    = "place/"
	promotedPrefix = "promoted/"
	ledgerPrefix   = "ledger/"
	problemPrefix  = "problem/"
)

func placeKey(name string) string { return placePrefix + name }

func promotedKey(name string, l Level) string {
	return promotedPrefix + name + "/" + strconv.Itoa(int(l))
}

func ledgerKey(name, session string, seq int) string {
	return fmt.Sprintf("%s%s/%s/%d", ledgerPrefix, name, session, seq)
}

func problemLevelPrefix(l Level) string { return problemPrefix + strconv.Itoa(int(l)) + "/" }

func problemKey(l Level, name, session string, seq int) string {
	return fmt.Sprintf("%s%s/%s/%d", problemLevelPrefix(l), name, session, seq)
}

// reservedNames cannot be player names: the key prefixes, places and words the game uses.
var reservedNames = map[string]bool{
	"place": true, "promoted": true, "ledger": true, "problem": true,
	"fence": true, "bridge": true, "nobody": true, "admin": true, "root": true,
}

// MaxNameLen bounds a player's name.
const MaxNameLen = 20

// checkName validates a player's name: 1 to MaxNameLen lower-case letters, digits, '-' or '_',
// starting with a letter, and not a reserved word, so it can never break out of its key.
func checkName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return fmt.Errorf("a name has 1 to %d characters", MaxNameLen)
	}
	if name[0] < 'a' || name[0] > 'z' {
		return fmt.Errorf("a name starts with a lower-case letter")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("a name has only lower-case letters, digits, '-' and '_'")
		}
	}
	if reservedNames[name] || strings.HasPrefix(name, "gates") {
		return fmt.Errorf("%q is reserved, pick another name", name)
	}
	return nil
}
