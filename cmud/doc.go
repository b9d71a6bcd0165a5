// Package cmud is CMUD, a multi-user text game whose whole world lives in a key-value store
// (normally ds440/kvstore), so players on different servers of one cluster share it.
//
// Players are students climbing the CS ladder (Undergraduate, Masters, PhD, PostDoc,
// Professor, Retired). They mine coins with their hardware, buy better hardware in the shop,
// walk between the Fence, the bridge and the nine floors of Gates, and solve the shared problem
// of their level: everyone at a level works on the same problem, and each time its health is
// used up, every player who was at that level is promoted on their next solve.
//
// # Design
//
// The game logic is plain code over the Store interface (Get, Put, List): Session.Step takes a
// command line and returns the text to show and the writes to make, with no I/O of its own, and
// the luck and pacing come from Config, so tests are deterministic. Session.Exec applies a step.
// The game keeps no state outside the store: a player can quit and resume on another server.
//
// # No lost updates on a last-writer-wins store
//
// kvstore resolves concurrent writes to one key by keeping the later one, so a counter updated
// from two places would lose increments. CMUD never updates a shared counter: every coin earned,
// purchase, breakage and unit of damage is a new key (see keys.go for the layout), unique to
// the player, the game process (a random session id) and a sequence number, and totals are sums
// over a List of a prefix. Two players solving the same problem on two servers, or one player on
// two devices, add keys side by side and nothing is overwritten, whatever the servers' clocks.
// Levels only grow (one key per level reached). The cost is that a player's ledger grows with
// their actions; at game scale (thousands of keys) a List stays cheap.
//
// Spending is checked against the balance the player's process sees, so two devices buying at
// the same instant on two servers could overspend by one purchase; the balance then shows
// negative until more is mined. Preventing it would need consensus, not a game's business.
package cmud
